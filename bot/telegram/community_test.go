package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A community's desk chat is a desk: its messages are not moderated, its
// card and alert go there, and a CM's button press there decides the case.
func TestCommunityDeskChat(t *testing.T) {
	shopDesk := tgChat{id: -1007777777777, kind: "supergroup", title: "Shop desk"}
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	c.SetCommunityDesks(map[int64][]string{shopDesk.id: {"shop"}})
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
	testsync.Eventually(t, "the CM's keep in the shop's desk chat decided by them", func() bool { return book.get("s1").DecidedBy == "telegram:42" })
	bad := sampleCard("s2", at(t0))
	bad.Desk = "@shop"
	if err := desk.PostCard(context.Background(), bad); err == nil {
		t.Error("a card to a desk that is not a chat id was posted")
	}
}

// A CM of another community (Carol, of community other) is refused a shop
// case's button and a moderator's command in the shop's group, told whose
// it is, and audited; the file's CM (Alice) decides the case.
func TestCommunityCMRefused(t *testing.T) {
	f := newFakeBotAPI(t)
	// the platform knows the CMs of the file and of every community, as the daemon gives them
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42", "telegram:8"}, Chats: []int64{group.id}})
	knowAdmins(t, c, group.id)
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	rs, err := rules.Parse("rules.yaml", []byte(`
desk: {cms: ["telegram:42"]}
rules:
  - {name: spam, when: 'text contains "followers"', do: [forward]}
communities:
  shop: {places: ["telegram:`+itoa(group.id)+`"]}
  other:
    places: ["telegram:-1009999999999"]
    desk: {cms: ["telegram:8"]}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"telegram": c}, Store: st,
		Logger: testsync.Logger(logs), Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	mod.SetCommunities(rs)
	cmds.Mod = mod
	c.Desk(cmds)
	run(t, c, make(chan bot.Event, 100))

	spam := 101
	f.push(map[string]any{"message": message(group, spam, bob, t0, "buy cheap followers")})
	f.push(map[string]any{"message": with(message(group, 102, carol, t0, "/ban spam"), "reply_to_message", message(group, spam, bob, t0, "buy cheap followers"))})
	answer := f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":102}`) })
	if got := answer.Params.Get("text"); got != "Sorry, this place belongs to community shop: your rights are community other's." {
		t.Errorf("/ban by the other community's CM answered %q", got)
	}

	ev := bot.Event{ID: fmtMsgID(group.id, spam), Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: "7"}}
	cs, err := st.OpenCase(context.Background(), store.Case{Event: ev, Rule: "spam", Reason: "spam", Community: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	card := map[string]any{"message_id": 500, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "card"}
	f.push(callback("q-other", carol, card, "v1:"+cs.ID+":delete"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-other" })
	toldOn(f, card, "sorry, this case belongs to community shop")
	if got, _ := st.Case(context.Background(), cs.ID); got.Status != store.CaseOpen {
		t.Errorf("case after the refusal: %s by %s", got.Status, got.DecidedBy)
	}
	if n := f.count("banChatMember", nil) + f.count("deleteMessage", nil); n != 0 {
		t.Errorf("%d bans or deletes after refusals", n)
	}
	for _, want := range []string{`"moderator's command refused: a community's CM"`, `"desk: refused a community's CM"`} {
		if !strings.Contains(logs.String(), want) || !strings.Contains(logs.String(), "by=telegram:8") {
			t.Errorf("refusal %s not audited:\n%s", want, logs)
		}
	}

	// The reply button is refused at once, with no prompt to answer for nothing.
	f.push(callback("q-reply", carol, card, "v1:"+cs.ID+":reply"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-reply" })
	if got := toldOn(f, card, "sorry, this case belongs to community shop; your rights are community other&#39;s."); got == "" {
		t.Errorf("reply button by the other community's CM: nothing told")
	}
	if n := f.count("sendMessage", func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_markup"), "force_reply") }); n != 0 {
		t.Errorf("%d reply prompts for the other community's CM", n)
	}

	// /queue shows each CM the cases they may decide: none of shop's to Carol.
	queue := func(id int, from tgUser) string {
		t.Helper()
		f.push(map[string]any{"message": message(deskChat, id, from, t0, "/queue")})
		return f.waitFor("sendMessage", 1, func(c apiCall) bool {
			return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":`+itoa(int64(id))+`}`)
		}).Params.Get("text")
	}
	if got := queue(600, carol); got != "No open case." {
		t.Errorf("/queue by the other community's CM = %q", got)
	}
	if got := queue(601, alice); got != "1 open case(s), oldest first:" {
		t.Errorf("/queue by the file's CM = %q", got)
	}

	f.push(callback("q-file", alice, card, "v1:"+cs.ID+":keep"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-file" })
	testsync.Eventually(t, "the case decided by the file's CM", func() bool {
		got, _ := st.Case(context.Background(), cs.ID)
		return got.Status == store.CaseDecided && got.DecidedBy == "telegram:42"
	})
}
