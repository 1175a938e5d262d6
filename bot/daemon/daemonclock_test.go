package daemon_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store"
)

// stepMorning is where the verify tests' step clocks start: a Wednesday, UTC. Only
// the daemon reads it; nothing compares it with the wall clock.
var stepMorning = time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)

// onClock runs the daemon on clk.
func onClock(clk *stepclock.Clock) func(*daemon.Config) {
	return func(cfg *daemon.Config) {
		cfg.Now, cfg.AfterFunc = clk.Now, clk.AfterFunc
	}
}

func clockMessage(id, text string, at time.Time) map[string]any {
	return map[string]any{"id": id, "platform": "discord", "kind": "message", "space": "guild-1",
		"author": map[string]any{"id": "u-" + id, "name": "Bob"}, "text": text,
		"at": at.UTC().Format(time.RFC3339)}
}

const nightRules = `
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-19:00"}
rules:
  - name: by-day
    category: test
    when: 'text contains "promo" and not after_hours'
    do: ['tag("day")']
  - name: by-night
    category: test
    when: 'text contains "promo"'
    hours: after
    do: ['tag("night")']
`

// TestAfterHoursOnTheDaemonsClock: the daemon's clock (Config.Now), not the
// wall clock, says whether it is after hours: an event of a Wednesday at
// 10:00 in Paris is judged in office hours, one of 23:00 after hours, by the
// engine (after_hours, hours: after) and by the moderator's shift (the mode
// of the audit entries, vigie_shift_hits_total).
func TestAfterHoursOnTheDaemonsClock(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	clk := stepclock.New(time.Date(2026, 11, 18, 10, 0, 0, 0, paris))
	in := start(t, nightRules, nil, onClock(clk))

	// The moderator counts a hit in the mode of the time it handles it,
	// after the answer: the clock moves on once it did.
	if got := rulesOf(in.post(t, clockMessage("day-1", "promo", clk.Now()))); !slices.Equal(got, []string{"by-day"}) {
		t.Errorf("Wednesday 10:00: rules %v, want [by-day]", got)
	}
	testsync.Eventually(t, "by-day's hit counted in office hours", func() bool {
		return metricsHave(t, in, `vigie_shift_hits_total{mode="office",rule="by-day"} 1`)
	})
	clk.Set(time.Date(2026, 11, 18, 23, 0, 0, 0, paris))
	if got := rulesOf(in.post(t, clockMessage("night-1", "promo", clk.Now()))); !slices.Equal(got, []string{"by-night"}) {
		t.Errorf("Wednesday 23:00: rules %v, want [by-night]", got)
	}
	testsync.Eventually(t, "by-night's hit counted after hours", func() bool {
		return metricsHave(t, in, `vigie_shift_hits_total{mode="after",rule="by-night"} 1`)
	})
}

// reasonDesk records the reasons of the cards it is shown, reminders
// included, and the alerts and reports.
type reasonDesk struct {
	mu      sync.Mutex
	reasons []string
	alerts  []string
}

func (d *reasonDesk) PostCase(_ context.Context, c store.Case) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reasons = append(d.reasons, c.Reason)
	return nil
}

func (d *reasonDesk) Alert(_ context.Context, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, text)
	return nil
}

func (d *reasonDesk) told() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.alerts)
}

func (d *reasonDesk) all() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.reasons)
}

const forwardRules = `
rules:
  - name: check
    category: test
    when: 'text contains "look"'
    do: ['forward("look at this")']
`

// TestEscalationOnTheDaemonsClock: a case is opened at the daemon's clock
// (Config.Now), and the escalation looks at the open cases every minute of
// that clock (Config.AfterFunc): stepped two hours on, the case is shown
// again on the desk as waiting for 2h; stepped past its time to live
// (VIGIE_CASE_TTL), it is closed as expired. No wall clock time passes.
func TestEscalationOnTheDaemonsClock(t *testing.T) {
	opened := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	clk := stepclock.New(opened, stepclock.RecordCallers())
	desk := &reasonDesk{}
	in := start(t, forwardRules, map[string]string{"VIGIE_CASE_TTL": "24h"}, onClock(clk), func(cfg *daemon.Config) {
		cfg.Connectors = append(cfg.Connectors, daemon.Connector{Name: "desk", Desk: desk})
	})
	if got := rulesOf(in.post(t, clockMessage("m-1", "look", clk.Now()))); !slices.Equal(got, []string{"check"}) {
		t.Fatalf("rules %v, want [check]", got)
	}
	testsync.Eventually(t, "the case on the desk", func() bool { return len(desk.all()) == 1 })
	// The escalation's next look is a minute after its last, on the clock.
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	if got := desk.all(); len(got) != 1 {
		t.Fatalf("cards before the clock moved: %q, want the case's alone", got)
	}
	clk.Step(2*time.Hour + time.Second)
	testsync.Eventually(t, "the case shown again", func() bool { return len(desk.all()) == 2 })
	if got := desk.all()[1]; !strings.HasPrefix(got, "⏰ waiting for 2h") {
		t.Errorf("reminder %q, want it waiting for 2h", got)
	}
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	clk.Step(22 * time.Hour)
	testsync.Eventually(t, "the case closed as expired", func() bool {
		return metricsHave(t, in, "vigie_cases_expired_total 1")
	})
	var page struct {
		Cases []store.Case `json:"cases"`
	}
	in.do(t, "GET", "/v1/cases?status=decided", nil, nil).json(t, &page)
	if len(page.Cases) != 1 {
		t.Fatalf("decided cases %+v, want m-1's", page.Cases)
	}
	c := page.Cases[0]
	if c.Outcome != store.OutcomeExpired || !c.Opened.Equal(opened) || !c.DecidedAt.Equal(clk.Now()) {
		t.Errorf("m-1's case %s opened %v, decided %v at %v; want expired, opened %v, decided at %v: the daemon's clock",
			c.ID, c.Opened, c.Outcome, c.DecidedAt, opened, clk.Now())
	}
}

// TestMorningReportOnTheDaemonsClock: the night's report goes to the desk
// when the daemon's clock (Config.Now), stepped a minute at a time on its
// timer (Config.AfterFunc), reaches the office hours of the morning after,
// and counts the night's event, judged after hours on that clock.
func TestMorningReportOnTheDaemonsClock(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	clk := stepclock.New(time.Date(2026, 11, 18, 23, 0, 0, 0, paris))
	desk := &reasonDesk{}
	in := start(t, nightRules, nil, onClock(clk), func(cfg *daemon.Config) {
		cfg.Connectors = append(cfg.Connectors, daemon.Connector{Name: "desk", Desk: desk})
	})
	if got := rulesOf(in.post(t, clockMessage("night-1", "promo", clk.Now()))); !slices.Equal(got, []string{"by-night"}) {
		t.Fatalf("Wednesday 23:00: rules %v, want [by-night]", got)
	}
	clk.Set(time.Date(2026, 11, 19, 8, 55, 0, 0, paris))
	morning := time.Date(2026, 11, 19, 9, 0, 0, 0, paris)
	var report string
	testsync.Eventually(t, "the morning report", func() bool {
		for _, text := range desk.told() {
			if strings.HasPrefix(text, "Good morning.") {
				report = text
				return true
			}
		}
		if clk.Now().Before(morning.Add(10 * time.Minute)) {
			clk.Step(time.Minute)
		}
		return false
	})
	const want = "Report Wed 18 Nov 2026 19:00 → Thu 19 Nov 2026 09:00 (Europe/Paris)\n1 event, 1 flagged,"
	if !strings.Contains(report, want) {
		t.Errorf("morning report:\n%s\nwant the night's event, flagged: %q", report, want)
	}
}
