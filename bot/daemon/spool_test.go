package daemon_test

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
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

// A stop with Redis hung, cut at the end of the shutdown time, keeps in the
// spool what Redis never took, and says so. Before the spool, the cases
// were lost with the process.
func TestShutdownWithRedisHungSpools(t *testing.T) {
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewHangProxy(t, u.Host)
	const timeout = 2 * time.Second
	dir := filepath.Join(t.TempDir(), "spool")
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_REDIS_URL": proxy.URL(),
		"VIGIE_REDIS_PREFIX": "hungspool-" + strconv.FormatInt(time.Now().UnixNano(), 36), "VIGIE_SPOOL_DIR": dir},
		func(c *daemon.Config) { c.ShutdownTimeout = timeout })
	proxy.Hang()
	for i := range 3 {
		in.post(t, message(fmt.Sprintf("h-%d", i), "u-2", "free nitro"))
	}
	err = in.stop()
	if err == nil || !strings.Contains(err.Error(), "kept in the spool") {
		t.Errorf("Run = %v, want the store's close cut, what it held kept in the spool", err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.jsonl"))
	var spooled string
	for _, f := range files {
		data, _ := os.ReadFile(f)
		spooled += string(data)
	}
	for _, ev := range []string{"h-0", "h-1", "h-2"} {
		if !strings.Contains(spooled, `"id":"`+ev+`"`) {
			t.Errorf("the spool lacks %s's case:\n%s", ev, spooled)
		}
	}
}

// Two vigie on one Redis, kept apart by the database the URL names with
// ?db= (go-redis's option), have two spools: what waits for one database
// is never written to the other. Before, the spool's name left ?db= out,
// and the second vigie took the first's cases back into its own database,
// where its desk listed another community's cases.
func TestSpoolOfAnotherDatabase(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	dir := filepath.Join(t.TempDir(), "spool")
	first := start(t, rulesV1, map[string]string{"VIGIE_REDIS_URL": srv.URL() + "?db=1", "VIGIE_SPOOL_DIR": dir})
	srv.Stop()
	if v := first.post(t, message("db1-s-1", "u-db1", "free nitro")); !slices.Contains(rulesOf(v), "scam") {
		t.Fatalf("event matched %q, want scam", rulesOf(v))
	}
	testsync.Eventually(t, "the case waiting for Redis", func() bool {
		return metric(t, first, "vigie_store_buffered") >= 1
	})
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := start(t, rulesV1, map[string]string{"VIGIE_REDIS_URL": srv.URL() + "?db=2", "VIGIE_SPOOL_DIR": dir})
	srv.Restart()
	var open struct {
		Cases []struct{ Event struct{ ID string } }
	}
	testsync.Eventually(t, "the second vigie back on Redis, nothing waiting", func() bool {
		return metric(t, second, "vigie_store_buffered") == 0 && metric(t, second, "vigie_store_degraded") == 0
	})
	second.do(t, "GET", "/v1/cases", nil, nil).json(t, &open)
	if len(open.Cases) != 0 {
		t.Errorf("the vigie of database 2 lists %+v; want none: the case waits for database 1", open.Cases)
	}
	if logs := second.logs.String(); !strings.Contains(logs, "a file of another store") {
		t.Errorf("the second vigie does not say the other store's spool holds items:\n%s", logs)
	}
}
