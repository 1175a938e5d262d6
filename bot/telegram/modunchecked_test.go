package telegram

import (
	"strings"
	"testing"
)

// Telegram not answering whether a moderator may command (a 429 in a raid,
// a 5xx) is no refusal: an administrator was told the command was not
// theirs, and, told once per 10 minutes, heard nothing of their next tries.
// They are told vigie could not check, nothing done, each time; their
// command once Telegram answers is carried out.
func TestModRightsUncheckedIsNoRefusal(t *testing.T) {
	w := newModWorld(t)
	w.f.waitFor("getChatMember", 1, userIs(botUserID)) // vigie's own rights, at start: not the failure's
	w.f.setMember(group.id, carol.id, "administrator", "can_restrict_members")
	spam := w.say(bob, "buy cheap followers")
	const want = "Nothing done: vigie could not ask Telegram whether you may ban users here"
	for range 2 {
		w.f.fail("getChatMember", 429, "Too Many Requests: retry after 5", 5)
		if got := w.command(carol, "/ban", spam); !strings.HasPrefix(got, want) || !strings.Contains(got, "send /ban again") {
			t.Errorf("answer = %q, want %q…", got, want)
		}
	}
	if n := w.f.count("banChatMember", nil); n != 0 {
		t.Errorf("%d bans with the rights unchecked", n)
	}
	if n := w.f.count("sendMessage", inChat(carol.id)); n != 0 {
		t.Errorf("%d refusals in private", n)
	}
	if got := w.command(carol, "/ban", spam); got != "Banned Bob Martin." {
		t.Errorf("answer once Telegram answers = %q", got)
	}
}
