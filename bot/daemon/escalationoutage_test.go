package daemon_test

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestReminderAfterADeskOutage: the Discord desk answers 500 when a case's
// reminder falls due; a minute later on the daemon's clock, the desk
// answering again, the reminder is posted, not an hour later at the case's
// next reminder. No wall clock time is waited for.
func TestReminderAfterADeskOutage(t *testing.T) {
	opened := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	clk := stepclock.New(opened, stepclock.RecordCallers())
	f := discordfake.New(t, discordfake.Options{})
	var down atomic.Bool
	f.FailWhen(func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return down.Load() && c.Method == "POST" && strings.Contains(content, "⏰")
	}, http.StatusInternalServerError, `{"message": "500: Internal Server Error", "code": 0}`)
	in := start(t, forwardRules, nil, onClock(clk), func(cfg *daemon.Config) {
		cfg.Connectors = append(cfg.Connectors, discordDesk(t, f))
	})
	if got := rulesOf(in.post(t, clockMessage("m-1", "look", clk.Now()))); !slices.Equal(got, []string{"check"}) {
		t.Fatalf("rules %v, want [check]", got)
	}
	testsync.Eventually(t, "the case on the desk", func() bool { return len(posted(f, "look")) == 1 })
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })

	down.Store(true)
	clk.Step(2*time.Hour + time.Second)
	testsync.Eventually(t, "the reminder tried", func() bool { return len(posted(f, "⏰")) >= 1 })
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	tried := len(posted(f, "⏰"))

	down.Store(false)
	clk.Step(time.Minute)
	testsync.Eventually(t, "the reminder posted once the desk answers", func() bool { return len(posted(f, "⏰")) > tried })
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	clk.Step(time.Minute)
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	if got := posted(f, "⏰"); len(got) != tried+1 || !strings.Contains(got[tried], "waiting for 2h1m") {
		t.Errorf("reminders sent %q; want %d refused, then one posted, waiting for 2h1m", got, tried)
	}
	if !metricsHave(t, in, "vigie_cases_reannounced_total 1") {
		t.Error("/metrics lacks vigie_cases_reannounced_total 1")
	}
}
