package redis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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
	// Persistent: the two cases open before the outage are there after it.
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(newPrefix()), redis.WithOpenCaseCap(2))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	f := redis.NewFallback(primary, redis.FallbackOptions{Logger: logger, RetryEvery: 20 * time.Millisecond})
	defer f.Close()
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

	srv.Stop()
	waitFor(t, "degraded", func() bool {
		_, err := f.Observe(ctx, store.Observation{At: time.Now(), Platform: "discord", Space: "g", Author: "u-9", EventID: fmt.Sprint(time.Now().UnixNano())})
		return err == nil && f.Degraded()
	})
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
	waitFor(t, "back from degraded, nothing waiting", func() bool { return !f.Degraded() && f.Buffered() == 0 })
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
	logMu.Lock()
	defer logMu.Unlock()
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
	// Persistent: the case open before the outage holds the cap after it.
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(newPrefix()), redis.WithOpenCaseCap(1))
	if err != nil {
		t.Fatal(err)
	}
	n := redis.MaxMapped + 500
	f := redis.NewFallback(primary, redis.FallbackOptions{MaxCases: n, RetryEvery: 20 * time.Millisecond})
	defer f.Close()
	ctx := context.Background()
	open := func(i int) (store.Case, error) {
		return f.OpenCase(ctx, store.Case{Reason: "r", Opened: time.Now(),
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}}})
	}
	if _, err := open(-1); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	waitFor(t, "degraded", func() bool {
		_, err := f.Observe(ctx, store.Observation{At: time.Now(), Platform: "discord", Space: "g", Author: "u-9", EventID: fmt.Sprint(time.Now().UnixNano())})
		return err == nil && f.Degraded()
	})
	for i := range n {
		c, err := open(i)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if _, err := f.DecideCase(ctx, c.ID, "kept", "telegram:1", time.Now()); err != nil {
			t.Fatalf("deciding case %d (%s): %v", i, c.ID, err)
		}
	}
	srv.Restart()
	waitFor(t, "back from degraded, nothing waiting", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	if got := f.Dropped(); got != int64(n) {
		t.Fatalf("dropped %d, want the %d cases Redis refused for the cap", got, n)
	}
	if got := f.LocalCases(); got > redis.MaxMapped {
		t.Errorf("%d local case ids remembered after %d cases refused by Redis, want at most %d", got, n, redis.MaxMapped)
	}
}
