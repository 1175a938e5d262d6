package daemon_test

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestReportCountsEventsWhenHandled: events dated in the past (judged at
// their own time, up to 72 hours back; a late delivery) are counted in the
// report of when vigie handled them, as their flags are: the report of the
// last hour said "0 events, 1 flagged", the events counted in the hours of
// their own dates. On the memory store, and on Redis read by a second vigie.
func TestReportCountsEventsWhenHandled(t *testing.T) {
	past := func(id, text string, ago time.Duration) map[string]any {
		ev := message(id, "u-7", text)
		ev["at"] = time.Now().Add(-ago).UTC().Format(time.RFC3339)
		return ev
	}
	check := func(t *testing.T, in *instance, what string) {
		t.Helper()
		var r report.Report
		testsync.Eventually(t, what, func() bool {
			r = report.Report{}
			in.do(t, "GET", "/v1/report?since=1h&format=json", nil, nil).json(t, &r)
			return r.Flagged >= 1
		})
		if r.Events != 2 || r.Flagged != 1 || r.Flagged > r.Events {
			t.Errorf("%s: %d events, %d flagged, want 2 events, 1 flagged", what, r.Events, r.Flagged)
		}
	}
	send := func(t *testing.T, in *instance, run string) {
		t.Helper()
		if v := in.post(t, past(run+"-scam", "free nitro", 10*time.Hour)); len(v.Matches) != 1 {
			t.Fatalf("the scam matched %q", rulesOf(v))
		}
		if v := in.post(t, past(run+"-hi", "hi", 30*time.Hour)); len(v.Matches) != 0 {
			t.Fatalf("hi matched %q", rulesOf(v))
		}
	}
	t.Run("memory", func(t *testing.T) {
		in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
		send(t, in, "mem")
		check(t, in, "the report of the last hour")
	})
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		env := map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_REDIS_URL": srv.URL()}
		first := start(t, rulesV1, env)
		send(t, first, "redis")
		check(t, first, "the report of the last hour")
		if err := first.stop(); err != nil {
			t.Fatal(err)
		}
		// The second reads what the first wrote: its tallies and its audit.
		second := start(t, rulesV1, env)
		check(t, second, "the report of the last hour, read by another vigie from Redis")
	})
}
