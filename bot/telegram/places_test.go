package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestForeignChat: with a list of moderated chats, what comes from another
// group is not moderated, not even its commands: counted, logged once.
func TestForeignChat(t *testing.T) {
	f := newFakeBotAPI(t)
	reg := prometheus.NewRegistry()
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{group.id}, Registerer: reg})
	out := make(chan bot.Event, 10)
	run(t, c, out)

	f.push(map[string]any{"message": message(basic, 1, mallory, t0, "buy cheap followers")})
	f.push(map[string]any{"edited_message": with(message(basic, 1, mallory, t0, "buy followers"), "edit_date", t0+1)})
	f.push(map[string]any{"message": message(basic, 2, mallory, t0+2, "/pause")})
	f.push(map[string]any{"message": message(basic, 3, alice, t0+3, "/status")})
	f.push(map[string]any{"message": message(group, 4, bob, t0+4, "salut")})
	if ev := testsync.Next(t, out); ev.Space != itoa(group.id) {
		t.Errorf("event from chat %s handed to the rules", ev.Space)
	}
	noMoreEvents(t, out)
	for kind, want := range map[string]float64{"message": 1, "edit": 1, "command": 2} {
		if got := counter(t, reg, "vigie_foreign_events_total", "platform", "telegram", "kind", kind); got != want {
			t.Errorf("foreign %s counted %v, want %v", kind, got, want)
		}
	}
	if n := strings.Count(logs.String(), "ignoring a chat vigie does not moderate"); n != 1 {
		t.Errorf("the foreign chat logged %d times, want once:\n%s", n, logs)
	}
	if f.count("sendMessage", inChat(basic.id)) != 0 {
		t.Errorf("vigie answered in the foreign chat")
	}
}

// TestDemotedDeskAdmin: an admin of the desk chat demoted there loses the desk
// at once, from the chat_member update, not when the admin list is next asked.
// A desk admin's rights are the desk chat's: not in private.
func TestDemotedDeskAdmin(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(deskChat.id, carol.id)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, DeskAdmins: true, Chats: fixtureChats})
	book := newCaseBook(sampleCard("a1", at(t0)), sampleCard("a2", at(t0)))
	desk := c.Desk(book)
	run(t, c, make(chan bot.Event, 10))
	for _, id := range []string{"a1", "a2"} {
		if err := desk.PostCard(context.Background(), sampleCard(id, at(t0))); err != nil {
			t.Fatal(err)
		}
	}
	sent := f.waitFor("sendMessage", 2, inChat(deskChat.id))
	card := map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "card"}
	answered := func(id string) apiCall {
		return f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == id })
	}

	f.push(callback("q1", carol, card, "v1:a1:keep"))
	answered("q1")
	testsync.Eventually(t, "the desk admin's press decided", func() bool { return book.get("a1").DecidedBy == "telegram:8" })

	// Demoted in the desk chat; Telegram's list says so too, but vigie's list
	// is fresh for minutes.
	f.setAdmins(deskChat.id)
	f.push(map[string]any{"chat_member": map[string]any{
		"chat": deskChat.json(), "from": alice.json(), "date": t0 + 10,
		"old_chat_member": map[string]any{"user": carol.json(), "status": "administrator"},
		"new_chat_member": map[string]any{"user": carol.json(), "status": "member"},
	}})
	f.push(callback("q2", carol, card, "v1:a2:keep"))
	// answered at once; Telegram is asked whether Carol is an admin after
	answered("q2")
	toldOn(f, card, "sorry, only the community managers of this desk can decide cases.")
	if got := book.get("a2"); got.DecidedBy != "" {
		t.Errorf("case decided by %q after the demotion", got.DecidedBy)
	}
	if !strings.Contains(logs.String(), "desk: refused a stranger") {
		t.Errorf("the refusal is not audited:\n%s", logs)
	}
}

// TestDeskAdminOnlyInTheDeskChat: a desk admin's rights are the desk chat's;
// commands in private are for the CMs.
func TestDeskAdminOnlyInTheDeskChat(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(deskChat.id, carol.id)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, DeskAdmins: true, Chats: fixtureChats})
	c.Desk(newCaseBook())
	run(t, c, make(chan bot.Event, 10))
	private := tgChat{id: carol.id, kind: "private"}
	f.push(map[string]any{"message": message(private, 1, carol, t0, "/pause")})
	if got := f.waitFor("sendMessage", 1, inChat(carol.id)); !strings.Contains(got.Params.Get("text"), "Sorry") {
		t.Errorf("answer in private = %q", got.Params.Get("text"))
	}
	f.push(map[string]any{"message": message(deskChat, 2, carol, t0+1, "/status")})
	if got := f.waitFor("sendMessage", 1, inChat(deskChat.id)); strings.Contains(got.Params.Get("text"), "Sorry") {
		t.Errorf("answer in the desk chat = %q", got.Params.Get("text"))
	}
}
