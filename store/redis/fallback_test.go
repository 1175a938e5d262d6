package redis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
	"github.com/vigie-bot/vigie/store/storetest"
)

// waitFor polls cond for up to a minute: the switch-over happens on the
// store's own schedule.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	redistest.Eventually(t, time.Minute, what, cond)
}

// cappedFallback is outageFallback over a store that keeps at most openCap
// cases open.
func cappedFallback(t *testing.T, openCap int, fo redis.FallbackOptions) (*redistest.Server, *redis.Fallback) {
	t.Helper()
	srv, _, f := outageFallback(t, fo, redis.WithOpenCaseCap(openCap))
	return srv, f
}

// outageFallback starts a redis-server of its own that keeps what it holds
// across a restart, so that the cases open before an outage are there after
// it, and a Fallback, with fo, over a store on it (under a prefix of its own,
// opened with opts) whose calls fail at once while the server is away. Both
// are closed when the test ends.
func outageFallback(t *testing.T, fo redis.FallbackOptions, opts ...redis.Option) (*redistest.Server, *redis.Store, *redis.Fallback) {
	t.Helper()
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	primary := redistest.Open(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", append([]redis.Option{redis.WithPrefix(newPrefix())}, opts...)...)
	f := redis.NewFallback(primary, fo)
	t.Cleanup(func() { f.Close() })
	return srv, primary, f
}

// stopUntilDegraded stops srv and waits until f, observing an event, has
// taken Redis for away and answered from memory.
func stopUntilDegraded(t *testing.T, srv *redistest.Server, f *redis.Fallback) {
	t.Helper()
	srv.Stop()
	waitFor(t, "degraded", func() bool {
		_, err := f.Observe(context.Background(), store.Observation{At: time.Now(), Platform: "discord", Space: "g", Author: "u-x", EventID: fmt.Sprint(time.Now().UnixNano())})
		return err == nil && f.Degraded()
	})
}

// openOwnCase opens a case on f now for the event m-i, by u-i in g-i: a place
// of its own, so that no two cases are grouped.
func openOwnCase(ctx context.Context, f *redis.Fallback, i int) (store.Case, error) {
	return f.OpenCase(ctx, store.Case{Reason: "r", Opened: time.Now(),
		Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
}

// writtenFrom is when the tests' entries are dated: now, to the second, on
// the clock Redis itself dates and ages what it keeps by, so that what the
// tests write is as old on any day they run, not a fixed date's age.
func writtenFrom() time.Time { return time.Now().UTC().Truncate(time.Second) }

// waitWrittenBack waits until f is back on Redis with nothing waiting for
// it. Writing back thousands of cases to a Redis that syncs each write to
// disk (appendfsync always) took more than a minute on a loaded machine:
// the wait gives up after a minute in which nothing more was written, not
// after a minute in all.
func waitWrittenBack(t *testing.T, f *redis.Fallback, what string) {
	t.Helper()
	least := f.Buffered()
	// A minute without progress: the timer is reset each time fewer
	// entries wait, and once it fires the wait gives up at its next look
	// unless that look finds it done or progressed.
	idle := time.NewTimer(time.Minute)
	defer idle.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	quiet := false
	for f.Degraded() || f.Buffered() > 0 {
		if n := f.Buffered(); n < least {
			least, quiet = n, false
			idle.Reset(time.Minute)
		}
		if quiet {
			t.Fatalf("gave up waiting for %s: %d entries waiting for redis, none written in a minute (degraded: %v)", what, f.Buffered(), f.Degraded())
		}
		select {
		case <-idle.C:
			quiet = true
		case <-poll.C:
		}
	}
}

// TestFallbackNoReplicas: a master that refuses writes no replica would have
// (min-replicas-to-write, and its replica gone) is as good as away: vigie
// moderates from memory rather than failing the events.
func TestFallbackNoReplicas(t *testing.T) {
	srv := redistest.Start(t, "--min-replicas-to-write", "1")
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{RetryEvery: time.Hour}, redis.WithPrefix(newPrefix()))
	ctx := context.Background()
	res, err := f.Observe(ctx, store.Observation{At: night, Platform: "discord", Space: "g", Author: "u-1", EventID: "m-1",
		Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Minute, Incr: true}}})
	if err != nil || len(res.Counts) != 1 || res.Counts[0] != 1 {
		t.Fatalf("Observe on a master without its replica = %+v, %v; want it counted in memory", res, err)
	}
	if !f.Degraded() {
		t.Errorf("not degraded after NOREPLICAS")
	}
	c, err := f.OpenCase(ctx, store.Case{Reason: "r", Opened: night})
	if err != nil || !strings.HasPrefix(c.ID, "l-") {
		t.Errorf("OpenCase = %s, %v; want a case kept in memory until a replica answers", c.ID, err)
	}
}

// TestFallbackOutage stops redis-server under load and starts it again: vigie
// keeps answering, no call fails, and every case and audit entry made while
// Redis was away is in Redis afterwards.
func TestFallbackOutage(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testFallbackOutage(t) })
	// Strikes, audit entries and the journal are queued: those Redis did not
	// take go where they would have gone had they been written at once.
	t.Run("autopipeline", func(t *testing.T) { testFallbackOutage(t, redis.WithAutoPipeline()) })
}

func testFallbackOutage(t *testing.T, opts ...redis.Option) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	url := srv.URL() + "?max_retries=-1&dial_timeout=500ms"
	prefix := newPrefix()
	primary, err := redis.Open(url, append(opts, redis.WithPrefix(prefix))...)
	if err != nil {
		t.Fatal(err)
	}
	var logs testLogs
	logger := logs.logger()
	f := redis.NewFallback(primary, redis.FallbackOptions{Logger: logger, RetryEvery: 20 * time.Millisecond})
	defer f.Close()
	reg := prometheus.NewRegistry()
	if err := f.Register(reg); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	var (
		mu       sync.Mutex
		reasons  []string // of every case opened
		local    []string // ids of cases opened while Redis was away
		audited  []string // the modes of the audit entries written
		stopLoad = make(chan struct{})
		wg       sync.WaitGroup
	)
	// The load stops however the test ends, so that no goroutine reports
	// after it.
	stop := sync.OnceFunc(func() { close(stopLoad) })
	defer func() {
		stop()
		wg.Wait()
	}()
	t0 := writtenFrom()
	for g := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				at := t0.Add(time.Duration(i) * time.Millisecond)
				author := fmt.Sprintf("u-%d", g)
				_, err := f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: author,
					EventID: fmt.Sprintf("m-%d-%d", g, i), StrikeWindow: time.Hour,
					Counters: []store.CounterOp{{Name: "msgs", Key: author, Window: 10 * time.Second, Incr: true}}})
				if err != nil {
					t.Errorf("observe during the test: %v", err)
					return
				}
				if i%5 == 0 {
					if err := f.AppendAudit(ctx, store.AuditEntry{At: at, Mode: fmt.Sprintf("%d-%d", g, i)}); err != nil {
						t.Errorf("audit during the test: %v", err)
						return
					}
					mu.Lock()
					audited = append(audited, fmt.Sprintf("%d-%d", g, i))
					mu.Unlock()
				}
				if i%10 == 0 {
					reason := fmt.Sprintf("case-%d-%d", g, i)
					c, err := f.OpenCase(ctx, store.Case{Reason: reason, Opened: at})
					if err != nil {
						t.Errorf("open case during the test: %v", err)
						return
					}
					mu.Lock()
					reasons = append(reasons, reason)
					if strings.HasPrefix(c.ID, "l-") {
						local = append(local, c.ID)
					}
					mu.Unlock()
				}
				time.Sleep(time.Millisecond)
			}
		})
	}
	count := func(s *[]string) int {
		mu.Lock()
		defer mu.Unlock()
		return len(*s)
	}
	waitFor(t, "cases before the outage", func() bool { return count(&reasons) >= 20 })
	srv.Stop()
	waitFor(t, "degraded", f.Degraded)
	if v := gauge(t, reg, "vigie_store_degraded"); v != 1 {
		t.Errorf("vigie_store_degraded = %v while Redis is away", v)
	}
	waitFor(t, "cases during the outage", func() bool { return count(&local) >= 10 })

	// The desk posts and decides some cases while Redis is away.
	mu.Lock()
	ackedID, decidedID := local[0], local[1]
	mu.Unlock()
	if err := f.AckCase(ctx, ackedID); err != nil {
		t.Fatal(err)
	}
	card := bot.CardRef{Platform: "telegram", Chat: "-100123", Message: "42"}
	if err := f.AddCard(ctx, ackedID, card); err != nil {
		t.Fatal(err)
	}
	if _, err := f.DecideCase(ctx, decidedID, "ban", "telegram:1", "", t0); err != nil {
		t.Fatal(err)
	}
	// A case amended with how its actions ended while Redis is away.
	mu.Lock()
	amendedID := local[2]
	mu.Unlock()
	opened, err := f.Case(ctx, amendedID)
	if err != nil {
		t.Fatal(err)
	}
	amendment := store.CaseAmendment{Reason: "action failed: delete: 500", Suggested: []bot.Action{{Kind: bot.ActDelete}}, NotDone: []bot.Action{{Kind: bot.ActDelete}}}
	if err := f.AmendCase(ctx, amendedID, amendment); err != nil {
		t.Fatal(err)
	}

	srv.Restart()
	waitWrittenBack(t, f, "back from degraded")
	after := count(&reasons) + 10
	waitFor(t, "cases after the outage", func() bool { return count(&reasons) >= after })
	stop()
	wg.Wait()
	// On a loaded machine Redis may not answer an event within its
	// EventTimeout after it came back: another outage, whose cases wait
	// in memory for the next write-back. What Redis holds is read once
	// nothing waits any more.
	waitWrittenBack(t, f, "everything written back")

	if f.Dropped() != 0 {
		t.Errorf("%d dropped with room in the buffer", f.Dropped())
	}
	// What Redis holds, read by another process.
	other := otherProcess(t, srv.URL(), prefix)
	open, err := other.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	decided, err := other.Cases(ctx, store.CaseDecided)
	if err != nil {
		t.Fatal(err)
	}
	inRedis := map[string]int{}
	for _, c := range append(open, decided...) {
		inRedis[c.Reason]++
	}
	for _, r := range reasons {
		if r == opened.Reason {
			r = amendment.Reason
		}
		if inRedis[r] == 0 {
			t.Errorf("case %s lost", r)
		}
	}
	if len(decided) != 1 || decided[0].Outcome != "ban" {
		t.Errorf("decided in Redis: %v, want the one banned during the outage", decided)
	}
	// The local ids still answer, now from Redis.
	c, err := f.Case(ctx, decidedID)
	if err != nil || c.Outcome != "ban" || strings.HasPrefix(c.ID, "l-") {
		t.Errorf("case %s after the outage = %+v, %v; want it from Redis, banned", decidedID, c, err)
	}
	// The amendment went to Redis with its case.
	if c, err := f.Case(ctx, amendedID); err != nil || c.Reason != amendment.Reason || strings.HasPrefix(c.ID, "l-") {
		t.Errorf("case %s after the outage = %+v, %v; want it from Redis, amended", amendedID, c, err)
	} else if c, err := other.Case(ctx, c.ID); err != nil || c.Reason != amendment.Reason || len(c.NotDone) != 1 {
		t.Errorf("case %s read by another process = %+v, %v; want it amended", amendedID, c, err)
	}
	// The case the desk acknowledged while Redis was away is not handed out again.
	pending, err := other.PendingCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	acked, _ := f.Case(ctx, ackedID)
	for _, p := range pending {
		if p.ID == acked.ID {
			t.Errorf("case %s (%s), acknowledged during the outage, is pending again", p.ID, ackedID)
		}
	}
	// Where its card was posted went to Redis with it.
	if cards, err := other.CaseCards(ctx, acked.ID); err != nil || len(cards) != 1 || cards[0] != card {
		t.Errorf("cards of %s (%s) in Redis = %v, %v; want %v", acked.ID, ackedID, cards, err, card)
	}
	entries, err := other.Audit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	// None lost. One whose answer the outage cut may be there twice: Redis
	// took it, and it was written back all the same.
	inAudit := map[string]int{}
	for _, e := range entries {
		inAudit[e.Mode]++
	}
	for _, m := range audited {
		if inAudit[m] == 0 {
			t.Errorf("audit entry %s lost", m)
		}
	}
	if len(entries) < len(audited) || len(entries) > len(audited)+flushBatchHint {
		t.Errorf("%d audit entries in Redis, want %d, or a few more", len(entries), len(audited))
	}
	// Each outage is told once, not at each call it failed, and so is its
	// end: one outage, or more when the loaded machine made Redis late.
	got := logs.String()
	if n, back := strings.Count(got, "redis unreachable"), strings.Count(got, "redis is back"); n == 0 || n != back {
		t.Errorf("degraded logged %d times and the return %d times, want once each an outage:\n%s", n, back, got)
	}
	if !strings.Contains(got, "redis is back") {
		t.Errorf("recovery not logged:\n%s", got)
	}
}

// flushBatchHint bounds the audit entries an outage may leave twice in Redis:
// those of the pipeline it cut.
const flushBatchHint = 256

// TestFallbackDrops checks the bounds of what waits for Redis.
func TestFallbackDrops(t *testing.T) {
	srv := redistest.Start(t)
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{MaxAudit: 3, MaxCases: 2, RetryEvery: time.Hour}, redis.WithPrefix(newPrefix()))
	srv.Stop()
	ctx := context.Background()
	for i := range 5 {
		if err := f.AppendAudit(ctx, store.AuditEntry{Mode: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		// Past MaxCases a case is refused as at the open cases' cap: kept
		// in memory for good, it was open past the cap after the outage.
		_, err := f.OpenCase(ctx, store.Case{Reason: fmt.Sprint(i)})
		if i < 2 && err != nil || i >= 2 && !errors.Is(err, store.ErrCaseCap) {
			t.Fatalf("case %d with MaxCases 2: %v", i, err)
		}
	}
	if !f.Degraded() {
		t.Fatal("not degraded with Redis stopped")
	}
	if got, want := f.Buffered(), 5; got != want {
		t.Errorf("buffered %d, want %d", got, want)
	}
	if got, want := f.Dropped(), int64(5); got != want {
		t.Errorf("dropped %d, want %d", got, want)
	}
	// The desk sees the cases that will be written back, and no other.
	pending, err := f.PendingCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	open, err := f.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(pending) != 2 || len(open) != 2 {
		t.Errorf("%d cases pending for the desk and %d open, want 2", len(pending), len(open))
	}
}

// TestFallbackOutageRemovals: in an outage, the journal removal of a verdict
// begun while Redis was away is not kept for Redis, where there is nothing to
// remove: the buffer's places go to the audit entries, and none is dropped.
// The removal of an entry begun before the outage is kept (TestFallbackJournal).
// Before, each event took two places (its audit entry and its removal), and
// with MaxAudit 4 the third and fourth events' entries were dropped.
func TestFallbackOutageRemovals(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{MaxAudit: 4, RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(prefix), redis.WithAutoPipeline())
	ctx := context.Background()
	t0 := writtenFrom()
	srv.Stop()
	waitFor(t, "the outage", func() bool { _ = f.Probe(ctx); return f.Degraded() })
	for i := range 4 {
		ev := bot.Event{ID: fmt.Sprint("m-", i), Platform: "discord", At: t0}
		if err := f.Begin(ctx, store.JournalEntry{Key: ev.Key(), Event: ev, At: t0, Begun: t0}); err != nil {
			t.Fatal(err)
		}
		if err := f.AppendAudit(ctx, store.AuditEntry{At: t0.Add(time.Duration(i)), Event: ev, Mode: "enforce"}); err != nil {
			t.Fatal(err)
		}
		if err := f.Done(ctx, ev.Key()); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.Dropped(); got != 0 {
		t.Errorf("dropped %d with four events' audit entries and removals, MaxAudit 4, want 0", got)
	}
	srv.Restart()
	waitWrittenBack(t, f, "back from degraded")
	got, err := f.Audit(ctx, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 {
		t.Errorf("%d audit entries in Redis after the outage, want 4", len(got))
	}
}

// TestFallbackWritesBackInFewRoundTrips: what waited for Redis goes back in a
// few round trips however its kinds alternate (an audit entry, a case and a
// journal removal for each event), so that the write-back outpaces the events
// that keep coming while it runs. One round trip an entry could not, on a
// busy machine, and Redis never took over again.
func TestFallbackWritesBackInFewRoundTrips(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1", redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(prefix))
	ctx := context.Background()
	const events = 100
	// Journaled before the outage: their removals wait for Redis.
	for i := range events {
		if err := f.Begin(ctx, store.JournalEntry{Key: fmt.Sprint("j-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop()
	for i := range events {
		if err := f.AppendAudit(ctx, store.AuditEntry{Mode: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.OpenCase(ctx, store.Case{Reason: fmt.Sprint(i), Event: bot.Event{ID: fmt.Sprint("m-", i)}}); err != nil {
			t.Fatal(err)
		}
		if err := f.Done(ctx, fmt.Sprint("j-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.Buffered(); got != 3*events {
		t.Fatalf("buffered %d, want %d", got, 3*events)
	}
	srv.Restart()
	before := f.RoundTrips()
	waitWrittenBack(t, f, "back from degraded")
	// Two batches of three kinds, the pings that found Redis back, a script
	// loaded again: far fewer than the 300 entries.
	if trips := f.RoundTrips() - before; trips > 20 {
		t.Errorf("%d round trips to write back %d entries", trips, 3*events)
	}
	other := otherProcess(t, srv.URL(), prefix)
	open, err := other.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := other.Audit(ctx, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(open) != events || len(entries) != events {
		t.Fatalf("%d cases and %d audit entries in Redis, want %d of each", len(open), len(entries), events)
	}
	// Each kind in its order.
	for i := range events {
		if open[i].Reason != fmt.Sprint(i) || entries[i].Mode != fmt.Sprint(i) {
			t.Fatalf("entry %d: case %q, audit %q; want both %d", i, open[i].Reason, entries[i].Mode, i)
		}
	}
	if f.Dropped() != 0 {
		t.Errorf("%d dropped", f.Dropped())
	}
}

// otherProcess opens the store under prefix as another process would, to
// read what reached Redis; it is closed when the test ends.
func otherProcess(t *testing.T, url, prefix string) *redis.Store {
	t.Helper()
	return redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithConsumer("other"))
}

// gauge reads one gauge from the registry, as /metrics would show it.
func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestFallbackContract runs the contract on the fallback with Redis there. With
// Redis away it differs on purpose: an id it does not hold may be in Redis, so
// it answers ErrUnavailable rather than ErrNotFound (TestFallbackOutage).
func TestFallbackContract(t *testing.T) {
	url := redistest.URL(t)
	for _, tt := range []struct {
		name string
		opts []redis.Option
	}{{"plain", nil}, {"autopipeline", []redis.Option{redis.WithAutoPipeline()}}} {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				return redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: time.Hour}, append(tt.opts, redis.WithPrefix(newPrefix()), redis.WithClaimIdle(time.Hour))...)
			})
		})
	}
}

// TestFallbackJournal: a journal entry carried out while Redis is away is
// removed from Redis once it returns (it is not carried out again), whether
// the Fallback knew of the outage or only learnt of it from a queued write.
func TestFallbackJournal(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts []redis.Option
	}{{"plain", nil}, {"autopipeline", []redis.Option{redis.WithAutoPipeline()}}} {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
			url := srv.URL() + "?max_retries=-1&dial_timeout=500ms"
			prefix := newPrefix()
			f := redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, append(tt.opts, redis.WithPrefix(prefix))...)
			ctx := context.Background()
			t0 := writtenFrom()
			entry := func(id string) store.JournalEntry {
				return store.JournalEntry{Key: "discord:" + id, Event: bot.Event{ID: id, Platform: "discord"}, At: t0, Begun: t0}
			}
			for _, id := range []string{"m-1", "m-2"} {
				if err := f.Begin(ctx, entry(id)); err != nil {
					t.Fatal(err)
				}
			}
			// Written before the outage: a read waits for what was queued.
			if _, err := f.Audit(ctx, t0); err != nil {
				t.Fatal(err)
			}
			srv.Stop()
			if err := f.Done(ctx, "discord:m-1"); err != nil {
				t.Errorf("Done while Redis is away = %v, want nil", err)
			}
			waitFor(t, "the removal waiting for Redis", func() bool { return f.Buffered() > 0 })
			srv.Restart()
			waitWrittenBack(t, f, "back from degraded")
			other := redistest.Open(t, srv.URL(), redis.WithPrefix(prefix))
			left, err := other.Unfinished(ctx, t0.Add(time.Hour), t0.Add(time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(left); !slices.Equal(got, []string{"discord:m-2"}) {
				t.Errorf("journal in Redis after the outage: %v, want only discord:m-2", got)
			}
		})
	}
}

func keys(es []store.JournalEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Key
	}
	return out
}
