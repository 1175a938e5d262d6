package daemon_test

import (
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/rules"
)

// A bug of the loader that panics on a reload, by POST or by the signal, is a
// refused reload: the daemon lives on with the rules it ran, says so in
// /healthz and logs the panic with its stack.
func TestReloadPanicRefused(t *testing.T) {
	in := start(t, rulesV1, nil)
	var panicky atomic.Bool
	daemon.SetLoadRules(t, func(p string) (*rules.Ruleset, string, error) {
		if panicky.Load() {
			var m map[string]int
			m["rule"]++ // a nil map, like a real bug
		}
		return vigie.LoadRules(p)
	})
	panicky.Store(true)

	r := in.do(t, "POST", "/-/reload", nil, nil)
	var refused struct{ Status, Error string }
	r.json(t, &refused)
	if r.code != http.StatusUnprocessableEntity || refused.Status != "refused" ||
		!strings.Contains(refused.Error, "panic: assignment to entry in nil map") {
		t.Errorf("reload = %d %s, want 422 refused with the panic", r.code, r.body)
	}
	if v := in.post(t, message("p-1", "u-1", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("after the panic: matched %q, want scam (the rules that ran)", rulesOf(v))
	}
	var health struct {
		Status   string
		Degraded []string
	}
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	if len(health.Degraded) != 1 || !strings.Contains(health.Degraded[0], "reload refused") ||
		!strings.Contains(health.Degraded[0], "panic") {
		t.Errorf("healthz = %+v, want the refused reload", health)
	}
	if !strings.Contains(in.logs.String(), "runtime/debug.Stack") {
		t.Errorf("the panic's stack is not in the log")
	}
	if n := metric(t, in, `vigie_panics_total{where="reload"}`); n != 1 {
		t.Errorf(`vigie_panics_total{where="reload"} = %v, want 1`, n)
	}

	// the signal's reload, the same
	in.reload <- struct{}{}
	testsync.Eventually(t, "the signalled reload refused", func() bool {
		return metric(t, in, `vigie_panics_total{where="reload"}`) == 2
	})
	if v := in.post(t, message("p-2", "u-2", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("after the second panic: matched %q, want scam", rulesOf(v))
	}

	// the loader fixed, the reload is taken and /healthz is well again
	panicky.Store(false)
	if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != http.StatusOK {
		t.Errorf("reload = %d %s, want 200", r.code, r.body)
	}
	health.Degraded = nil // absent when none
	in.do(t, "GET", "/healthz", nil, nil).json(t, &health)
	if len(health.Degraded) != 0 {
		t.Errorf("healthz degraded = %q after a good reload", health.Degraded)
	}
}
