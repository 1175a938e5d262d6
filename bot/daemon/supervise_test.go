package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/telegram"
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

// superviseInTest runs supervise over src until stop, which returns what it
// reported, "source: problem" each.
func superviseInTest(src *flaky) (out <-chan bot.Event, stop func() []string) {
	var mu sync.Mutex
	var reports []string
	report := func(what, problem string) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, what+": "+problem)
	}
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan bot.Event)
	done := make(chan struct{})
	go func() {
		supervise(ctx, src, events, slog.New(slog.DiscardHandler), nil, report)
		close(done)
	}()
	return events, func() []string {
		cancel()
		<-done
		mu.Lock()
		defer mu.Unlock()
		return reports
	}
}

func TestSupervise(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &flaky{t0: time.Now(), failures: []func() error{
			func() error { return errors.New("gateway closed") },
			func() error { panic("nil map") },
			func() error { return nil },
		}}
		out, stop := superviseInTest(src)
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
		reports := stop()
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

// TestSuperviseWaitsAsThePlatformAsks: a source that fails with a wait asked
// by its platform (a 429's retry_after) is restarted once that wait is over,
// not after the first pauses of 1s, 2s: a restart before would be refused
// again. A wait of hours is cut to retryAfterMax; one shorter than the pause
// due leaves the pause.
func TestSuperviseWaitsAsThePlatformAsks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tooMany := func(d time.Duration) error {
			return &bot.ActionError{Op: "getMe", Retryable: true, RetryAfter: d, Err: errors.New("Too Many Requests")}
		}
		src := &flaky{t0: time.Now(), failures: []func() error{
			func() error { return tooMany(30 * time.Second) },
			func() error { return fmt.Errorf("telegram: who am I: %w", tooMany(3*time.Hour)) },
			func() error { return tooMany(500 * time.Millisecond) },
		}}
		out, stop := superviseInTest(src)
		<-out
		reports := stop()
		want := []time.Duration{0, 30 * time.Second, 30*time.Second + retryAfterMax, 30*time.Second + retryAfterMax + 4*time.Second}
		if !slices.Equal(src.started, want) {
			t.Errorf("runs started at %v, want %v", src.started, want)
		}
		wantReports := []string{
			"flaky: restarting after 30s, the wait the platform asked for: getMe: Too Many Requests",
			"flaky: restarting after 15m, the wait the platform asked for: telegram: who am I: getMe: Too Many Requests",
			"flaky: restarting after 4s: getMe: Too Many Requests",
		}
		if !slices.Equal(reports, wantReports) {
			t.Errorf("reports = %q\nwant %q", reports, wantReports)
		}
	})
}

// TestSuperviseTelegramRetryAfter: the Telegram connector in webhook mode
// whose setWebhook is answered 429 with retry_after 30 is started again after
// those 30 seconds, and registers its webhook then.
func TestSuperviseTelegramRetryAfter(t *testing.T) {
	api := tgfake.New(t)
	api.Fail("setWebhook", http.StatusTooManyRequests, "Too Many Requests: retry after 30", 30)
	var logs lockedBuffer
	c, err := telegram.New(telegram.Config{Token: tgfake.Token, APIURL: api.HTTP.URL, Mode: telegram.ModeWebhook,
		WebhookURL: "https://vigie.example/webhooks/telegram", WebhookSecret: "s3cret",
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var waits []time.Duration
	var reports []string
	wait := func(ctx context.Context, d time.Duration) bool {
		mu.Lock()
		defer mu.Unlock()
		waits = append(waits, d)
		return ctx.Err() == nil
	}
	report := func(what, problem string) {
		mu.Lock()
		defer mu.Unlock()
		reports = append(reports, what+": "+problem)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		superviseWaiting(ctx, c, make(chan bot.Event), slog.New(slog.NewTextHandler(&logs, nil)), nil, report, wait)
		close(done)
	}()
	api.WaitFor("setWebhook", 2, nil)
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if want := []time.Duration{30 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("waited %v before the restarts, want %v (Telegram's retry_after)", waits, want)
	}
	if len(reports) == 0 || !strings.HasPrefix(reports[0], "telegram: restarting after 30s, the wait the platform asked for: telegram: set the webhook:") {
		t.Errorf("reports = %q", reports)
	}
	if !strings.Contains(logs.String(), "retry_after=30s") {
		t.Errorf("the log does not say the wait Telegram asked for:\n%s", logs.String())
	}
}
