package discord

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestDiscordClockFromDate: Discord's clock is the host's plus the offset
// the last Date header gave, never before the newest message id delivered;
// a host more than a minute off is warned of once, on /healthz while it
// lasts, and told once when it is back (not again for an offset read near
// the bound).
func TestDiscordClockFromDate(t *testing.T) {
	host := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	logs := &testsync.Buffer{}
	k := &discordClock{host: func() time.Time { return host }, log: testsync.Logger(logs),
		skew: prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})}
	if got := k.now(); !got.Equal(host) {
		t.Errorf("before any answer, Discord's clock reads %s, want the host's %s", got, host)
	}
	discord := host.Add(-15 * time.Minute)
	k.heard(discord.Format(http.TimeFormat), host)
	if got := k.now(); got.Sub(discord).Abs() > time.Second {
		t.Errorf("Discord's clock reads %s, want about %s", got, discord)
	}
	if tr := k.trouble(); !strings.Contains(tr, "15m ahead of Discord's") {
		t.Errorf("trouble %q", tr)
	}
	// A message id later than the estimate: the clock reads at least that.
	later := discord.Add(3 * time.Second)
	k.sawID(snowflake(later, 1))
	if got := k.now(); got.Before(later.Truncate(time.Millisecond)) {
		t.Errorf("Discord's clock reads %s, before a message delivered at %s", got, later)
	}
	k.heard(host.Add(-55*time.Second).Format(http.TimeFormat), host) // near the bound: still far
	k.heard(host.Add(-65*time.Second).Format(http.TimeFormat), host)
	k.heard(host.Format(http.TimeFormat), host)
	if tr := k.trouble(); tr != "" {
		t.Errorf("trouble %q once the clocks agree", tr)
	}
	if n := strings.Count(logs.String(), "the host's clock is"); n != 1 {
		t.Errorf("warned %d times, want once:\n%s", n, logs)
	}
	if n := strings.Count(logs.String(), "agrees with Discord's again"); n != 1 {
		t.Errorf("told back %d times, want once:\n%s", n, logs)
	}
}
