package discord

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
	k.heard(discord.Format(http.TimeFormat), host, host)
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
	k.heard(host.Add(-55*time.Second).Format(http.TimeFormat), host, host) // near the bound: still far
	k.heard(host.Add(-65*time.Second).Format(http.TimeFormat), host, host)
	k.heard(host.Format(http.TimeFormat), host, host)
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

// TestDiscordClockSlowAnswer: an answer slow to come back (a busy host, a
// slow way) carries a Date that reads Discord's clock behind by the time it
// took; it allows the offset kept, which stays, in the clock and the metric.
// An answer that came back at once and does not allow it is the host's
// clock stepping forward, and is taken. Before, an answer 8 s slow moved
// the offset 8 s back, as a step of the host's clock: the catch-up's window
// and the metric went by it until a quicker answer came.
func TestDiscordClockSlowAnswer(t *testing.T) {
	host := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	gauge := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
	k := &discordClock{host: func() time.Time { return host }, log: testsync.Logger(&testsync.Buffer{}), skew: gauge}
	offset := func() float64 {
		var m dto.Metric
		if err := gauge.Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetGauge().GetValue()
	}
	discord := host.Add(-15 * time.Minute)
	k.heard(discord.Format(http.TimeFormat), host, host)

	// Made as the request left, back 8 s later.
	k.heard(discord.Add(time.Second).Format(http.TimeFormat), host.Add(time.Second), host.Add(9*time.Second))
	if got := offset(); got != -900 {
		t.Errorf("after a slow answer, the offset metric reads %.0fs, want -900s", got)
	}
	if got := k.now(); !got.Equal(discord) {
		t.Errorf("after a slow answer, Discord's clock reads %s, want %s", got, discord)
	}

	// Back at once, 30 s behind: the host's clock went 30 s forward.
	k.heard(discord.Add(20*time.Second).Format(http.TimeFormat), host.Add(50*time.Second), host.Add(50*time.Second))
	if got := offset(); got != -930 {
		t.Errorf("after the host's clock stepped 30 s forward, the offset metric reads %.0fs, want -930s", got)
	}
}
