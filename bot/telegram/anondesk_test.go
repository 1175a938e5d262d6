package telegram

import (
	"strings"
	"testing"
)

// TestAnonymousAdminOnTheDesk: an administrator of the desk chat who writes
// as the chat ("Remain anonymous") cannot be told apart from any other, so
// their command is refused, CM or not; they are told what to turn off rather
// than that only the CMs may command.
func TestAnonymousAdminOnTheDesk(t *testing.T) {
	x := newDeskFixture(t)
	anon := tgUser{id: anonymousAdmin, first: "Group", user: "GroupAnonymousBot", bot: true}
	x.f.push(map[string]any{"message": with(message(deskChat, 300, anon, t0, "/pause"), "sender_chat", deskChat.json())})
	answer := x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":300}`) })
	if got := answer.Params.Get("text"); !strings.Contains(got, "Remain anonymous") {
		t.Errorf("an anonymous administrator's /pause answered %q, want told to turn anonymity off", got)
	}
	if p, _ := x.book.isPaused(); p {
		t.Error("an anonymous administrator paused vigie")
	}
}
