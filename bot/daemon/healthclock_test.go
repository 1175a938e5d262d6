package daemon_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestHealthOnTheDaemonsClock: /healthz says when the rules were loaded and
// when a reload was refused on the daemon's clock (Config.Now), as the
// desk's messages and the cases do, not on the wall clock: a clock stepped
// an hour on is read there an hour on.
func TestHealthOnTheDaemonsClock(t *testing.T) {
	clk := stepclock.New(stepMorning)
	in := start(t, rulesV1, nil, onClock(clk))
	var health struct {
		Rules struct {
			LoadedAt time.Time `json:"loaded_at"`
		}
		Degraded []string
	}
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	if !health.Rules.LoadedAt.Equal(stepMorning) {
		t.Errorf("rules loaded at %v, want %v (the daemon's clock)", health.Rules.LoadedAt, stepMorning)
	}

	clk.Step(time.Hour)
	if err := os.WriteFile(in.file, []byte(rulesBroken), 0o600); err != nil {
		t.Fatal(err)
	}
	in.do(t, "POST", "/-/reload", nil, nil)
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	want := "last reload refused at " + stepMorning.Add(time.Hour).Format(time.RFC3339)
	if len(health.Degraded) != 1 || !strings.Contains(health.Degraded[0], want) {
		t.Errorf("healthz degraded = %q, want %q", health.Degraded, want)
	}

	clk.Step(time.Hour)
	if err := os.WriteFile(in.file, []byte(rulesV2), 0o600); err != nil {
		t.Fatal(err)
	}
	in.do(t, "POST", "/-/reload", nil, nil)
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	if want := stepMorning.Add(2 * time.Hour); !health.Rules.LoadedAt.Equal(want) {
		t.Errorf("rules reloaded at %v, want %v (the daemon's clock)", health.Rules.LoadedAt, want)
	}
}

// TestDeskDownOnTheDaemonsClock: /-/ready says since when a desk cannot be
// reached on the daemon's clock, as /healthz does the rest.
func TestDeskDownOnTheDaemonsClock(t *testing.T) {
	clk := stepclock.New(stepMorning)
	dc := newDiscordDesk(t, "flaky")
	in := start(t, deskRules, nil, onClock(clk), func(c *daemon.Config) { c.Connectors = append(c.Connectors, discordDesk(t, dc)) })
	clk.Step(time.Hour)
	in.post(t, message("d-1", "u-1", "nitro flaky"))
	want := "unreachable since " + stepMorning.Add(time.Hour).Format(time.RFC3339)
	var body string
	testsync.Eventually(t, "the desk down on /-/ready", func() bool {
		body = string(in.do(t, "GET", "/-/ready", nil, nil).body)
		return strings.Contains(body, "unreachable since")
	})
	if !strings.Contains(body, want) {
		t.Errorf("/-/ready = %s, want %q", body, want)
	}
}
