//go:build linux

package daemon_test

import (
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// redisConnections is how many connections srv took since it started.
func redisConnections(t *testing.T, srv *redistest.Server) int {
	t.Helper()
	out, err := exec.Command("redis-cli", "-p", strconv.Itoa(srv.Port), "info", "stats").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-cli info stats: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`total_connections_received:(\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no total_connections_received in\n%s", out)
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// TestHealthChecksShareOneProbeOfRedis: /-/ready and /healthz need no token,
// for probes, so a stranger may ask them as often as they like, hundreds at
// once. The checks asking at once share one ping of Redis: a stranger's
// flood holds one connection to Redis at most, and leaves the others to the
// events. Before, each check pinged Redis on a connection of vigie's pool:
// 400 strangers asking at once had vigie open Redis connections up to the
// pool's size, each answered ping a round trip the stranger paid nothing for.
func TestHealthChecksShareOneProbeOfRedis(t *testing.T) {
	srv := redistest.Start(t)
	bin, config := vigieWith(t, leasesRules)
	in := startProcess(t, bin, "vigie", config, srv.URL(), []string{"VIGIE_SPOOL_DIR=off"})
	in.healthz(t)
	before := redisConnections(t, srv)

	var wg sync.WaitGroup
	for i := range 400 {
		wg.Go(func() {
			c := &http.Client{Transport: &http.Transport{}}
			defer c.CloseIdleConnections()
			path := "/-/ready"
			if i%2 == 1 {
				path = "/healthz"
			}
			for range 20 {
				resp, err := c.Get("http://" + in.addr + path)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: %d, want 200", path, resp.StatusCode)
					return
				}
			}
		})
	}
	wg.Wait()
	if opened := redisConnections(t, srv) - before; opened > 2 {
		t.Errorf("vigie opened %d connections to Redis while strangers asked its health, want 2 at most", opened)
	}
}
