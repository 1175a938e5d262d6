package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// /queue in a community's desk chat posts that community's open cases, not
// every community's: a CM of the file's desk who asks there does not show
// another brand's members' messages to the chat of this one. In the file's
// desk chat, and in a CM's private chat, it is the CM's whole queue.
func TestQueueInACommunityDeskChat(t *testing.T) {
	shopDesk := tgChat{id: -1007777777777, kind: "supergroup", title: "Shop desk"}
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	c.SetCommunityDesks(map[int64][]string{shopDesk.id: {"shop"}})
	shop, bakery, none := sampleCard("s1", at(t0)), sampleCard("b1", at(t0+1)), sampleCard("n1", at(t0+2))
	shop.Community, bakery.Community = "shop", "bakery"
	shop.Event.Text, bakery.Event.Text, none.Event.Text = "shop's member", "bakery's member", "a member of no community"
	c.Desk(newCaseBook(shop, bakery, none))
	run(t, c, make(chan bot.Event, 10))

	cards := func(chat tgChat) []string {
		var out []string
		for _, call := range f.callsOf("sendMessage") {
			if call.Params.Get("chat_id") == itoa(chat.id) && strings.HasPrefix(call.Params.Get("text"), "<b>Case ") {
				out = append(out, call.Params.Get("text"))
			}
		}
		return out
	}
	f.push(map[string]any{"message": message(shopDesk, 40, alice, t0+10, "/queue")})
	f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return inChat(shopDesk.id)(c) && strings.Contains(c.Params.Get("text"), "open case")
	})
	testsync.Eventually(t, "the queue posted", func() bool { return c.work.Busy() == 0 })
	if got := cards(shopDesk); len(got) != 1 || !strings.Contains(got[0], "shop&#39;s member") {
		t.Errorf("cards in the shop's desk chat = %q, want the shop's alone", got)
	}
	f.push(map[string]any{"message": message(deskChat, 41, alice, t0+11, "/queue")})
	testsync.Eventually(t, "the file's desk chat given the whole queue", func() bool { return len(cards(deskChat)) == 3 })
}
