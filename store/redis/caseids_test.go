package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// opened is when the cases of these tests are opened, on the events' clock.
var opened = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

func scamCase(event, author string) store.Case {
	return store.Case{Event: bot.Event{ID: event, Platform: "discord", Space: "g-1", Channel: "general",
		Author: bot.Author{ID: author}, At: opened}, Rule: "scam", Reason: "scam"}
}

// TestCaseIDsAfterRedisLostItsData: a Redis that lost its data (FLUSHALL)
// numbers cases from 1 again, but in a new epoch: the id of a case opened
// before names no case after (a card or a console page from before decides
// nothing), where it named the next case opened. Another process on the same
// Redis numbers in the same epoch, after the first.
func TestCaseIDsAfterRedisLostItsData(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	a, b := open(t, srv.URL(), redis.WithPrefix(prefix)), open(t, srv.URL(), redis.WithPrefix(prefix))
	eve, err := a.OpenCase(ctx, scamCase("m-1", "eve"))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := b.OpenCase(ctx, scamCase("m-2", "bob"))
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	frank, err := a.OpenCase(ctx, scamCase("m-3", "frank"))
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{eve.ID, bob.ID} {
		if got, err := b.Case(ctx, old); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Case(%s) after FLUSHALL = %s of %q, %v; want ErrNotFound", old, got.ID, got.Event.Author.ID, err)
		}
		if got, err := b.DecideCase(ctx, old, "ban", "telegram:42", "", opened); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DecideCase(%s) after FLUSHALL decided %s of %q, %v; want ErrNotFound", old, got.ID, got.Event.Author.ID, err)
		}
	}
	epoch := func(id string) string {
		f := strings.Split(id, "-")
		if len(f) != 3 || f[0] != "c" || len(f[1]) != store.EpochLen || len(f[2]) != 6 {
			t.Fatalf("case id %q, want c-EPOCH-NNNNNN", id)
		}
		return f[1]
	}
	if epoch(eve.ID) != epoch(bob.ID) || store.CaseNumber(bob.ID) != store.CaseNumber(eve.ID)+1 {
		t.Errorf("two processes on one Redis numbered %s then %s, want one epoch, one count", eve.ID, bob.ID)
	}
	if epoch(frank.ID) == epoch(eve.ID) || store.CaseNumber(frank.ID) != 1 {
		t.Errorf("after FLUSHALL Frank's case is %s, Eve's was %s: want number 1 of another epoch", frank.ID, eve.ID)
	}

	// The counter alone lost (evicted, deleted), its epoch kept: a new
	// epoch all the same.
	if err := c.Del(ctx, prefix+":{cases}:seq").Err(); err != nil {
		t.Fatal(err)
	}
	gus, err := b.OpenCase(ctx, scamCase("m-4", "gus"))
	if err != nil {
		t.Fatal(err)
	}
	if epoch(gus.ID) == epoch(frank.ID) {
		t.Errorf("the counter lost, Gus's case is %s after Frank's %s: want another epoch", gus.ID, frank.ID)
	}
	if got, err := a.Case(ctx, frank.ID); err != nil || got.Event.Author.ID != "frank" {
		t.Errorf("Case(%s) = %q, %v; want Frank's case", frank.ID, got.Event.Author.ID, err)
	}
}

// TestCaseIDsOfARedisFromBeforeEpochs: a Redis whose counter numbered
// c-000041 before ids had epochs goes on from 42 in an epoch, so that the
// cases are listed in the order they were opened, and those of before are
// still found by their ids.
func TestCaseIDsOfARedisFromBeforeEpochs(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	prefix := newPrefix()
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()
	if err := c.Set(ctx, prefix+":{cases}:seq", 41, 0).Err(); err != nil {
		t.Fatal(err)
	}
	st := open(t, url, redis.WithPrefix(prefix))
	got, err := st.OpenCase(ctx, scamCase("m-1", "eve"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got.ID, "c-") || !strings.HasSuffix(got.ID, "-000042") || len(got.ID) != len("c--000042")+store.EpochLen {
		t.Errorf("case id %q, want c-EPOCH-000042", got.ID)
	}
}

// TestCaseIDsOfAnOutage: two processes on one Redis open cases from memory
// while it is away; it comes back empty (restarted without persistence). The
// local ids of the two processes differ, and the ids the cases get once
// written back name none of the cases opened before the outage.
func TestCaseIDsOfAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	fallback := func() *redis.Fallback {
		return redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{RetryEvery: 10 * time.Millisecond}, redis.WithPrefix(prefix))
	}
	a, b := fallback(), fallback()
	eve, err := a.OpenCase(ctx, scamCase("m-1", "eve"))
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	frank, err := a.OpenCase(ctx, scamCase("m-2", "frank"))
	if err != nil {
		t.Fatal(err)
	}
	gus, err := b.OpenCase(ctx, scamCase("m-3", "gus"))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Degraded() || !b.Degraded() {
		t.Fatal("not degraded with Redis stopped")
	}
	if frank.ID == gus.ID {
		t.Errorf("two processes gave one local id, %s, to Frank's case and Gus's", frank.ID)
	}
	if got, err := a.Case(ctx, gus.ID); err == nil {
		t.Errorf("Case(%s) of the process that did not open Gus's case = %q's", gus.ID, got.Event.Author.ID)
	}
	srv.Restart()
	waitFor(t, "both written back", func() bool {
		return !a.Degraded() && !b.Degraded() && a.Buffered() == 0 && b.Buffered() == 0
	})
	if got, err := a.Case(ctx, eve.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Case(%s), opened before Redis came back empty = %s of %q, %v; want ErrNotFound", eve.ID, got.ID, got.Event.Author.ID, err)
	}
	for _, c := range []struct {
		f      *redis.Fallback
		local  string
		author string
	}{{a, frank.ID, "frank"}, {b, gus.ID, "gus"}} {
		if got, err := c.f.Case(ctx, c.local); err != nil || got.Event.Author.ID != c.author || got.ID == eve.ID {
			t.Errorf("Case(%s) once written back = %s of %q, %v; want %s's, under an id other than %s", c.local, got.ID, got.Event.Author.ID, err, c.author, eve.ID)
		}
	}
}
