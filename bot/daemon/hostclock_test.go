package daemon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestEventsWhileTheClockIsBehind: this machine's clock is three hours
// behind (a VM restored from a snapshot, NTP not synchronised yet) and a
// sender with the right time posts an event to /v1/events. It is judged, as
// of this machine's now, as the platforms' events are; the log and /healthz
// say the clocks disagree; once the clock is right, /healthz stops saying
// it. Before, each such event was refused with 400 ("more than 5m0s in the
// future"), which a sender does not retry: every event of the night was lost
// until the clock was stepped, and vigie logged nothing.
func TestEventsWhileTheClockIsBehind(t *testing.T) {
	real := time.Now().UTC().Truncate(time.Second)
	clock := stepclock.New(real.Add(-3 * time.Hour))
	in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret}, func(c *daemon.Config) { c.Now = clock.Now })

	v := in.post(t, map[string]any{"id": "m-1", "platform": "discord", "kind": "message", "space": "g", "channel": "c",
		"author": map[string]any{"id": "u-1", "name": "Bob"}, "text": "free nitro here", "at": real.Format(time.RFC3339)})
	if len(v.Matches) == 0 {
		t.Fatalf("verdict %+v: want the scam matched", v)
	}
	if !v.At.Equal(clock.Now()) {
		t.Errorf("verdict at %s, want this machine's now, %s", v.At, clock.Now())
	}
	var health struct {
		Degraded []string `json:"degraded"`
	}
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	if got := strings.Join(health.Degraded, "\n"); !strings.Contains(got, "clock: events on /v1/events dated up to 3h ahead of this machine's clock") {
		t.Errorf("/healthz degraded %q: want the clocks' disagreement", health.Degraded)
	}
	if logs := in.logs.String(); !strings.Contains(logs, "events dated ahead of this machine's clock") || !strings.Contains(logs, "ahead_by=3h") {
		t.Errorf("log does not say the event was dated 3h ahead:\n%s", logs)
	}

	// NTP steps the clock: an event of the right time is no news, and the
	// note goes once it is old.
	clock.Step(3*time.Hour + 11*time.Minute)
	in.post(t, map[string]any{"id": "m-2", "platform": "discord", "kind": "message", "space": "g", "channel": "c",
		"author": map[string]any{"id": "u-1", "name": "Bob"}, "text": "bonjour", "at": clock.Now().Format(time.RFC3339)})
	health.Degraded = nil
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	if got := strings.Join(health.Degraded, "\n"); strings.Contains(got, "clock:") {
		t.Errorf("/healthz degraded %q once the clock is right: want no clock", health.Degraded)
	}
}
