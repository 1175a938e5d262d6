package telegram

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// A CM's command in a desk chat that Telegram's limits leave no room in
// before the command's time is up (a raid's cards took the chat's twenty
// messages a minute) is answered in the CM's private chat at once, saying
// why, rather than not at all. (The answer once waited for the desk chat
// past the command's time, and was lost: only the log said "cannot answer
// a command".)
func TestCommandAnsweredInPrivateWhenTheDeskChatIsFull(t *testing.T) {
	// One message a minute in a group: the desk chat is full after one.
	w := newStrangerWorld(t, limits{perChatGap: time.Millisecond, groupPerMinute: 1, globalPerSecond: 1000})
	first := w.say(deskChat, alice, "/status")
	w.f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":`+strconv.Itoa(first)+`}`)
	})
	w.say(deskChat, alice, "/help")
	told := w.f.waitFor("sendMessage", 1, inChat(alice.id))
	if text := told.Params.Get("text"); !strings.Contains(text, "vigie's desk commands") || !strings.Contains(text, "limit") {
		t.Errorf("told in private:\n%s\nwant the answer, and why it comes here", text)
	}
	if n := w.f.count("sendMessage", inChat(deskChat.id)); n != 1 {
		t.Errorf("%d messages in the desk chat, want the first answer only", n)
	}
}
