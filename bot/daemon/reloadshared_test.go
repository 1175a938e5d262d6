package daemon_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestReloadReachesEveryInstance: two vigie on one Redis read one rule file
// (a shared volume). A CM changes it and asks one of them to reload, through
// the load balancer (POST /-/reload; the console's Apply and a desk's
// /reload alike): the other one runs the new rules too, without anyone
// reaching it. Before, it ran the old rules until it was reloaded by hand or
// restarted, and the events the balancer sent it were judged by them. A third
// vigie, with a rule file of its own that nobody changed, reloads it, runs
// the same rules as before, and says in /healthz that its file is not the
// one the others run.
func TestReloadReachesEveryInstance(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix("vigietest-reloadshared")
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(rulesGeneration("one")), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIGIE_REDIS_URL": url, "VIGIE_REDIS_PREFIX": prefix, "VIGIE_WEBHOOK_SECRET": secret}
	shared := func(cfg *daemon.Config) {
		cfg.Connectors = nil
		cfg.ConfigPath = file
		cfg.FollowEvery = 100 * time.Millisecond
	}
	own := func(cfg *daemon.Config) {
		cfg.Connectors = nil
		cfg.FollowEvery = 100 * time.Millisecond
	}
	ins := []*instance{start(t, rulesGeneration("one"), env, shared), start(t, rulesGeneration("one"), env, shared),
		start(t, rulesGeneration("one"), env, own)}
	n := 0
	judgedBy := func(in *instance) []string {
		n++
		return rulesOf(in.post(t, message(fmt.Sprintf("m-%d", n), "u-1", "horaires ?")))
	}
	for i, in := range ins {
		if got := judgedBy(in); !slices.Equal(got, []string{"gen-one"}) {
			t.Fatalf("instance %d before the change: rules %v", i, got)
		}
	}

	if err := os.WriteFile(file, []byte(rulesGeneration("two")), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := ins[0].do(t, "POST", "/-/reload", nil, nil); r.code != 200 {
		t.Fatalf("POST /-/reload = %d %s", r.code, r.body)
	}
	if got := judgedBy(ins[0]); !slices.Equal(got, []string{"gen-two"}) {
		t.Fatalf("the instance reloaded: rules %v", got)
	}
	testsync.Eventually(t, "the other instance running the new rules", func() bool {
		return slices.Equal(judgedBy(ins[1]), []string{"gen-two"})
	})
	differs := func(in *instance) bool {
		var h struct{ Degraded []string }
		in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
		return slices.ContainsFunc(h.Degraded, func(d string) bool {
			return strings.Contains(d, "another instance reloaded a rule file that is not this one's")
		})
	}
	testsync.Eventually(t, "the instance with its own file saying so", func() bool { return differs(ins[2]) })
	if got := judgedBy(ins[2]); !slices.Equal(got, []string{"gen-one"}) {
		t.Errorf("the instance with its own file: rules %v, want its own", got)
	}
	if differs(ins[1]) || differs(ins[0]) {
		t.Errorf("an instance running the shared file says its file differs")
	}
}
