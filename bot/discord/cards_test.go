package discord

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// instance is one vigie process's desk: its own client, store connection
// and handlers, sharing Discord and Redis with the others.
type instance struct {
	c    *Client
	st   *redis.Store
	mod  *handlers.Moderator
	logs *testsync.Buffer
}

var cardPrefixes atomic.Int64

// runDelivering runs in's client, and delivers its cases to the desk until
// the test ends, with the context it returns.
func (in *instance) runDelivering(t *testing.T, f *discordfake.Server) context.Context {
	t.Helper()
	run(t, f, in.c, make(chan bot.Event, 10), allPerms)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { in.mod.DeliverCases(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return ctx
}

// handleScam has in's moderator carry out, in the background, a rule's
// acts on bob's "FREE NITRO" (message msgID in general, at at): Handle's
// answer comes on the channel.
func (in *instance) handleScam(msgID string, at time.Time, acts ...bot.Action) <-chan error {
	ev := bot.Event{ID: msgID, Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}, Text: "FREE NITRO", At: at}
	v := bot.Verdict{EventID: ev.ID, Platform: "discord", At: ev.At, Matches: []bot.Match{{Rule: "scam", Category: "spam", Actions: acts}}}
	handled := make(chan error, 1)
	go func() { handled <- in.mod.Handle(context.Background(), ev, v) }()
	return handled
}

// newInstances makes n desks on one Redis (their own keys in it) and one
// fake Discord, wired as the daemon wires them; none is connected yet.
// opts change their moderators' options.
func newInstances(t *testing.T, f *discordfake.Server, n int, opts ...func(*handlers.Options)) []*instance {
	url := redistest.URL(t)
	prefix := fmt.Sprintf("vigietest-dccards-%d-%d", os.Getpid(), cardPrefixes.Add(1))
	var out []*instance
	for i := range n {
		c, logs := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}, ModeratorRoles: []string{"Moderator"}})
		st := redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithConsumer(fmt.Sprint("instance-", i)))
		cmds := &desktest.Commands{Store: st}
		o := handlers.Options{
			Platforms: map[string]bot.Platform{"discord": c}, Store: st,
			Desk: desktest.Desk{Poster: c.Desk(cmds)}, Logger: testsync.Logger(logs),
			Retry: handlers.Retry{Base: 1},
		}
		for _, opt := range opts {
			opt(&o)
		}
		mod, err := handlers.New(o)
		if err != nil {
			t.Fatal(err)
		}
		cmds.Mod = mod
		out = append(out, &instance{c: c, st: st, mod: mod, logs: logs})
	}
	return out
}

// TestCardsAcrossInstances: process A posts the cards; process B, on the
// same Redis and connected to the gateway, shows every decision on A's
// cards, whether it was taken by a call (as the HTTP API, the console and
// `vigie cases decide` make it) or by a button pressed in B's desk. A card
// Discord refuses to edit is logged, not retried, and no decision is lost;
// one it cannot edit now is tried again.
func TestCardsAcrossInstances(t *testing.T) {
	f := newFakeDiscord(t)
	in := newInstances(t, f, 2)
	a, b := in[0], in[1]
	ctx := context.Background()

	var ids []string
	// Rules and authors of their own: no case is grouped with another.
	for i := range 4 {
		ev := bot.Event{ID: fmt.Sprint(1100 + i), Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: fmt.Sprint(1200 + i), Name: "Bob"}, Text: "free nitro on https://scam.example/gift"}
		c, err := a.st.OpenCase(ctx, store.Case{Event: ev, Rule: fmt.Sprint("scam", i), Category: "spam", Reason: "scam link",
			Suggested: []bot.Action{{Kind: bot.ActDelete}}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	a.mod.FlushCases(ctx)
	msgOf := map[string]string{}
	for _, id := range ids {
		cards, err := b.st.CaseCards(ctx, id)
		if err != nil || len(cards) != 1 || cards[0].Platform != "discord" || cards[0].Chat != deskID || cards[0].Message == "" {
			t.Fatalf("cards of %s read by B = %v, %v; want the one A posted", id, cards, err)
		}
		msgOf[id] = cards[0].Message
	}
	if n := f.Count("POST", "/channels/"+deskID+"/messages"); n != len(ids) {
		t.Fatalf("%d cards posted, want %d", n, len(ids))
	}
	editOf := func(id string, n int) discordfake.Call {
		t.Helper()
		return f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+msgOf[id], n, nil)
	}
	run(t, f, b.c, make(chan bot.Event, 10), allPerms)

	t.Run("decided by a call to B", func(t *testing.T) {
		c, err := b.mod.Decide(ctx, ids[0], "delete", "http:ann")
		if err != nil || c.Status != store.CaseDecided {
			t.Fatalf("Decide = %+v, %v", c, err)
		}
		edit := editOf(ids[0], 1)
		if content := fmt.Sprint(edit.Body["content"]); !strings.Contains(content, "Deleted") || !strings.Contains(content, "decided by http:ann") {
			t.Errorf("card edited by B:\n%s", content)
		}
		if comps, _ := edit.Body["components"].([]any); comps == nil || len(comps) != 0 {
			t.Errorf("buttons left on the card: %s", edit.Raw)
		}
	})

	t.Run("decided by a button pressed in B", func(t *testing.T) {
		f.Dispatch("INTERACTION_CREATE", press("960000000000000011", mod, msgOf[ids[1]], customID(ids[1], "ban")))
		f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/1201", 1, nil)
		if content := fmt.Sprint(editOf(ids[1], 1).Body["content"]); !strings.Contains(content, "Banned") || !strings.Contains(content, "Mo (discord:"+mod.id+")") {
			t.Errorf("card edited by B:\n%s", content)
		}
		if c, _ := b.st.Case(ctx, ids[1]); c.Outcome != "ban" || c.DecidedBy != "discord:"+mod.id {
			t.Errorf("case = %+v", c)
		}
	})

	t.Run("a card Discord will not edit", func(t *testing.T) {
		f.Fail("PATCH", "/channels/"+deskID+"/messages/"+msgOf[ids[2]], http.StatusNotFound, `{"message": "Unknown Message", "code": 10008}`, nil, 1)
		c, err := b.mod.Decide(ctx, ids[2], "keep", "http:ann")
		if err != nil || c.Status != store.CaseDecided {
			t.Fatalf("Decide = %+v, %v; want it decided whatever became of the card", c, err)
		}
		editOf(ids[2], 1)
		testsync.Eventually(t, "the refused edit logged", func() bool {
			return strings.Contains(b.logs.String(), "a card does not show the case's decision") && strings.Contains(b.logs.String(), "Unknown Message")
		})
		if n := f.Count("PATCH", "/channels/"+deskID+"/messages/"+msgOf[ids[2]]); n != 1 {
			t.Errorf("%d edits of a card Discord refused, want 1 (no retry)", n)
		}
	})

	t.Run("a card Discord cannot edit now is tried again", func(t *testing.T) {
		f.Fail("PATCH", "/channels/"+deskID+"/messages/"+msgOf[ids[3]], http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`, nil, 1)
		if _, err := b.mod.Decide(ctx, ids[3], "keep", "http:ann"); err != nil {
			t.Fatal(err)
		}
		if content := fmt.Sprint(editOf(ids[3], 2).Body["content"]); !strings.Contains(content, "Kept") {
			t.Errorf("card after the retry:\n%s", content)
		}
	})
}

// TestPressOnACardOlderThanItsCase: vigie restarted with the memory store in
// the night, and its case ids started again at c-000001. A moderator presses
// Ban on a card of the night before, whose button names c-000001: that case
// is now another member's. Nothing is done, and the moderator is told why; a
// press on the new case's own card bans its author.
func TestPressOnACardOlderThanItsCase(t *testing.T) {
	w := newModWorld(t)
	now := time.Now()
	cs := openBobsScamCase(t, w, now)
	lastNight := snowflake(now.Add(-6*time.Hour), 1) // the card of the case that had this id before the restart
	w.f.Dispatch("INTERACTION_CREATE", press("960000000000000021", cm, lastNight, customID(cs.ID, "ban")))
	if got := told(t, w.f, "960000000000000021"); !strings.Contains(got, "another case that had the same id") {
		t.Errorf("told %q", got)
	}
	if n := w.f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 0 {
		t.Errorf("%d bans from a card of another case: %s", n, w.f.Summary())
	}
	if c, _ := w.st.Case(t.Context(), cs.ID); c.Status != store.CaseOpen {
		t.Errorf("case %s decided from another case's card: %+v", cs.ID, c)
	}

	own := snowflake(now.Add(time.Second), 2)
	w.f.Dispatch("INTERACTION_CREATE", press("960000000000000022", cm, own, customID(cs.ID, "ban")))
	w.f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/"+bob.id, 1, nil)
}

// TestPressAnsweredByAnotherProcess: two vigies receive the same press (two
// processes on one token, as while a shard's lease moves, or two started by
// mistake). Discord takes the first acknowledgement and refuses the second
// (400, code 40060): the process refused leaves the press to the one that
// answered, rather than deciding a case of its own under that id.
func TestPressAnsweredByAnotherProcess(t *testing.T) {
	w := newModWorld(t)
	now := time.Now()
	cs := openBobsScamCase(t, w, now)
	w.f.Fail("POST", "/interactions/960000000000000031/", 400, `{"message": "Interaction has already been acknowledged.", "code": 40060}`, nil, 1)
	w.f.Dispatch("INTERACTION_CREATE", press("960000000000000031", cm, snowflake(now.Add(time.Second), 3), customID(cs.ID, "ban")))
	testsync.Eventually(t, "the press left to the other process", func() bool {
		return strings.Contains(w.logs.String(), "acknowledged by another process")
	})
	if n := w.f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 0 {
		t.Errorf("%d bans from a press another process answered: %s", n, w.f.Summary())
	}
	if c, _ := w.st.Case(t.Context(), cs.ID); c.Status != store.CaseOpen {
		t.Errorf("case %s decided by the process that did not answer: %+v", cs.ID, c)
	}
}

// TestPressOnAnotherCardOfTheSameID: two vigies on one token, each with its
// own memory store, both posted a card for their own case c-000001, about
// different members. The press on the other process's card reaches this one
// (its acknowledgement came first): the card is not one of this case's, as
// the store recorded them, so nothing is done; its own card decides.
func TestPressOnAnotherCardOfTheSameID(t *testing.T) {
	w := newModWorld(t)
	now := time.Now()
	cs := openBobsScamCase(t, w, now)
	own, others := snowflake(now.Add(time.Second), 2), snowflake(now.Add(time.Second), 3)
	if err := w.st.AddCard(t.Context(), cs.ID, bot.CardRef{Platform: "discord", Chat: deskID, Message: own}); err != nil {
		t.Fatal(err)
	}
	w.f.Dispatch("INTERACTION_CREATE", press("960000000000000041", cm, others, customID(cs.ID, "ban")))
	if got := told(t, w.f, "960000000000000041"); !strings.Contains(got, "not one of case "+cs.ID+"'s cards") {
		t.Errorf("told %q", got)
	}
	if n := w.f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 0 {
		t.Errorf("%d bans from another process's card: %s", n, w.f.Summary())
	}
	w.f.Dispatch("INTERACTION_CREATE", press("960000000000000042", cm, own, customID(cs.ID, "ban")))
	w.f.WaitFor(t, "PUT", "/guilds/"+guildID+"/bans/"+bob.id, 1, nil)
}

// openBobsScamCase opens a case, at now, for Bob's scam link in #general.
func openBobsScamCase(t *testing.T, w *modWorld, now time.Time) store.Case {
	t.Helper()
	ev := bot.Event{ID: snowflake(now, 7), Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}, Text: "free nitro https://scam.example/gift", At: now}
	cs, err := w.st.OpenCase(t.Context(), store.Case{Event: ev, Rule: "scam", Category: "spam", Reason: "scam link",
		Suggested: []bot.Action{{Kind: bot.ActDelete}}, Opened: now})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}
