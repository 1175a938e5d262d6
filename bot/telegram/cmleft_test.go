package telegram

import (
	"strconv"
	"strings"
	"testing"
)

// TestCMRemovedFromTheDeskChat: a CM of desk.cms whom the desk chat's owner
// removes from it (a CM who has left the team, a phone lost) loses the desk
// at once, before anyone edits the rule file: her commands in private are
// refused, saying why, and so are the moderators' commands she gives in a
// group where she holds no right of her own. Telegram is asked at each
// command, as for the desk chat's administrators: no update may say it. Back
// in the desk chat, she commands again. A CM who writes in the desk chat is
// in it, and is not asked about.
func TestCMRemovedFromTheDeskChat(t *testing.T) {
	x := newDeskFixture(t)
	private := tgChat{id: alice.id, kind: "private"}
	msgID := 100
	send := func(t *testing.T, chat tgChat, text string) string {
		t.Helper()
		msgID++
		id := strconv.Itoa(msgID)
		x.f.push(map[string]any{"message": message(chat, msgID, alice, t0+int64(msgID), text)})
		answer := x.f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":`+id+`}`) ||
				c.Params.Get("chat_id") == strconv.FormatInt(alice.id, 10) && strings.Contains(c.Params.Get("text"), "/"+strings.Fields(text)[0][1:])
		})
		return answer.Params.Get("text")
	}

	x.f.setMember(deskChat.id, alice.id, "kicked")
	if got := send(t, private, "/pause"); !strings.Contains(got, "desk chat") {
		t.Errorf("/pause in private from a CM removed from the desk chat answered %q, want refused as out of the desk chat", got)
	}
	if p, _ := x.book.isPaused(); p {
		t.Fatal("a CM removed from the desk chat paused vigie")
	}
	if logs := x.logs.String(); !strings.Contains(logs, "not in the desk chat") || !strings.Contains(logs, "user=telegram:42") {
		t.Errorf("the refusal is not in the audit log:\n%s", logs)
	}
	n := x.f.count("banChatMember", nil)
	victim := message(group, 50, bob, t0, "hello")
	x.f.push(map[string]any{"message": victim})
	ban := with(message(group, 51, alice, t0+1, "/ban"), "reply_to_message", victim)
	x.f.push(map[string]any{"message": ban})
	x.f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "/ban") })
	if got := x.f.count("banChatMember", nil); got != n {
		t.Errorf("a CM removed from the desk chat banned a member with /ban")
	}

	x.f.setMember(deskChat.id, alice.id, "member")
	if got := send(t, private, "/pause"); !strings.Contains(got, "paused") {
		t.Errorf("/pause in private from a CM back in the desk chat answered %q", got)
	}
	asked := x.f.count("getChatMember", func(c apiCall) bool { return c.Params.Get("user_id") == "42" })
	if got := send(t, deskChat, "/resume"); !strings.Contains(got, "resume") && !strings.Contains(got, "Resume") {
		t.Errorf("/resume in the desk chat answered %q", got)
	}
	if got := x.f.count("getChatMember", func(c apiCall) bool { return c.Params.Get("user_id") == "42" }); got != asked {
		t.Errorf("a CM writing in the desk chat was looked up (%d calls, had %d)", got, asked)
	}
}
