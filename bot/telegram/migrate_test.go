package telegram

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// migrated answers every call about chat as the Bot API does once the group
// became a supergroup: 400, with the new id in migrate_to_chat_id.
func migrated(chat, to int64) func(string, url.Values) (int, string, bool) {
	return func(method string, p url.Values) (int, string, bool) {
		if p.Get("chat_id") != itoa(chat) {
			return 0, "", false
		}
		return 400, fmt.Sprintf(`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":%d}}`, to), false
	}
}

// The desk chat, a basic group, became a supergroup in the night: the cards
// and the pages still reach the CMs, in the new chat, and the CMs' commands
// there are the desk's; the log says which setting to change.
func TestDeskFollowsItsGroupToASupergroup(t *testing.T) {
	oldDesk := tgChat{id: -4002, kind: "group", title: "CM desk"}
	newDesk := tgChat{id: -1004002, kind: "supergroup", title: "CM desk"}
	f := newFakeBotAPI(t)
	f.SetTrouble(migrated(oldDesk.id, newDesk.id))
	c, logs := newTestClient(t, f, Config{DeskChat: oldDesk.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	book := newCaseBook()
	desk := c.Desk(book)
	run(t, c, make(chan bot.Event, 100))
	f.waitFor("getUpdates", 1, nil)

	if err := desk.PostCard(context.Background(), sampleCard("c1", at(t0))); err != nil {
		t.Fatalf("PostCard after the desk group moved: %v", err)
	}
	card := f.waitFor("sendMessage", 1, inChat(newDesk.id))
	if !strings.Contains(card.Params.Get("text"), "Case c1") {
		t.Errorf("sent to the new desk chat: %q", card.Params.Get("text"))
	}
	if !strings.Contains(logs.String(), "write the new id in VIGIE_DESK_CHAT") || !strings.Contains(logs.String(), "new_chat=-1004002") {
		t.Errorf("the log does not say which setting to change:\n%s", logs.String())
	}
	if err := desk.Page(context.Background(), "a wave of angry comments"); err != nil {
		t.Errorf("Page: %v", err)
	}
	f.waitFor("sendMessage", 2, inChat(newDesk.id))

	f.push(map[string]any{"message": message(newDesk, 700, alice, t0, "/status")})
	answer := f.waitFor("sendMessage", 3, inChat(newDesk.id))
	if !strings.HasPrefix(answer.Params.Get("text"), "mode: enforce") {
		t.Errorf("/status in the new desk chat answered %q", answer.Params.Get("text"))
	}
}

// A moderated group of the chat list that becomes a supergroup stays
// moderated: Telegram's service message names its new id.
func TestModeratedGroupFollowedToASupergroup(t *testing.T) {
	oldGroup := tgChat{id: -4003, kind: "group", title: "Fans"}
	newGroup := tgChat{id: -1004003, kind: "supergroup", title: "Fans"}
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{oldGroup.id}})
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 100)
	run(t, c, out)
	f.push(map[string]any{"message": with(message(oldGroup, 50, bob, t0, ""), "migrate_to_chat_id", newGroup.id)})
	f.push(map[string]any{"message": with(message(newGroup, 1, bob, t0, ""), "migrate_from_chat_id", oldGroup.id)})
	f.push(map[string]any{"message": message(newGroup, 2, bob, t0, "buy cheap followers")})
	for {
		select {
		case ev := <-out:
			if ev.Text != "buy cheap followers" {
				continue
			}
			if ev.Space != itoa(newGroup.id) {
				t.Errorf("event's space = %s", ev.Space)
			}
			if !strings.Contains(logs.String(), "write the new id in TELEGRAM_CHATS") {
				t.Errorf("the log does not say which setting to change:\n%s", logs.String())
			}
			return
		case <-time.After(testsync.Patience):
			t.Fatalf("the supergroup's message was not handed to the rules:\n%s", logs.String())
		}
	}
}

// A desk chat and a moderated group that became supergroups while no vigie
// ran (or while another instance took the service messages): the
// configuration still names their old ids. vigie asks Telegram about the
// basic groups it names, learns their new ids, and the CMs' commands in the
// new desk chat and the new supergroup's messages are taken, not ignored as
// a chat vigie does not moderate.
func TestMovesLearnedWithoutTheServiceMessages(t *testing.T) {
	oldDesk, newDesk := int64(-4002), tgChat{id: -1001000004002, kind: "supergroup", title: "CM desk"}
	oldGroup, newGroup := int64(-4003), tgChat{id: -1001000004003, kind: "supergroup", title: "Fans"}
	f := newFakeBotAPI(t)
	f.Migrate(oldDesk, newDesk.id)
	f.Migrate(oldGroup, newGroup.id)
	c, logs := newTestClient(t, f, Config{DeskChat: oldDesk, CMs: []string{"telegram:42"}, Chats: []int64{oldGroup}})
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 100)
	run(t, c, out)

	f.push(map[string]any{"message": message(newGroup, 2, bob, t0, "buy cheap followers")})
	f.push(map[string]any{"message": message(newDesk, 700, alice, t0, "/status")})
	answer := f.waitFor("sendMessage", 1, inChat(newDesk.id))
	if !strings.HasPrefix(answer.Params.Get("text"), "mode: enforce") {
		t.Errorf("/status in the new desk chat answered %q", answer.Params.Get("text"))
	}
	select {
	case ev := <-out:
		if ev.Space != itoa(newGroup.id) || ev.Text != "buy cheap followers" {
			t.Errorf("event %s in %s: %q", ev.ID, ev.Space, ev.Text)
		}
	case <-time.After(testsync.Patience):
		t.Fatalf("the new supergroup's message was not handed to the rules:\n%s", logs.String())
	}
	for _, want := range []string{"write the new id in VIGIE_DESK_CHAT", "write the new id in TELEGRAM_CHATS"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), "ignoring a chat vigie does not moderate") {
		t.Errorf("a moved chat was ignored:\n%s", logs.String())
	}
}

// A moderated group moves while vigie runs, and the service messages went to
// another instance: the first update from the new supergroup makes vigie ask
// about the group's old id, and the group is followed from that message on.
// A supergroup vigie does not know makes it ask at its first update; later
// updates ask once per askGap in all, and not about a group known to have
// moved.
func TestMoveLearnedFromAnUnknownSupergroup(t *testing.T) {
	oldGroup, newGroup := int64(-4005), tgChat{id: -1001000004005, kind: "supergroup", title: "Fans"}
	other := tgChat{id: -1001000009999, kind: "supergroup", title: "Elsewhere"}
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: []int64{oldGroup}})
	clock := &fakeClock{t: time.Unix(t0, 0)}
	c.moved.now = clock.now
	c.Desk(newCaseBook())
	out := make(chan bot.Event, 100)
	run(t, c, out)
	f.waitFor("getChat", 1, inChat(oldGroup)) // at start: not moved yet
	f.push(map[string]any{"message": message(other, 1, bob, t0, "hello")})
	f.waitFor("getChat", 2, inChat(oldGroup)) // a chat vigie does not know: not moved yet

	f.Migrate(oldGroup, newGroup.id)
	f.push(map[string]any{"message": message(other, 2, bob, t0, "hello again")}) // asks no more
	f.push(map[string]any{"message": message(newGroup, 3, bob, t0, "buy cheap followers")})
	select {
	case ev := <-out:
		if ev.Space != itoa(newGroup.id) || ev.Text != "buy cheap followers" {
			t.Errorf("event %s in %s: %q", ev.ID, ev.Space, ev.Text)
		}
	case <-time.After(testsync.Patience):
		t.Fatalf("the new supergroup's message was not handed to the rules:\n%s", logs.String())
	}
	if n := f.count("getChat", inChat(oldGroup)); n != 3 {
		t.Errorf("the old id was asked about %d times, want 3 (at start, at the first update of each supergroup vigie did not know)", n)
	}
	if !strings.Contains(logs.String(), "write the new id in TELEGRAM_CHATS") {
		t.Errorf("the log does not say which setting to change:\n%s", logs.String())
	}
	clock.add(askGap)
	f.push(map[string]any{"message": message(other, 4, bob, t0, "a minute later")})
	f.push(map[string]any{"message": message(newGroup, 5, bob, t0, "still here")})
	select {
	case <-out:
	case <-time.After(testsync.Patience):
		t.Fatalf("the new supergroup's next message was not handed to the rules:\n%s", logs.String())
	}
	if n := f.count("getChat", inChat(oldGroup)); n != 3 {
		t.Errorf("a group known to have moved was asked about again: %d questions", n)
	}
}

// A message stays in the chat it was posted in; only the messages to come
// follow a group that moved. The desk chat moves between two cards: the
// first card's decision is not written over whatever bears its id in the
// new chat, the second card is recorded where it went and edited there; a
// mod-log line posted after the move is posted and edited in the new chat;
// an answer to a message of a moderated group that moved is posted in its
// new chat without pointing at a message of the old.
func TestMessagesStayWhereTheyWerePosted(t *testing.T) {
	oldDesk, newDesk := tgChat{id: -4002, kind: "group", title: "CM desk"}, tgChat{id: -1001000004002, kind: "supergroup", title: "CM desk"}
	oldGroup, newGroup := tgChat{id: -4003, kind: "group", title: "Fans"}, tgChat{id: -1001000004003, kind: "supergroup", title: "Fans"}
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{DeskChat: oldDesk.id, CMs: []string{"telegram:42"}, Chats: []int64{oldGroup.id}})
	st := memory.New()
	cmds := &moderatorCommands{desktest.Commands{Store: st}}
	mod, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{"telegram": c}, Store: st,
		Desk: desktest.Desk{Poster: c.Desk(cmds)}, Logger: testsync.Logger(logs),
		Retry: handlers.Retry{Base: time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	cmds.Mod = mod
	run(t, c, make(chan bot.Event, 100))
	ctx := context.Background()
	openCase := func(msg int) string {
		t.Helper()
		ev := groupEvent(msg, strconv.Itoa(70+msg))
		cs, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: fmt.Sprint("scam", msg), Category: "spam", Reason: "a link"})
		if err != nil {
			t.Fatal(err)
		}
		mod.FlushCases(ctx)
		return cs.ID
	}
	cardOf := func(id string) bot.CardRef {
		t.Helper()
		refs, err := st.CaseCards(ctx, id)
		if err != nil || len(refs) != 1 {
			t.Fatalf("cards of %s: %v, %v", id, refs, err)
		}
		return refs[0]
	}

	first := openCase(10)
	if ref := cardOf(first); ref.Chat != itoa(oldDesk.id) {
		t.Fatalf("first card recorded in %s, want the desk chat %d", ref.Chat, oldDesk.id)
	}
	f.Migrate(oldDesk.id, newDesk.id)
	f.Migrate(oldGroup.id, newGroup.id)
	f.push(map[string]any{"message": with(message(oldGroup, 60, bob, t0, ""), "migrate_to_chat_id", newGroup.id)})
	testsync.Eventually(t, "the group's move learned", func() bool { return strings.Contains(logs.String(), "new_chat=-1001000004003") })

	second := openCase(11) // learns the desk's move from Telegram's refusal
	ref := cardOf(second)
	if ref.Chat != itoa(newDesk.id) {
		t.Errorf("second card recorded in %s, want the new desk chat %d", ref.Chat, newDesk.id)
	}
	for _, id := range []string{first, second} {
		if _, err := mod.Decide(ctx, id, "keep", "telegram:42"); err != nil {
			t.Fatalf("decide %s: %v", id, err)
		}
	}
	f.waitFor("editMessageText", 1, func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(newDesk.id) && call.Params.Get("message_id") == ref.Message
	})
	firstMsg := cardOf(first).Message
	if n := f.count("editMessageText", func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(newDesk.id) && call.Params.Get("message_id") == firstMsg
	}); n != 0 {
		t.Errorf("the first card's decision was written on message %s of the new desk chat, another message", firstMsg)
	}

	id, err := c.PostLog(ctx, itoa(oldDesk.id), "🗑 delete in Fans")
	if err != nil {
		t.Fatalf("PostLog in a log chat that moved: %v", err)
	}
	line := f.waitFor("sendMessage", 1, func(call apiCall) bool { return strings.Contains(call.Params.Get("text"), "delete in Fans") })
	if line.Params.Get("chat_id") != itoa(newDesk.id) {
		t.Errorf("mod-log line posted in %s", line.Params.Get("chat_id"))
	}
	if err := c.EditLog(ctx, itoa(oldDesk.id), id, "🗑 2× delete in Fans"); err != nil {
		t.Fatalf("EditLog: %v", err)
	}
	f.waitFor("editMessageText", 1, func(call apiCall) bool {
		return call.Params.Get("chat_id") == itoa(newDesk.id) && call.Params.Get("message_id") == strconv.Itoa(line.MsgID)
	})

	ev := bot.Event{ID: fmtID(oldGroup.id, 50), Platform: Platform, Space: itoa(oldGroup.id), Channel: itoa(oldGroup.id), Author: bot.Author{ID: itoa(bob.id)}}
	if err := c.Reply(ctx, ev, "Merci de rester courtois"); err != nil {
		t.Fatalf("Reply in a group that moved: %v", err)
	}
	reply := f.waitFor("sendMessage", 1, func(call apiCall) bool { return strings.Contains(call.Params.Get("text"), "courtois") })
	if reply.Params.Get("chat_id") != itoa(newGroup.id) || reply.Params.Get("reply_parameters") != "" {
		t.Errorf("answer posted in %s answering %q; want the new chat, answering no message of the old",
			reply.Params.Get("chat_id"), reply.Params.Get("reply_parameters"))
	}
}
