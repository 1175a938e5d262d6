package telegram

import (
	"strings"
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

// A command answering a message and naming a member first is about the
// member named, as in the bots moderators come from: answering a member's
// report ("@admins Bob spams") with "/ban @bobm" bans Bob, not the one who
// reported. An @username vigie has not seen there is not taken for the
// reason: nothing is done, rather than the reporter banned.
func TestModNamedMemberOverTheReply(t *testing.T) {
	w := newModWorld(t)
	w.f.setMember(group.id, carol.id, "creator")
	w.say(bob, "spam")
	report := w.say(mallory, "@admins Bob spams")
	testsync.Eventually(t, "bob seen", func() bool { return w.c.recent.name(group.id, bob.id) != "" })
	reply := message(group, report, mallory, t0, "@admins Bob spams")
	if got := w.command(carol, "/ban @bobm spam", 0, "reply_to_message", reply); got != "Banned Bob Martin." {
		t.Errorf("/ban @bobm answering mallory = %q", got)
	}
	w.f.waitFor("banChatMember", 1, userIs(bob.id))
	if got := w.command(carol, "/warn @ghost", 0, "reply_to_message", reply); !strings.HasPrefix(got, "Nothing done: vigie has not seen @ghost write here") {
		t.Errorf("/warn @ghost answering mallory = %q", got)
	}
	testsync.Eventually(t, "the commands taken", func() bool { return w.c.work.Busy() == 0 })
	if n := w.f.count("banChatMember", userIs(mallory.id)); n != 0 {
		t.Errorf("mallory, who reported, banned %d times", n)
	}
	if got, _ := w.st.Strikes(t.Context(), Platform, itoa(group.id), itoa(mallory.id), time.Now()); len(got) != 0 {
		t.Errorf("mallory, who reported, has %d strikes", len(got))
	}
	// Answering the member with a reason that starts with a word is as before.
	if got := w.command(carol, "/warn stop it", 0, "reply_to_message", reply); got != "Warned Mallory (a strike)." {
		t.Errorf("/warn answering mallory = %q", got)
	}
}
