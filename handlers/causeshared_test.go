package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCauseCardsShared: two instances on one Redis, and a third started
// after (a restart), show the refusals of one cause on one card, which
// counts them all; a decision on it from another instance says how many
// are still open, and the next refusal posts a new card.
func TestCauseCardsShared(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("cause-test")
	ctx := context.Background()
	var first *redis.Store
	desk := &causeDesk{}
	now := at
	n := 0
	instance := func(name string) (*handlers.Moderator, func() string) {
		st := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
		if first == nil {
			first = st
			desk.st = st
		}
		p := &chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}
		m, err := handlers.New(handlers.Options{
			Platforms: map[string]bot.Platform{"discord": p}, Store: st, Desk: desk,
			Now: func() time.Time { return now }, Retry: handlers.Retry{Attempts: 1},
			FailureCause: lacksCause,
		})
		if err != nil {
			t.Fatal(err)
		}
		refused := func() string {
			t.Helper()
			n++
			return refuse(t, m, p, n, "general", "scam", errLacks)
		}
		return m, refused
	}
	check := func(step string, m *handlers.Moderator, wantPosts []string, wantEdit string) {
		t.Helper()
		desk.check(t, m, step, wantPosts, wantEdit)
	}

	a, refusedA := instance("a")
	b, refusedB := instance("b")
	lead := refusedA()
	check("the first refusal, on a", a, []string{lead}, "")
	refusedB()
	check("a refusal on b", b, nil, lead+": delete failed 2 times here since 22:10 UTC, for one cause: vigie lacks Manage Messages")
	refusedA()
	check("another on a", a, nil, lead+": delete failed 3 times")

	c, refusedC := instance("c") // a restart
	refusedC()
	check("one on the instance started after", c, nil, lead+": delete failed 4 times")
	if edits := desk.lastEdit(); !strings.Contains(edits, "Raider4, Raider3, Raider2, this one") {
		t.Errorf("the card names %q, want the latest three newest first", edits)
	}

	cs, err := first.Cases(ctx, store.CaseOpen)
	if err != nil || len(cs) != 4 {
		t.Fatalf("%d cases open, %v; want each of the four", len(cs), err)
	}
	for _, cs := range cs {
		if cs.Event.ID != lead {
			continue
		}
		decided, err := first.DecideCase(ctx, cs.ID, "keep", "telegram:42", "", now)
		if err != nil {
			t.Fatal(err)
		}
		b.ShowDecision(ctx, decided, "")
		if _, edits := desk.seen(); len(edits) != 1 || !strings.HasSuffix(edits[0],
			"| Still open for this card's cause (delete failed): 3 other cases, to decide from /queue.") {
			t.Errorf("the decided card's edits: %q, want one saying the three others are still open", edits)
		}
	}
	next := refusedC()
	check("after its case was decided", c, []string{next}, "")
	now = now.Add(time.Minute)
	refusedA()
	check("then joined on a", a, nil, next+": delete failed 2 times")
}
