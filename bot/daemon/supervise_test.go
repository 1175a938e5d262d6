package daemon

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// flaky fails its first runs as told (an error, a panic, an early nil), then sends
// one event and runs until cancelled.
type flaky struct {
	failures []func() error
	runs     int
	started  []time.Duration // when each run started, from the test's start
	t0       time.Time
}

func (f *flaky) Name() string { return "flaky" }

func (f *flaky) Run(ctx context.Context, out chan<- bot.Event) error {
	f.runs++
	f.started = append(f.started, time.Since(f.t0))
	if len(f.failures) > 0 {
		fail := f.failures[0]
		f.failures = f.failures[1:]
		return fail()
	}
	select {
	case out <- bot.Event{ID: "e-1", Platform: "flaky"}:
	case <-ctx.Done():
		return nil
	}
	<-ctx.Done()
	return nil
}

func TestSupervise(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &flaky{t0: time.Now(), failures: []func() error{
			func() error { return errors.New("gateway closed") },
			func() error { panic("nil map") },
			func() error { return nil },
		}}
		var mu sync.Mutex
		var reports []string
		report := func(what, problem string) {
			mu.Lock()
			defer mu.Unlock()
			reports = append(reports, what+": "+problem)
		}
		ctx, cancel := context.WithCancel(context.Background())
		out := make(chan bot.Event)
		done := make(chan struct{})
		go func() {
			supervise(ctx, src, out, slog.New(slog.DiscardHandler), nil, report)
			close(done)
		}()
		if ev := <-out; ev.ID != "e-1" {
			t.Fatalf("event %q", ev.ID)
		}
		// Pauses of 1s, 2s, 4s between the runs.
		want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}
		if !slices.Equal(src.started, want) {
			t.Errorf("runs started at %v, want %v", src.started, want)
		}
		time.Sleep(healthyAfter) // the last run has lasted long enough to be healthy
		synctest.Wait()
		cancel()
		<-done
		wantReports := []string{
			"flaky: restarting after 1s: gateway closed",
			"flaky: restarting after 2s: panic: nil map",
			"flaky: restarting after 4s: returned before shutdown",
			"flaky: ",
		}
		if !slices.Equal(reports, wantReports) {
			t.Errorf("reports = %q\nwant %q", reports, wantReports)
		}
	})
}
