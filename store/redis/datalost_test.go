package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestDataLossTold: a Redis that lost its data (FLUSHALL here; a restart
// without persistence or an empty replica promoted alike) answers as if
// nothing happened, while the open cases it held are gone. vigie keeps a
// marker there, and says the loss as an error, once, and counts it; the
// first marker it sets on a Redis is no loss.
func TestDataLossTold(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	primary, err := redis.Open(srv.URL(), redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	var logs testLogs
	logger := logs.logger()
	f := redis.NewFallback(primary, redis.FallbackOptions{Logger: logger, RetryEvery: 10 * time.Millisecond})
	t.Cleanup(func() { f.Close() })
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	marker := prefix + ":{probe}:marker"

	waitFor(t, "the marker set", func() bool { return c.Exists(ctx, marker).Val() == 1 })
	if n := f.DataLost(); n != 0 || strings.Contains(logs.String(), "lost its data") {
		t.Fatalf("a loss told (%d) when the marker was first set:\n%s", n, logs.String())
	}
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the loss told", func() bool { return f.DataLost() == 1 })
	waitFor(t, "the marker set again", func() bool { return c.Exists(ctx, marker).Val() == 1 })
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "redis lost its data") {
		t.Errorf("the loss is not logged as an error:\n%s", logs.String())
	}
	if n := strings.Count(logs.String(), "redis lost its data"); n != 1 {
		t.Errorf("the loss logged %d times, want once:\n%s", n, logs.String())
	}
	if n := f.DataLost(); n != 1 {
		t.Errorf("DataLost = %d after one loss, want 1", n)
	}
	// /healthz lists it (Warnings): a CM who looks in the morning sees it.
	if w := strings.Join(f.Warnings(), "\n"); !strings.Contains(w, "redis lost its data once") {
		t.Errorf("Warnings = %q, want the loss said", w)
	}
}

// The data marker outlives the data it vouches for, not a fixed day: an
// instance cut from Redis (or a fleet stopped) for longer than a day, and
// back, finds it there with the data, rather than tell a loss that was not.
// It expires no sooner than the cases and the longest strike written, and
// not at all while the store holds what never expires (here the console's
// accounts: the ban book and the recent events alike); once that is gone,
// it expires again with the rest.
func TestDataMarkerLastsAsTheData(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	prefix := newPrefix()
	f := redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: 10 * time.Millisecond}, redis.WithPrefix(prefix))
	c := redistest.Client(t, url)
	marker := prefix + ":{probe}:marker"
	ttl := func() time.Duration { return c.PTTL(ctx, marker).Val() }
	// Bounds on the TTLs asked for, not on time: Redis counts down from
	// them only between the check and the read.
	const margin = time.Hour

	waitFor(t, "the marker set to last as the cases (90 days)", func() bool {
		return ttl() > redis.DefaultCaseTTL-margin
	})
	if err := f.AddStrike(ctx, store.Strike{Platform: "discord", Space: "g1", Author: "u1", At: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC),
		Rule: "insult", TTL: 200 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker set to last as the 200-day strike", func() bool {
		return ttl() > 200*24*time.Hour-margin
	})
	if err := f.PutAccount(ctx, store.Account{Name: "ann", Role: "moderator", Hash: "x"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker kept with no expiry beside the accounts", func() bool { return ttl() == -1 })
	if err := c.Del(ctx, prefix+":{accounts}").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker expiring again once the accounts are gone", func() bool {
		d := ttl()
		return d > 200*24*time.Hour-margin && d <= 200*24*time.Hour
	})
	if n := f.DataLost(); n != 0 {
		t.Errorf("DataLost = %d with no loss, want 0", n)
	}
}

// The recent events (the console's backtests) expire as the audit does
// after their last write, and the data marker with them once nothing that
// never expires is left: before, the history stream never expired, and
// the marker stayed for ever wherever events had been remembered, a prefix
// no vigie used any more included.
func TestDataMarkerEndsWithTheHistory(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	prefix := newPrefix()
	f := redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: 10 * time.Millisecond}, redis.WithPrefix(prefix))
	c := redistest.Client(t, url)
	ev := bot.Event{ID: "m1", Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}, Text: "hello",
		At: time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)}
	if err := f.RememberEvents(ctx, []bot.Event{ev}, 100); err != nil {
		t.Fatal(err)
	}
	const margin = time.Hour
	history := c.PTTL(ctx, prefix+":{history}:events").Val()
	if history < redis.DefaultAuditTTL-margin || history > redis.DefaultAuditTTL {
		t.Errorf("the recent events' TTL = %v; want the audit's, %v", history, redis.DefaultAuditTTL)
	}
	marker := prefix + ":{probe}:marker"
	// Redis counts the history's TTL down from the write: the marker's,
	// set after, ends later.
	waitFor(t, "the marker set to end after the recent events (old: no expiry beside them)", func() bool {
		return c.PTTL(ctx, marker).Val() >= history
	})
}
