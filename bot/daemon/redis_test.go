package daemon_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
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
	testsync.Eventually(t, "the case", func() bool {
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
	testsync.Eventually(t, "the case opened while Redis is down", func() bool {
		second.do(t, "GET", "/v1/cases", nil, nil).json(t, &waiting)
		return len(waiting.Cases) == 1 && strings.HasPrefix(waiting.Cases[0].ID, "l-")
	})
	r := second.do(t, "GET", "/metrics", nil, nil)
	if !strings.Contains(string(r.body), "vigie_store_degraded 1") {
		t.Errorf("/metrics lacks vigie_store_degraded 1")
	}
}

// metric reads one sample of /metrics, -1 when it is missing.
func metric(t *testing.T, in *instance, name string) float64 {
	t.Helper()
	r := in.do(t, "GET", "/metrics", nil, nil)
	for line := range strings.Lines(string(r.body)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("metric %s = %q: %v", name, v, err)
			}
			return f
		}
	}
	return -1
}

// TestRedisOutage stops redis-server under a stream of events and starts it
// again: vigie moderates meanwhile (degraded, from memory), keeps the cases it
// opened, writes them to Redis when it returns, and no case is lost, neither
// those Redis held before (it keeps an append-only file) nor those opened while
// it was away.
func TestRedisOutage(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	in := start(t, rulesV1, map[string]string{"VIGIE_REDIS_URL": srv.URL()})

	var (
		mu     sync.Mutex
		scams  []string // ids of the events that opened a case
		failed []string
		sent   int
	)
	// burst sends events from three senders at once, one scam message (it opens
	// a case) for every other message.
	burst := func(phase string) {
		var senders sync.WaitGroup
		for s := range 3 {
			senders.Go(func() {
				for i := range 20 {
					id, text := fmt.Sprintf("%s-m-%d-%d", phase, s, i), "hello"
					if i%2 == 1 {
						id, text = fmt.Sprintf("%s-s-%d-%d", phase, s, i), "free nitro"
					}
					body, _ := json.Marshal(message(id, fmt.Sprintf("u-%d-%d", s, i%7), text))
					resp, err := http.Post(in.base+"/v1/events", "application/json", bytes.NewReader(body))
					var v bot.Verdict
					if err == nil {
						err = json.NewDecoder(resp.Body).Decode(&v)
						resp.Body.Close()
						if err == nil && resp.StatusCode != http.StatusOK {
							err = fmt.Errorf("status %d", resp.StatusCode)
						}
					}
					mu.Lock()
					sent++
					switch {
					case err != nil:
						failed = append(failed, id+": "+err.Error())
					case slices.Contains(rulesOf(v), "scam"):
						scams = append(scams, id)
					}
					mu.Unlock()
				}
			})
		}
		senders.Wait()
	}

	burst("up")
	srv.Stop()
	burst("down")
	if n := metric(t, in, "vigie_store_degraded"); n != 1 {
		t.Errorf("vigie_store_degraded = %v with Redis stopped, want 1", n)
	}
	// Cases are opened after the verdict is answered: the last ones may still
	// be on their way to the buffer when the burst ends.
	testsync.Eventually(t, "vigie_store_buffered > 0 while Redis is away (the cases waiting for it)", func() bool {
		return metric(t, in, "vigie_store_buffered") >= 1
	})
	if n := metric(t, in, "vigie_store_dropped_total"); n != 0 {
		t.Errorf("vigie_store_dropped_total = %v, want 0 (the buffer is far from full)", n)
	}
	srv.Restart()
	var back sync.WaitGroup
	back.Go(func() { burst("back") })
	testsync.Eventually(t, "vigie_store_degraded 0", func() bool { return metric(t, in, "vigie_store_degraded") == 0 })
	back.Wait()
	testsync.Eventually(t, "vigie_store_buffered 0", func() bool { return metric(t, in, "vigie_store_buffered") == 0 })
	if n := metric(t, in, "vigie_store_dropped_total"); n != 0 {
		t.Errorf("vigie_store_dropped_total = %v after Redis came back, want 0", n)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(failed) > 0 {
		t.Errorf("%d events failed, first: %s", len(failed), failed[0])
	}
	var open struct {
		Cases []struct {
			ID    string
			Count int
			Event struct{ ID string }
		}
	}
	// A case is opened after the verdict is answered. Scams of one author
	// (or of many at once) are grouped: every scam is one hit, none lost,
	// none counted twice.
	hits := 0
	testsync.Eventually(t, "a hit for each scam", func() bool {
		in.do(t, "GET", "/v1/cases", nil, nil).json(t, &open)
		hits = 0
		for _, c := range open.Cases {
			hits += max(c.Count, 1)
		}
		return hits >= len(scams)
	})
	got := map[string]int{}
	for _, c := range open.Cases {
		if !strings.HasPrefix(c.ID, "c-") {
			t.Errorf("case %s (event %s) is not in Redis", c.ID, c.Event.ID)
		}
		got[c.Event.ID]++
	}
	for id, n := range got {
		if n != 1 || !slices.Contains(scams, id) {
			t.Errorf("event %s: %d cases, want 1 for a scam", id, n)
		}
	}
	if hits != len(scams) || len(scams) != sent/2 {
		t.Errorf("%d hits in %d open cases for %d scam events of %d", hits, len(open.Cases), len(scams), sent)
	}
}

// A Redis that is not running when vigie starts (redis-server not started, a
// wrong port) is no reason to stop: vigie moderates from memory, and its first
// line about it says what to check.
func TestRedisNotRunningAtStart(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	in := start(t, rulesV1, map[string]string{"VIGIE_REDIS_URL": "redis://" + addr + "/0"})
	testsync.Eventually(t, "the line about the store", func() bool {
		return strings.Contains(in.logs.String(), "store not reachable yet")
	})
	want := `msg="store not reachable yet: vigie moderates from memory until it answers; check that a redis-server runs at the address of --redis (or VIGIE_REDIS_URL)" store=redis err="redis ping: dial tcp ` + addr
	if logs := in.logs.String(); !strings.Contains(logs, want) {
		t.Errorf("logs lack %s", want)
	}
}
