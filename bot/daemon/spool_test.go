package daemon_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// Cases opened while Redis is away, by a vigie stopped before it returns,
// are written to Redis by the next vigie on the same spool
// (VIGIE_SPOOL_DIR), each once. Before the spool, the first vigie logged
// them lost at its shutdown, and the desk never saw them again.
func TestSpoolAcrossARestart(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_SPOOL_DIR": filepath.Join(t.TempDir(), "spool")}
	first := start(t, rulesV1, env)
	srv.Stop()
	scams := []string{"down-s-1", "down-s-2", "down-s-3"}
	for i, id := range scams {
		if v := first.post(t, message(id, "u-"+id, "free nitro")); !slices.Contains(rulesOf(v), "scam") {
			t.Fatalf("event %d matched %q, want scam", i, rulesOf(v))
		}
	}
	testsync.Eventually(t, "the three cases waiting for Redis", func() bool {
		return metric(t, first, "vigie_store_buffered") >= 3
	})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	if logs := first.logs.String(); !strings.Contains(logs, "kept in the spool") {
		t.Errorf("the first vigie's shutdown does not say what it kept in the spool:\n%s", logs)
	}

	second := start(t, rulesV1, env)
	srv.Restart()
	var open struct {
		Cases []struct {
			ID    string
			Event struct{ ID string }
		}
	}
	got := map[string]int{}
	testsync.Eventually(t, "the spooled cases in Redis", func() bool {
		if metric(t, second, "vigie_store_buffered") != 0 || metric(t, second, "vigie_store_degraded") != 0 {
			return false
		}
		second.do(t, "GET", "/v1/cases", nil, nil).json(t, &open)
		clear(got)
		for _, c := range open.Cases {
			if strings.HasPrefix(c.ID, "c-") {
				got[c.Event.ID]++
			}
		}
		return len(got) >= len(scams)
	})
	for _, id := range scams {
		if got[id] != 1 {
			t.Errorf("cases of %s in Redis = %d; want 1", id, got[id])
		}
	}
	if len(open.Cases) != len(scams) {
		t.Errorf("%d open cases; want the %d scams' only", len(open.Cases), len(scams))
	}
}
