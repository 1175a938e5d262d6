//go:build linux

package daemon_test

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// startWithOpenFiles runs bin run on Redis in a process that may hold at
// most files open files (RLIMIT_NOFILE, soft and hard: Go cannot raise it),
// as a host's limit does, with fewer to reach.
func startWithOpenFiles(t *testing.T, files int, bin, config, redisURL string) *vigieProcess {
	t.Helper()
	in := newVigieProcess(t, "vigie")
	in.cmd = exec.Command("/bin/sh", "-c", `ulimit -n "$1" && exec "$0" run --config "$2" --redis "$3" --listen "$4"`,
		bin, strconv.Itoa(files), config, redisURL, in.addr)
	in.cmd.Env = append(os.Environ(), "VIGIE_ADMIN_TOKEN_DIR="+t.TempDir()+"/vigie", "VIGIE_SPOOL_DIR=off")
	in.launch(t)
	in.healthz(t)
	return in
}

// TestIdleConnectionsDoNotBlindVigie: a stranger opens more connections than
// vigie may hold files, asks /-/healthy once on each and keeps them open, as
// a browser's keep-alive does; each would stay two minutes (IdleTimeout).
// A sender's event is judged all the same, and a platform's webhook would
// be: vigie closes the connections that wait longest for nothing to take
// new ones, and keeps files for Redis and the platforms. Before, vigie ran
// out of files (accept: too many open files): no request came in until the
// stranger let go, and no new connection to Redis or a platform could be
// made.
func TestIdleConnectionsDoNotBlindVigie(t *testing.T) {
	srv := redistest.Start(t)
	bin, config := vigieWith(t, leasesRules)
	in := startWithOpenFiles(t, 256, bin, config, srv.URL())

	var idle []net.Conn
	t.Cleanup(func() {
		for _, c := range idle {
			c.Close()
		}
	})
	for range 300 {
		c, err := net.Dial("tcp", in.addr)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
		if _, err := c.Write([]byte("GET /-/healthy HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	// The last one is answered: vigie holds it, idle, kept alive.
	idle[len(idle)-1].SetReadDeadline(time.Now().Add(handover))
	if resp, err := http.ReadResponse(bufio.NewReader(idle[len(idle)-1]), nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("a stranger's last /-/healthy: %v %v", resp, err)
	}

	// A new sender, on a connection of its own.
	client := &http.Client{Timeout: handover, Transport: &http.Transport{}}
	resp, err := client.Post("http://"+in.addr+"/v1/events", "application/json", strings.NewReader(
		`{"id":"m-1","platform":"discord","kind":"message","space":"g","channel":"c","author":{"id":"u-1","name":"Bob"},"text":"free nitro here","at":"2026-11-20T22:10:00Z"}`))
	if err != nil {
		t.Fatalf("an event behind %d idle connections: %v, want its verdict", len(idle), err)
	}
	wantJudgedBySpam(t, resp)
	if n := in.logged("too many open files"); n > 0 {
		t.Errorf("vigie ran out of files %d times", n)
	}
}
