package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/told"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// alertDesk is a desk that keeps the alerts it was sent.
type alertDesk struct {
	mu     sync.Mutex
	alerts []string
}

func (d *alertDesk) PostCase(context.Context, store.Case) error { return nil }
func (d *alertDesk) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, text)
	return nil
}

func TestRuleFailuresAlertOnce(t *testing.T) {
	now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	counted := 0
	desk := &alertDesk{}
	r := newRuleFailures(desk, told.Desk{}, slog.New(slog.DiscardHandler), func(rules.RuleError) { counted++ }, func() time.Time { return now })
	fail := r.observer("rules.yaml")
	boom := rules.RuleError{Rule: "links", Line: 12, Col: 11, Err: errors.New("cannot fetch x from nil\n(1:5)")}
	other := rules.RuleError{Rule: "links", Line: 12, Col: 11, Err: errors.New("later error")}
	sent := func() int { return len(r.alerts) }

	// Failures spread over more than the window never add up to an alert.
	for range 40 {
		fail(boom)
		now = now.Add(time.Minute)
	}
	if sent() != 0 {
		t.Fatalf("%d alerts for a rule failing once a minute", sent())
	}
	// A burst does, once.
	now = now.Add(time.Hour)
	fail(boom)
	for range 50 {
		fail(other)
		now = now.Add(time.Second)
	}
	if sent() != 1 {
		t.Fatalf("%d alerts for a burst, want 1", sent())
	}
	// Within the hour, no second alert; after it, another.
	now = now.Add(30 * time.Minute)
	for range 30 {
		fail(other)
	}
	if sent() != 1 {
		t.Fatalf("%d alerts within the hour, want 1", sent())
	}
	now = now.Add(time.Hour)
	for range 30 {
		fail(other)
	}
	if sent() != 2 {
		t.Fatalf("%d alerts after the hour, want 2", sent())
	}
	if counted != 40+51+60 {
		t.Errorf("metric counted %d failures", counted)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.run(ctx); close(done) }()
	for {
		desk.mu.Lock()
		n := len(desk.alerts)
		desk.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	want := `rule "links" failed on more than 20 events in 10m; rules.yaml:12:11: cannot fetch x from nil`
	if desk.alerts[0] != want {
		t.Errorf("alert\n%s\nwant\n%s", desk.alerts[0], want)
	}
	if !strings.HasSuffix(desk.alerts[1], "rules.yaml:12:11: later error") {
		t.Errorf("second alert %q: want the first error of its burst", desk.alerts[1])
	}
}
