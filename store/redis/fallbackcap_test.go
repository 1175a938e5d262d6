package redis_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackCaseCapIsNoOutage: Redis refusing a case because too many are
// open answered; it is not away. The refusal reaches the caller, the store is
// not degraded, and a case opened in memory during an outage that Redis then
// refuses for the cap is dropped and counted, once, and the write-back ends:
// a long run saw the cap switch vigie to memory while Redis answered, and the
// write-back stop at the refused case every second, for good, while what
// waited overflowed and was dropped.
func TestFallbackCaseCapIsNoOutage(t *testing.T) {
	var logs testLogs
	logger := logs.logger()
	// Kept in memory past Redis's cap of 2 (MaxCases), for Redis to refuse.
	srv, f := cappedFallback(t, 2, redis.FallbackOptions{Logger: logger, MaxCases: 10, RetryEvery: 20 * time.Millisecond})
	ctx := context.Background()
	open := func(i int) (store.Case, error) {
		return f.OpenCase(ctx, store.Case{Reason: fmt.Sprintf("r-%d", i), Opened: time.Now(),
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
	}
	for i := range 2 {
		if _, err := open(i); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := open(2); !errors.Is(err, store.ErrCaseCap) {
		t.Fatalf("a third case with two open: %v (degraded %v), want store.ErrCaseCap\n%s", err, f.Degraded(), logs.String())
	}
	if f.Degraded() {
		t.Fatal("degraded after Redis refused a case for the cap: it answered")
	}

	stopUntilDegraded(t, srv, f)
	// Each in a place of its own: none is grouped with another.
	local := map[string]bool{}
	for i := 3; i < 6; i++ {
		c, err := open(i)
		if err != nil || !strings.HasPrefix(c.ID, "l-") {
			t.Fatalf("a case during the outage: %s, %v; want it kept in memory", c.ID, err)
		}
		local[c.ID] = true
	}
	srv.Restart()
	waitWrittenBack(t, f, "back from degraded, nothing waiting")
	if n := f.Dropped(); n != int64(len(local)) {
		t.Errorf("dropped = %d, want the %d cases Redis refused for the cap\n%s", n, len(local), logs.String())
	}
	// Dropped, they are closed in memory too: the open cases are Redis's
	// two, the cap. Left open in memory, each outage added its refused
	// cases to the open ones (17,171 for a cap of 10,000 in a long run).
	opened, err := f.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(opened) != 2 {
		ids := make([]string, len(opened))
		for i, c := range opened {
			ids[i] = c.ID
		}
		t.Errorf("%d open cases after the write-back (%v), want the cap's 2", len(opened), ids)
	}
	if n := strings.Count(logs.String(), "too many open cases"); n != 1 {
		t.Errorf("the cap's refusals are logged %d times, want once:\n%s", n, logs.String())
	}
}

// TestFallbackForgetsCasesNeverWritten: a case opened in memory while Redis
// is away and refused by Redis when written back stays in memory, where the
// desk may still press its card's buttons; its local id is remembered for
// that, but not for ever. Outage after outage, cases kept in memory grew the
// ids remembered without end.
func TestFallbackForgetsCasesNeverWritten(t *testing.T) {
	n := redis.MaxMapped + 500
	// The case open before the outage holds the cap after it.
	srv, f := cappedFallback(t, 1, redis.FallbackOptions{MaxCases: n, RetryEvery: 20 * time.Millisecond})
	ctx := context.Background()
	if _, err := openOwnCase(ctx, f, -1); err != nil {
		t.Fatal(err)
	}
	stopUntilDegraded(t, srv, f)
	for i := range n {
		c, err := openOwnCase(ctx, f, i)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if _, err := f.DecideCase(ctx, c.ID, "kept", "telegram:1", "", time.Now()); err != nil {
			t.Fatalf("deciding case %d (%s): %v", i, c.ID, err)
		}
	}
	srv.Restart()
	waitWrittenBack(t, f, "back from degraded, nothing waiting")
	if got := f.Dropped(); got != int64(n) {
		t.Fatalf("dropped %d, want the %d cases Redis refused for the cap", got, n)
	}
	if got := f.LocalCases(); got > redis.MaxMapped {
		t.Errorf("%d local case ids remembered after %d cases refused by Redis, want at most %d", got, n, redis.MaxMapped)
	}
}

// TestFallbackListsAWrittenCaseOnce: a case opened in memory while Redis was
// away and written there since is listed once, from Redis, however many
// cases were written back after it; its local id, once forgotten, is not
// found, saying why, rather than reaching a copy left open in memory. That
// copy was listed beside the Redis one once maxMapped newer cases had been
// written back: the desk saw the case twice, and deciding the l- copy decided
// nothing in Redis. The default bound runs too, unless -short.
func TestFallbackListsAWrittenCaseOnce(t *testing.T) {
	t.Run("bound 3", func(t *testing.T) { testFallbackListsAWrittenCaseOnce(t, 3) })
	t.Run("default bound", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes back 10,000 cases")
		}
		testFallbackListsAWrittenCaseOnce(t, 0)
	})
}

func testFallbackListsAWrittenCaseOnce(t *testing.T, bound int) {
	srv, f := cappedFallback(t, 3*redis.MaxMapped, redis.FallbackOptions{MaxCases: 2 * redis.MaxMapped, RetryEvery: 20 * time.Millisecond})
	if bound > 0 {
		f.SetMaxMapped(bound)
	} else {
		bound = redis.MaxMapped
	}
	ctx := context.Background()
	open := func(i int) string {
		t.Helper()
		c, err := f.OpenCase(ctx, store.Case{Reason: "r", Opened: time.Now(),
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
		if err != nil || !strings.HasPrefix(c.ID, "l-") {
			t.Fatalf("case %d during the outage: %s, %v; want it kept in memory", i, c.ID, err)
		}
		return c.ID
	}
	outage := func(during func()) {
		t.Helper()
		stopUntilDegraded(t, srv, f)
		during()
		srv.Restart()
		waitWrittenBack(t, f, "back from degraded, nothing waiting")
	}
	var first string
	outage(func() { first = open(0) })
	// bound newer cases push the first one's local id out.
	outage(func() {
		for i := 1; i <= bound; i++ {
			open(i)
		}
	})
	for _, list := range []struct {
		name string
		read func(context.Context) ([]store.Case, error)
		want int
	}{
		{"open", func(ctx context.Context) ([]store.Case, error) { return f.Cases(ctx, store.CaseOpen) }, bound + 1},
		// Redis reads the pending cases a thousand at a time.
		{"pending", f.PendingCases, min(bound+1, 1000)},
	} {
		cs, err := list.read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		events := map[string]int{}
		var local []string
		for _, c := range cs {
			events[c.Event.ID]++
			if strings.HasPrefix(c.ID, "l-") {
				local = append(local, c.ID)
			}
		}
		if len(cs) != list.want || len(events) != list.want || len(local) > 0 {
			t.Errorf("%s cases: %d listed for %d events, local ids %v; want %d cases once each, from Redis",
				list.name, len(cs), len(events), local, list.want)
		}
	}
	if n := f.HeldInMemory(ctx); n != 0 {
		t.Errorf("%d cases held in memory once all are in Redis, want none", n)
	}
	check := func(when string) {
		t.Helper()
		c, err := f.Case(ctx, first)
		if !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no longer known") {
			t.Errorf("%s: Case(%s) with its local id forgotten = %s (%s), %v; want store.ErrNotFound saying it is no longer known",
				when, first, c.ID, c.Status, err)
		}
		if _, err := f.DecideCase(ctx, first, "kept", "telegram:1", "", time.Now()); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s: DecideCase(%s) with its local id forgotten: %v, want store.ErrNotFound", when, first, err)
		}
	}
	check("redis up")
	// Redis has nothing to say about a forgotten local id: it is not
	// found while Redis is away too, rather than waiting for Redis.
	outage(func() { check("redis away") })
}

// TestFallbackForgetsRefusedCasesWithTheirIds: a case Redis refused when
// written back stays in memory while its local id is remembered; once the id
// is forgotten, the case is gone from the lists and the memory too, and its
// id is not found, saying why. It was listed, closed, for good, with an id no
// call reached. A refused case is closed at the date of vigie's clock
// (FallbackOptions.Now), an hour ahead of the wall clock here.
func TestFallbackForgetsRefusedCasesWithTheirIds(t *testing.T) {
	// Kept in memory past Redis's cap of 1 (MaxCases), for Redis to refuse.
	ahead := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	srv, f := cappedFallback(t, 1, redis.FallbackOptions{MaxCases: 10, RetryEvery: 20 * time.Millisecond,
		Now: func() time.Time { return ahead }})
	f.SetMaxMapped(2)
	ctx := context.Background()
	if _, err := openOwnCase(ctx, f, -1); err != nil { // holds Redis's cap of one
		t.Fatal(err)
	}
	stopUntilDegraded(t, srv, f)
	var ids []string
	for i := range 3 {
		c, err := openOwnCase(ctx, f, i)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	srv.Restart()
	waitWrittenBack(t, f, "back from degraded, nothing waiting")
	decided, err := f.Cases(ctx, store.CaseDecided)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range decided {
		got = append(got, c.ID)
	}
	if !slices.Equal(got, ids[1:]) {
		t.Errorf("decided cases %v, want the refused ones still remembered, %v", got, ids[1:])
	}
	if n := f.HeldInMemory(ctx); n != 2 {
		t.Errorf("%d cases held in memory, want the 2 refused ones remembered", n)
	}
	if _, err := f.Case(ctx, ids[0]); !errors.Is(err, store.ErrNotFound) || !strings.Contains(err.Error(), "no longer known") {
		t.Errorf("Case(%s) with its local id forgotten: %v; want store.ErrNotFound saying it is no longer known", ids[0], err)
	}
	if c, err := f.Case(ctx, ids[2]); err != nil || c.Outcome != "dropped" {
		t.Errorf("Case(%s), refused and remembered = %+v, %v; want it closed as dropped", ids[2], c, err)
	} else if !c.DecidedAt.Equal(ahead) {
		t.Errorf("Case(%s), refused, closed at %s, want %s, on vigie's clock", ids[2], c.DecidedAt.Format(time.RFC3339), ahead.Format(time.RFC3339))
	}
}

// TestFallbackKeepsCasesUpToTheOpenCap: while Redis is away, every case is
// kept for it (in memory and in the spool) up to the open cases' cap Redis
// keeps (VIGIE_MAX_OPEN_CASES), and written there once it answers; the
// next is refused for the cap. Before, a case past the 1,000th waiting was
// refused, whatever the cap: at 80 cases a second, a 15 s outage lost cases.
func TestFallbackKeepsCasesUpToTheOpenCap(t *testing.T) {
	const openCap = 1_500
	srv := redistest.Start(t)
	url := srv.URL() + "?max_retries=-1&dial_timeout=500ms"
	prefix := newPrefix()
	f := spooledFallback(t, url, prefix, t.TempDir(), 20*time.Millisecond, redis.WithOpenCaseCap(openCap))
	other := otherProcess(t, srv.URL(), prefix)
	srv.Stop()
	ctx := context.Background()
	open := func(i int) (store.Case, error) {
		return f.OpenCase(ctx, store.Case{Reason: "r", Opened: spoolAt,
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
	}
	for i := range openCap {
		if c, err := open(i); err != nil || !strings.HasPrefix(c.ID, "l-") {
			t.Fatalf("case %d of %d with Redis away: %s, %v; want it kept for Redis (dropped %d)", i+1, openCap, c.ID, err, f.Dropped())
		}
	}
	if _, err := open(openCap); !errors.Is(err, store.ErrCaseCap) {
		t.Errorf("case %d with Redis away and a cap of %d: %v; want store.ErrCaseCap", openCap+1, openCap, err)
	}
	srv.Restart()
	waitWrittenBack(t, f, "back from degraded, nothing waiting")
	open2, err := other.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(open2) != openCap || f.Dropped() != 1 {
		t.Errorf("open cases in Redis after the outage = %d, dropped %d; want the %d kept, the one past the cap dropped", len(open2), f.Dropped(), openCap)
	}
}
