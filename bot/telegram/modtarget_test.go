package telegram

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// The member a command names is its first word: a mention further on, in
// the reason, is someone the moderator spoke of, not the target.
func TestModTargetIsTheFirstWord(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "creator")
	w.say(bob, "spam")
	testsync.Eventually(t, "bob seen", func() bool { return w.c.recent.name(group.id, bob.id) != "" })
	for _, tc := range []struct {
		text string
		want string
	}{
		{"/warn 7 rude to Alice Cm", "Warned Bob Martin (a strike)."},
		{"/warn @bobm rude to Alice Cm", "Warned Bob Martin (a strike)."},
	} {
		mention := map[string]any{"type": "text_mention", "offset": utf16Len(tc.text) - len("Alice Cm"), "length": len("Alice Cm"), "user": alice.json()}
		if got := w.command(carol, tc.text, 0, "entities", []any{map[string]any{"type": "bot_command", "offset": 0, "length": 5}, mention}); got != tc.want {
			t.Errorf("%s = %q, want %q", tc.text, got, tc.want)
		}
	}
	// A mention that is the first word is the target, its text spaces and all.
	text := "/warn Alice Cm stop"
	mention := map[string]any{"type": "text_mention", "offset": 6, "length": len("Alice Cm"), "user": alice.json()}
	if got := w.command(carol, text, 0, "entities", []any{mention}); got != "Warned Alice (a strike)." {
		t.Errorf("%s = %q", text, got)
	}
	for _, who := range []tgUser{bob, alice} {
		want := map[int64]int{bob.id: 2, alice.id: 1}[who.id]
		if got, _ := w.st.Strikes(t.Context(), Platform, itoa(group.id), itoa(who.id), time.Now()); len(got) != want {
			t.Errorf("%s has %d strikes, want %d", who.first, len(got), want)
		}
	}
}
