package daemon_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// shakyDesk panics on its first calls of each kind, then takes what it is given.
type shakyDesk struct {
	mu         sync.Mutex
	panicsLeft map[string]int
	cases      []store.Case
	alerts     []string
}

func (d *shakyDesk) maybePanic(kind string) {
	d.mu.Lock()
	left := d.panicsLeft[kind]
	if left > 0 {
		d.panicsLeft[kind]--
	}
	d.mu.Unlock()
	if left > 0 {
		var m map[string]int
		m[kind]++ // a nil map, like a real bug
	}
}

func (d *shakyDesk) PostCase(_ context.Context, c store.Case) error {
	kind := "case"
	if strings.HasPrefix(c.Reason, "⏰") {
		kind = "reminder"
	}
	d.maybePanic(kind)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.cases = append(d.cases, c)
	return nil
}

func (d *shakyDesk) Alert(_ context.Context, text string) error {
	d.maybePanic("alert")
	d.mu.Lock()
	defer d.mu.Unlock()
	d.alerts = append(d.alerts, text)
	return nil
}

func (d *shakyDesk) Cases() []store.Case {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]store.Case(nil), d.cases...)
}

// TestPanickingDeskIsRecovered: the desk's delivery loop panics twice on the
// same case; vigie survives, counts the panics and restarts the loop, which
// delivers the case the third time.
func TestPanickingDeskIsRecovered(t *testing.T) {
	desk := &shakyDesk{panicsLeft: map[string]int{"case": 2}}
	feed := &feed{name: "discord", in: make(chan bot.Event)}
	in := startOnly(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret}, []daemon.Connector{
		{Name: "discord", Source: feed, Platforms: []bot.Platform{&chat{name: "discord"}}, Desk: desk},
	})
	in.post(t, message("s-1", "u-9", "free nitro"))
	testsync.Eventually(t, "the case on the desk", func() bool { return len(desk.Cases()) == 1 })
	if n := metric(t, in, `vigie_panics_total{where="desk delivery"}`); n != 2 {
		t.Errorf(`vigie_panics_total{where="desk delivery"} = %v, want 2`, n)
	}
	logs := in.logs.String()
	if !strings.Contains(logs, "panic recovered") || !strings.Contains(logs, "assignment to entry in nil map") || !strings.Contains(logs, "guard_test.go") {
		t.Errorf("the logs lack the panic with its stack:\n%s", logs)
	}
	// Still serving.
	if r := in.do(t, "GET", "/healthz", nil, nil); r.code != 200 {
		t.Errorf("/healthz = %d after the panics", r.code)
	}
}

// TestPanickingEscalationIsRecovered: the after-hours loop that reminds the
// desk of old cases panics twice; the guard restarts it where it ran, under
// the lease it holds (taken once: the job is not given up and taken again,
// as it would be were it let end), and the reminder goes out.
func TestPanickingEscalationIsRecovered(t *testing.T) {
	srv := redistest.Start(t)
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_WEBHOOK_SECRET": secret,
		"VIGIE_ESCALATE_AFTER": "1ms", "VIGIE_ESCALATE_EVERY": "1ms",
		// The escalation's lease is taken 3.6s after a vigie found none, not 18s.
		"VIGIE_LEASE_TTL": "3s", "VIGIE_LEASE_TTL_MAX": "3s"}
	// A first vigie, without a desk, leaves an open case in Redis.
	first := start(t, rulesV1, env)
	first.post(t, message("s-1", "u-9", "free nitro"))
	var cases struct{ Count int }
	testsync.Eventually(t, "the case", func() bool {
		first.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
		return cases.Count == 1
	})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	// The second reminds its desk of it as it starts.
	desk := &shakyDesk{panicsLeft: map[string]int{"reminder": 2}}
	second := startOnly(t, rulesV1, env, []daemon.Connector{
		{Name: "discord", Source: &feed{name: "discord", in: make(chan bot.Event)}, Platforms: []bot.Platform{&chat{name: "discord"}}, Desk: desk},
	})
	testsync.Eventually(t, "the reminder on the desk", func() bool {
		for _, c := range desk.Cases() {
			if strings.HasPrefix(c.Reason, "⏰") {
				return true
			}
		}
		return false
	})
	if n := metric(t, second, `vigie_panics_total{where="escalation"}`); n != 2 {
		t.Errorf(`vigie_panics_total{where="escalation"} = %v, want 2`, n)
	}
	logs := second.logs.String()
	restarted, taken := 0, 0
	for line := range strings.Lines(logs) {
		switch {
		case strings.Contains(line, `msg="restarting after a panic"`) && strings.Contains(line, "where=escalation"):
			restarted++
		case strings.Contains(line, `msg="lease acquired: running the job here"`) && strings.Contains(line, "job=escalation"):
			taken++
		}
	}
	if restarted != 2 || taken != 1 {
		t.Errorf("the escalation restarted by the guard %d times, its lease taken %d times; want 2 and 1:\n%s", restarted, taken, logs)
	}
}
