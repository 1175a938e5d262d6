package telegram

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// instance is one vigie process's desk: its own client, store connection
// and handlers, sharing the Bot API and Redis with the others.
type instance struct {
	c    *Client
	st   *redis.Store
	mod  *handlers.Moderator
	logs *testsync.Buffer
}

var cardPrefixes atomic.Int64

// newInstances starts n desks on one Redis (their own keys in it) and one
// fake Bot API, wired as the daemon wires them; none polls yet.
func newInstances(t *testing.T, f *fakeBotAPI, n int) []*instance {
	url := redistest.URL(t)
	prefix := fmt.Sprintf("vigietest-tgcards-%d-%d", os.Getpid(), cardPrefixes.Add(1))
	var out []*instance
	for i := range n {
		c, logs := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
		knowAdmins(t, c, group.id)
		st := redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithConsumer(fmt.Sprint("instance-", i)))
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
		out = append(out, &instance{c: c, st: st, mod: mod, logs: logs})
	}
	return out
}

// TestCardsAcrossInstances: process A posts the cards and stops; process B,
// on the same Redis, shows every decision on A's cards, whether it was taken
// by a call (as the HTTP API, the console and `vigie cases decide` make it),
// by a button pressed in B's desk, or by an answer to a reply prompt A asked
// for. A card Telegram refuses to edit is logged, not retried, and no
// decision is lost; one it cannot edit now is tried again.
func TestCardsAcrossInstances(t *testing.T) {
	f := newFakeBotAPI(t)
	in := newInstances(t, f, 2)
	a, b := in[0], in[1]
	ctx := context.Background()

	stopA := run(t, a.c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)
	var ids []string
	// Rules and authors of their own: no case is grouped with another.
	for i := range 5 {
		ev := groupEvent(10+i, strconv.Itoa(70+i))
		ev.Text = fmt.Sprintf("achetez sur scam.example (%d)", i)
		c, err := a.st.OpenCase(ctx, store.Case{Event: ev, Rule: fmt.Sprint("scam", i), Category: "spam", Reason: "a link to scam.example",
			Suggested: []bot.Action{{Kind: bot.ActDelete}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	a.mod.FlushCases(ctx)
	posted := f.callsOf("sendMessage")
	if len(posted) != len(ids) {
		t.Fatalf("%d cards posted, want %d", len(posted), len(ids))
	}
	// What B reads from the store is where A posted them.
	msgOf := map[string]int{}
	for i, id := range ids {
		cards, err := b.st.CaseCards(ctx, id)
		want := bot.CardRef{Platform: "telegram", Chat: strconv.FormatInt(deskChat.id, 10), Message: strconv.Itoa(posted[i].MsgID)}
		if err != nil || len(cards) != 1 || cards[0] != want {
			t.Fatalf("cards of %s read by B = %v, %v; want %v", id, cards, err, want)
		}
		msgOf[id] = posted[i].MsgID
	}
	cardMsg := func(id string) map[string]any {
		return map[string]any{"message_id": msgOf[id], "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case " + id}
	}
	editOf := func(id string, n int) apiCall {
		t.Helper()
		return f.waitFor("editMessageText", n, func(c apiCall) bool {
			return c.Params.Get("chat_id") == strconv.FormatInt(deskChat.id, 10) && c.Params.Get("message_id") == strconv.Itoa(msgOf[id])
		})
	}

	// A CM asks A for a reply on the third card; A prompts, takes no more
	// updates (the next poll confirms the press) and stops.
	press := f.push(callback("cb-reply", alice, cardMsg(ids[2]), "v1:"+ids[2]+":reply"))
	prompt := f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("reply_markup"), "force_reply") })
	f.waitFor("getUpdates", 1, func(c apiCall) bool { n, _ := strconv.Atoi(c.Params.Get("offset")); return n > press })
	stopA()
	polls := f.count("getUpdates", nil)

	t.Run("decided by a call to B", func(t *testing.T) {
		c, err := b.mod.Decide(ctx, ids[0], "delete", "http:ann")
		if err != nil || c.Status != store.CaseDecided {
			t.Fatalf("Decide = %+v, %v", c, err)
		}
		edit := editOf(ids[0], 1)
		text := edit.Params.Get("text")
		if !strings.Contains(text, "Deleted") || !strings.Contains(text, "decided by http:ann") {
			t.Errorf("card edited by B:\n%s", text)
		}
		if edit.Params.Get("reply_markup") != "" {
			t.Errorf("the decided card keeps its buttons: %s", edit.Params.Get("reply_markup"))
		}
	})

	// B takes the updates over.
	run(t, b.c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", polls+1, nil)

	t.Run("decided by a button pressed in B", func(t *testing.T) {
		f.push(callback("cb-ban", alice, cardMsg(ids[1]), "v1:"+ids[1]+":ban"))
		answer := f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "cb-ban" })
		if answer.Params.Get("text") != pressWait {
			t.Errorf("answer = %q", answer.Params.Get("text"))
		}
		text := editOf(ids[1], 1).Params.Get("text")
		if !strings.Contains(text, "Banned") || !strings.Contains(text, "decided by Alice (@alice_cm)") {
			t.Errorf("card edited by B:\n%s", text)
		}
		if c, _ := b.st.Case(ctx, ids[1]); c.Outcome != "ban" || c.DecidedBy != "telegram:42" {
			t.Errorf("case = %+v", c)
		}
	})

	t.Run("the answer to A's reply prompt reaches B", func(t *testing.T) {
		promptMsg := map[string]any{"message_id": prompt.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0,
			"text": "✍️ Alice, answer this message with the text to send.\n" + promptMarker + ids[2]}
		f.push(map[string]any{"message": with(message(deskChat, 700, alice, t0+60, "Merci, votre message a été retiré."), "reply_to_message", promptMsg)})
		f.waitFor("sendMessage", 1, func(c apiCall) bool { return strings.Contains(c.Params.Get("text"), "Reply sent for case "+ids[2]) })
		reply := f.waitFor("sendMessage", 1, inChat(group.id))
		if reply.Params.Get("text") != "Merci, votre message a été retiré." {
			t.Errorf("reply sent = %q", reply.Params.Get("text"))
		}
		if text := editOf(ids[2], 1).Params.Get("text"); !strings.Contains(text, "Answered") || !strings.Contains(text, "decided by Alice (@alice_cm)") {
			t.Errorf("card edited by B:\n%s", text)
		}
	})

	t.Run("a card Telegram will not edit", func(t *testing.T) {
		f.fail("editMessageText", 400, "Bad Request: message can't be edited", 0)
		c, err := b.mod.Decide(ctx, ids[3], "keep", "http:ann")
		if err != nil || c.Status != store.CaseDecided {
			t.Fatalf("Decide = %+v, %v; want it decided whatever became of the card", c, err)
		}
		editOf(ids[3], 1)
		testsync.Eventually(t, "the refused edit logged", func() bool {
			return strings.Contains(b.logs.String(), "a card does not show the case's decision") &&
				strings.Contains(b.logs.String(), "message can't be edited")
		})
		if n := f.count("editMessageText", func(c apiCall) bool { return c.Params.Get("message_id") == strconv.Itoa(msgOf[ids[3]]) }); n != 1 {
			t.Errorf("%d edits of a card Telegram refused, want 1 (no retry)", n)
		}
	})

	t.Run("a card Telegram cannot edit now is tried again", func(t *testing.T) {
		f.fail("editMessageText", 429, "Too Many Requests: retry after 1", 1)
		if _, err := b.mod.Decide(ctx, ids[4], "keep", "http:ann"); err != nil {
			t.Fatal(err)
		}
		if text := editOf(ids[4], 2).Params.Get("text"); !strings.Contains(text, "Kept") {
			t.Errorf("card after the retry:\n%s", text)
		}
	})
}
