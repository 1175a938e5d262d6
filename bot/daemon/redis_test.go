package daemon_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestRedisRestart runs two vigie one after the other on one Redis: what the first
// counted and opened, the second knows.
func TestRedisRestart(t *testing.T) {
	srv := redistest.Start(t)
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL()}

	first := start(t, rulesV1, env)
	for i := 1; i <= 2; i++ {
		if v := first.post(t, message(fmt.Sprintf("m-%d", i), "u-7", "hi")); len(v.Matches) != 0 {
			t.Fatalf("message %d matched %q", i, rulesOf(v))
		}
	}
	first.post(t, message("s-1", "u-9", "free nitro"))
	var cases struct{ Count int }
	eventually(t, "the case", func() bool {
		first.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
		return cases.Count == 1
	})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := start(t, rulesV1, env)
	var h struct {
		Store    string
		Degraded []string
	}
	second.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if h.Store != "redis" || len(h.Degraded) != 0 {
		t.Errorf("healthz store %q degraded %q, want redis and nothing degraded", h.Store, h.Degraded)
	}
	second.do(t, "GET", "/v1/cases", nil, nil).json(t, &cases)
	if cases.Count != 1 {
		t.Errorf("after a restart: %d open cases, want 1", cases.Count)
	}
	if v := second.post(t, message("m-1", "u-7", "hi")); !v.Duplicate {
		t.Error("an event seen before the restart is not a duplicate")
	}
	second.post(t, message("m-3", "u-7", "hi"))
	if v := second.post(t, message("m-4", "u-7", "hi")); !slices.Equal(rulesOf(v), []string{"flood"}) {
		t.Errorf("fourth message across a restart matched %q, want flood", rulesOf(v))
	}

	// Redis going away degrades vigie: /healthz says so, and events are still
	// moderated, from memory.
	srv.Stop()
	if v := second.post(t, message("s-2", "u-9", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("with Redis down: matched %q, want scam", rulesOf(v))
	}
	second.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if len(h.Degraded) == 0 || !strings.HasPrefix(h.Degraded[0], "store: ") {
		t.Errorf("healthz degraded = %q, want the store", h.Degraded)
	}
	// While Redis is away, the queue lists the cases waiting to be written to it.
	var waiting struct{ Cases []struct{ ID string } }
	eventually(t, "the case opened while Redis is down", func() bool {
		second.do(t, "GET", "/v1/cases", nil, nil).json(t, &waiting)
		return len(waiting.Cases) == 1 && strings.HasPrefix(waiting.Cases[0].ID, "l-")
	})
	r := second.do(t, "GET", "/metrics", nil, nil)
	if !strings.Contains(string(r.body), "vigie_store_degraded 1") {
		t.Errorf("/metrics lacks vigie_store_degraded 1")
	}
}
