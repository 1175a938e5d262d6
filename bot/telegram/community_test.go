package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A community's desk chat is a desk: its messages are not moderated, its
// card and alert go there, and a CM's button press there decides the case.
func TestCommunityDeskChat(t *testing.T) {
	shopDesk := tgChat{id: -1007777777777, kind: "supergroup", title: "Shop desk"}
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
	c.SetCommunityDesks([]int64{shopDesk.id})
	book := newCaseBook(sampleCard("s1", at(t0)))
	desk := c.Desk(book)
	out := make(chan bot.Event, 10)
	run(t, c, out)
	// the community's desk chat is a desk, not a moderated group: its
	// messages are no events
	f.push(map[string]any{"message": message(shopDesk, 30, bob, t0, "in the shop's desk")})
	f.push(map[string]any{"message": message(group, 31, bob, t0+1, "in the group")})
	if ev := testsync.Next(t, out); ev.Text != "in the group" {
		t.Errorf("first event %q, want the group's: the shop's desk chat is moderated", ev.Text)
	}
	card := sampleCard("s1", at(t0))
	card.Desk = "-1007777777777"
	if err := desk.PostCard(context.Background(), card); err != nil {
		t.Fatal(err)
	}
	sent := f.waitFor("sendMessage", 1, inChat(shopDesk.id))
	if err := desk.AlertIn(context.Background(), "-1007777777777", "raid on the shop's group"); err != nil {
		t.Fatal(err)
	}
	alert := f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return inChat(shopDesk.id)(c) && strings.Contains(c.Params.Get("text"), "raid on the shop")
	})
	if alert.Params.Get("text") == "" {
		t.Error("no alert in the shop's desk chat")
	}
	msg := map[string]any{"message_id": sent.MsgID, "from": vigieUser.json(), "chat": shopDesk.json(), "date": t0, "text": "card"}
	f.push(callback("q-shop", alice, msg, "v1:s1:keep"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-shop" })
	if got := book.get("s1"); got.DecidedBy != "telegram:42" {
		t.Errorf("the CM's keep in the shop's desk chat: decided by %q", got.DecidedBy)
	}
	bad := sampleCard("s2", at(t0))
	bad.Desk = "@shop"
	if err := desk.PostCard(context.Background(), bad); err == nil {
		t.Error("a card to a desk that is not a chat id was posted")
	}
}
