package redis_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestJournalClocksMinutesApart: two instances on one Redis whose machines'
// clocks differ by 3 minutes. The one ahead looks at the journal for
// verdicts nobody answered for in 2 minutes (its clock's now less the
// grace): the verdict the other has just begun is not one of them, and a
// verdict begun 3 minutes before is. Before, the stamps were each
// machine's clock: the instance ahead took the verdict begun a moment
// before for an abandoned one, and carried it out a second time.
func TestJournalClocksMinutesApart(t *testing.T) {
	ctx := context.Background()
	const ahead = 3 * time.Minute
	const grace = 2 * time.Minute
	a, b, aheadClock := clocksApart(t, ahead)

	begin := func(s *redis.Store, key string, at time.Time) {
		t.Helper()
		ev := bot.Event{ID: key, Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}, Text: "spam", At: at}
		if err := s.Begin(ctx, store.JournalEntry{Key: key, Event: ev, At: at, Begun: at}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	begin(a, "fresh", now)
	begin(a, "old", now.Add(-ahead))

	bNow := aheadClock()
	got, err := b.Unfinished(ctx, bNow.Add(-grace), bNow)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, e := range got {
		keys = append(keys, e.Key)
	}
	if strings.Join(keys, ",") != "old" {
		t.Fatalf("the instance 3 minutes ahead took %q, want only the verdict begun 3 minutes before", keys)
	}
	// Its stamp is told on the taker's clock: 3 minutes before its now.
	if age := bNow.Sub(got[0].At); age < ahead-30*time.Second || age > ahead+30*time.Second {
		t.Errorf("the entry taken is %v old on the taker's clock, want about %v", age, ahead)
	}
	if skew, ok := b.Skew(); !ok || skew > -ahead+30*time.Second {
		t.Errorf("Skew = %v, %v: want about -%v (Redis behind the machine)", skew, ok, ahead)
	}
	// The instance behind, on its own clock, finds the fresh one fresh too.
	got, err = a.Unfinished(ctx, now.Add(-grace), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Errorf("the instance on Redis's time took %d entries, want none", len(got))
	}
}

// TestClockSkewTold: a machine whose clock is minutes off Redis's is
// warned of, and listed on /healthz (Warnings).
func TestClockSkewTold(t *testing.T) {
	url := redistest.URL(t)
	primary, err := redis.Open(url, redis.WithPrefix(newPrefix()),
		redis.WithWallClock(func() time.Time { return time.Now().Add(-3 * time.Minute) }))
	if err != nil {
		t.Fatal(err)
	}
	var logs testLogs
	f := redis.NewFallback(primary, redis.FallbackOptions{Logger: logs.logger(), RetryEvery: 10 * time.Millisecond})
	t.Cleanup(func() { f.Close() })
	waitFor(t, "the skew warned of", func() bool { return strings.Contains(logs.String(), "clock differs from Redis's") })
	if w := strings.Join(f.Warnings(), "\n"); !strings.Contains(w, "clock is 3m0s behind Redis's") {
		t.Errorf("Warnings = %q, want the machine 3m0s behind", w)
	}
}

// TestPendingMarkClocksApart: an event being judged by one instance (its id
// marked pending for 5 seconds) comes again to an instance whose clock is 3
// minutes ahead (a Telegram update handed on, a Discord catch-up): it is a
// duplicate while the first renews its mark. Before, the marks were stamped
// on each machine's clock: the instance ahead found the mark 3 minutes old,
// past its hold, and judged the event again (Again), its actions done twice.
func TestPendingMarkClocksApart(t *testing.T) {
	ctx := context.Background()
	a, b, aheadClock := clocksApart(t, 3*time.Minute)
	for _, s := range []*redis.Store{a, b} {
		if _, err := s.MeasureSkew(ctx); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Now().Add(-time.Second) // the platform's stamp
	obs := func(seen time.Time) store.Observation {
		return store.Observation{At: at, Platform: "telegram", Space: "g1", Author: "u1", EventID: "m-1",
			SeenAt: seen, Pending: 5 * time.Second}
	}
	first, err := a.Observe(ctx, obs(time.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if first.Duplicate || first.Again {
		t.Fatalf("the first observation: %+v, want a new event", first)
	}
	again, err := b.Observe(ctx, obs(aheadClock()))
	if err != nil {
		t.Fatal(err)
	}
	if !again.Duplicate || again.Again {
		t.Errorf("the retry on the instance 3 minutes ahead: duplicate %v, again %v; want a duplicate, the first still judging it", again.Duplicate, again.Again)
	}
}

// A measure of Redis's clock whose round trip was slow (Redis paused by
// CLIENT PAUSE, a loaded machine, a far network) cannot tell the skew from
// the latency: Redis read its clock somewhere in the round trip, up to half
// of it from its middle. It is not taken, and the skew measured before
// stays. Before, a TIME held 2.5 s by CLIENT PAUSE was taken for a clock
// 1.25 s ahead, over skewApplied: the journal's stamps moved by it.
func TestSkewNotMeasuredFromASlowRoundTrip(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	s := redistest.Open(t, srv.URL(), redis.WithPrefix(newPrefix()))
	if _, err := s.MeasureSkew(ctx); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Skew()
	raw := redistest.Client(t, srv.URL())
	if err := raw.Do(ctx, "client", "pause", "2500", "all").Err(); err != nil {
		t.Fatal(err)
	}
	skew, err := s.MeasureSkew(ctx)
	if err == nil {
		t.Errorf("a TIME held 2.5 s measured: skew %v, want an error saying the round trip was too slow", skew)
	}
	if after, ok := s.Skew(); !ok || after != before {
		t.Errorf("Skew after a slow round trip = %v, %v; want the one measured before, %v", after, ok, before)
	}
}

// TestSkewMeasuredAgainWhenRedisReturns: Redis away, then back on another
// machine whose clock is minutes apart (a failover to a replica elsewhere):
// the skew is measured again before what waited is written and the events
// are judged in Redis again, not only at the next quiet check. Before, the
// skew of the Redis before the outage stamped the journal until every
// backlog was written and five more seconds.
func TestSkewMeasuredAgainWhenRedisReturns(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	var behind atomic.Int64 // how far this machine's clock is behind Redis's
	clock := func() time.Time { return time.Now().Add(-time.Duration(behind.Load())) }
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{RetryEvery: time.Hour, EventTimeout: 100 * time.Millisecond},
		redis.WithPrefix(newPrefix()), redis.WithWallClock(clock))
	if _, err := f.Unfinished(ctx, time.Now().Add(-time.Minute), time.Now()); err != nil { // the first look measures
		t.Fatal(err)
	}
	raw := redistest.Client(t, srv.URL())
	if err := raw.Do(ctx, "client", "pause", "300", "all").Err(); err != nil {
		t.Fatal(err)
	}
	_ = f.Probe(ctx)
	if !f.Degraded() {
		t.Fatal("the store did not find Redis away")
	}
	const apart = 3 * time.Minute
	behind.Store(int64(apart))
	redis.FlushNow(f)
	if f.Degraded() {
		t.Fatal("the store did not find Redis back")
	}
	if skew, ok := f.Skew(); !ok || skew < apart-30*time.Second {
		t.Errorf("skew after Redis came back %v ahead: %v, %v", apart, skew, ok)
	}
}

// clocksApart opens two stores on one prefix of the test's Redis, the second
// on a wall clock ahead of the first's by ahead, which it returns.
func clocksApart(t *testing.T, ahead time.Duration) (a, b *redis.Store, aheadClock func() time.Time) {
	t.Helper()
	url := redistest.URL(t)
	prefix := newPrefix()
	a = redistest.Open(t, url, redis.WithPrefix(prefix))
	aheadClock = func() time.Time { return time.Now().Add(ahead) }
	b = redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithWallClock(aheadClock))
	return a, b, aheadClock
}
