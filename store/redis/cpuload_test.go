package redis_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackUnderCPULoad sends events' observations, journal entries,
// audit entries and strikes to a Fallback on a real redis-server (append-only,
// fsync always) for 15 s, at VIGIE_CPU_EVENTS a second (1000), while
// VIGIE_CPU_SPIN goroutines (8) keep the process's cores busy, and fails
// when the Fallback took Redis, which ran throughout, for away. It runs only
// with VIGIE_CPU_SPIN set: it measures a machine, and is no part of make test
// (docs/store.md, "Slow is not frozen"). Before an event's second was
// counted from when Redis had its pipeline, it failed about two runs in three
// with 8 spinning goroutines on two cores.
func TestFallbackUnderCPULoad(t *testing.T) {
	spin, err := strconv.Atoi(os.Getenv("VIGIE_CPU_SPIN"))
	if err != nil {
		t.Skip("VIGIE_CPU_SPIN=N runs it, with N busy goroutines")
	}
	rate := 1000
	if v, err := strconv.Atoi(os.Getenv("VIGIE_CPU_EVENTS")); err == nil && v > 0 {
		rate = v
	}
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}, redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
	stop := make(chan struct{})
	var spinners sync.WaitGroup
	for range spin {
		spinners.Go(func() {
			x := 0
			for {
				select {
				case <-stop:
					return
				default:
				}
				for i := range 100_000 {
					x += i
				}
			}
		})
	}
	defer func() { close(stop); spinners.Wait() }()

	var events sync.WaitGroup
	var sent, degraded atomic.Int64
	var slowest atomic.Int64
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	t0 := time.Unix(1_800_000_000, 0)
	for end := time.Now().Add(15 * time.Second); time.Now().Before(end); {
		<-tick.C
		i := int(sent.Add(1))
		events.Go(func() {
			ctx := context.Background()
			at := t0.Add(time.Duration(i) * time.Millisecond)
			a := fmt.Sprint("u-", i%1000)
			ev := bot.Event{ID: fmt.Sprint("m-", i), Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c",
				Author: bot.Author{ID: a}, Text: fmt.Sprintf("message %d of a busy community", i), At: at}
			asked := time.Now()
			if _, err := f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: a, EventID: ev.ID, StrikeWindow: time.Hour,
				Counters: []store.CounterOp{{Name: "msgs", Key: a, Window: time.Minute, Incr: true}}}); err != nil {
				t.Errorf("observe %s: %v", ev.ID, err)
			}
			for d := int64(time.Since(asked)); ; {
				s := slowest.Load()
				if d <= s || slowest.CompareAndSwap(s, d) {
					break
				}
			}
			_ = f.Begin(ctx, store.JournalEntry{Key: ev.Key(), Event: ev, At: at, Begun: at})
			_ = f.AppendAudit(ctx, store.AuditEntry{At: at, Event: ev, Mode: "enforce"})
			_ = f.AddStrike(ctx, store.Strike{At: at, Platform: "discord", Space: "g", Author: a, Rule: "r"})
			_ = f.Done(ctx, ev.Key())
			if f.Degraded() {
				degraded.Add(1)
			}
		})
	}
	events.Wait()
	t.Logf("%d events, %d answered while degraded, slowest observation %s", sent.Load(), degraded.Load(), time.Duration(slowest.Load()))
	if degraded.Load() > 0 {
		t.Errorf("Redis taken for away %s, while it ran", f.Problem())
	}
}
