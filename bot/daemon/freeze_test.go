package daemon_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const freezeRules = `timezone: UTC
http_events: {act_on: [telegram]}
desk:
  telegram_chat: "-100600"
  cms: ["telegram:42"]
counters:
  msgs: {key: author.id, window: 1h}
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete, forward("scam")]
`

// TestRedisFrozen freezes redis-server (SIGSTOP: its connections stay open,
// nothing answers) under vigie. The scams sent meanwhile are deleted while
// Redis is still frozen, though the client's read timeout (60 s here) is far
// longer than the freeze: an event waits for Redis a second at most, then is
// judged from memory as in an outage, which /-/ready reports. When Redis runs
// again, each scam was deleted once, and has one case hit and one audit entry
// in Redis: nothing lost, nothing written twice.
func TestRedisFrozen(t *testing.T) {
	srv := redistest.Start(t)
	api := tgfake.New(t)
	const group = -100610
	in := start(t, freezeRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"VIGIE_REDIS_URL": srv.URL() + "/0?read_timeout=60s"})
	deleted := func() []string {
		var ids []string
		for _, p := range find(api, "deleteMessage", "chat_id", strconv.Itoa(group)) {
			ids = append(ids, p.Get("message_id"))
		}
		return ids
	}
	var scams []string
	scam := func(user int64) {
		m := groupMessage(group, user, "Eve", "FREE NITRO on example.com")
		scams = append(scams, strconv.Itoa(m["message"].(map[string]any)["message_id"].(int)))
		api.Push(m)
	}

	// Before the freeze: the connections made, the scripts loaded.
	scam(70)
	testsync.Eventually(t, "the first scam deleted", func() bool { return len(deleted()) == 1 })
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })

	srv.Freeze()
	t.Cleanup(srv.Thaw) // before vigie stops: cleanups run last first
	frozen := time.Now()
	// Short of the read timeout (60 s), which the events waited for, and
	// long enough for a loaded machine (it takes a second or two idle).
	const within = 45 * time.Second
	// First an event posted over HTTP (as vigie-load does): the first of the
	// freeze to ask Redis, it finds no outage declared yet.
	body, err := json.Marshal(map[string]any{"id": strconv.Itoa(group) + ":9000", "platform": "telegram", "kind": "message",
		"space": strconv.Itoa(group), "author": map[string]any{"id": "80", "name": "Eve"},
		"text": "free nitro here", "at": time.Now().UTC().Format(time.RFC3339)})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Timeout: within}).Post(in.base+"/v1/events", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("an event posted with Redis frozen: %v, want its verdict, judged from memory", err)
	}
	var v bot.Verdict
	err = json.NewDecoder(resp.Body).Decode(&v)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Fatalf("an event posted with Redis frozen: %d %v, matched %q, want scam", resp.StatusCode, err, rulesOf(v))
	}
	scams = append(scams, "9000")
	// Then scams from the group, through the poller, which writes its
	// offset to Redis before it hands them on.
	for u := range int64(5) {
		scam(71 + u)
	}
	for len(deleted()) < len(scams) && time.Since(frozen) < within {
		time.Sleep(20 * time.Millisecond)
	}
	if got := deleted(); len(got) < len(scams) {
		t.Fatalf("with Redis frozen for %s: %d of the %d scams sent meanwhile deleted, want all, judged from memory",
			within, len(got)-1, len(scams)-1)
	}
	t.Logf("the scams sent during the freeze deleted %s after it began", time.Since(frozen).Round(time.Millisecond))
	rd := ready(t, in)
	if rd.code != http.StatusServiceUnavailable || !slices.ContainsFunc(rd.Reasons, func(r string) bool {
		return strings.HasPrefix(r, "store: redis unreachable")
	}) {
		t.Errorf("/-/ready with Redis frozen: %d %q, want 503 naming the store as unreachable", rd.code, rd.Reasons)
	}
	// Once the outage is known, /-/ready says so at once: it does not ping
	// the frozen Redis too, waiting for the ping's timeout to say it twice.
	if n := len(slices.DeleteFunc(slices.Clone(rd.Reasons), func(r string) bool { return !strings.HasPrefix(r, "store:") })); n != 1 {
		t.Errorf("/-/ready with Redis frozen names the store %d times: %q, want once (no ping of a Redis known to be away)", n, rd.Reasons)
	}
	if n := metric(t, in, "vigie_store_degraded"); n != 1 {
		t.Errorf("vigie_store_degraded = %v with Redis frozen, want 1", n)
	}

	srv.Thaw()
	testsync.Eventually(t, "vigie_store_degraded 0", func() bool { return metric(t, in, "vigie_store_degraded") == 0 })
	testsync.Eventually(t, "vigie_store_buffered 0", func() bool { return metric(t, in, "vigie_store_buffered") == 0 })
	testsync.Eventually(t, "ready again", func() bool { return ready(t, in).code == http.StatusOK })

	got := deleted()
	for _, id := range scams {
		if n := strings.Count(strings.Join(got, ",")+",", id+","); n != 1 {
			t.Errorf("scam %s deleted %d times, want once", id, n)
		}
	}
	var open struct {
		Cases []struct {
			ID    string
			Count int
		}
	}
	hits := 0
	testsync.Eventually(t, "a case hit for each scam", func() bool {
		in.do(t, "GET", "/v1/cases", nil, nil).json(t, &open)
		hits = 0
		for _, c := range open.Cases {
			hits += max(c.Count, 1)
		}
		return hits >= len(scams)
	})
	for _, c := range open.Cases {
		if !strings.HasPrefix(c.ID, "c-") {
			t.Errorf("case %s is not in Redis", c.ID)
		}
	}
	if hits != len(scams) {
		t.Errorf("%d case hits for %d scams, want one each", hits, len(scams))
	}

	// Each scam's audit entry is in Redis once.
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	audited := map[string]int{}
	testsync.Eventually(t, "an audit entry for each scam", func() bool {
		msgs, err := c.XRange(context.Background(), "vigie:{audit}:stream", "-", "+").Result()
		if err != nil {
			t.Fatal(err)
		}
		clear(audited)
		for _, m := range msgs {
			var e struct{ Event struct{ ID string } }
			raw, _ := m.Values["e"].(string)
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				t.Fatal(err)
			}
			audited[e.Event.ID]++
		}
		return len(audited) >= len(scams)
	})
	for id, n := range audited {
		if n != 1 {
			t.Errorf("event %s: %d audit entries, want 1", id, n)
		}
	}
	if len(audited) != len(scams) {
		t.Errorf("audit entries for %d events, want the %d scams", len(audited), len(scams))
	}
}

// TestRedisFrozenStandby freezes redis-server under a vigie that judges no
// events, as one standing by behind a load balancer: its /-/ready finds Redis
// away, takes it for away as an event would (vigie_store_degraded 1), and
// the checks after name the store once, as the instances taking events do,
// without waiting for Redis again. When Redis runs again, it is ready.
func TestRedisFrozenStandby(t *testing.T) {
	srv := redistest.Start(t)
	in := start(t, freezeRules, map[string]string{"VIGIE_REDIS_URL": srv.URL() + "/0?read_timeout=60s"})
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })

	srv.Freeze()
	t.Cleanup(srv.Thaw) // before vigie stops: cleanups run last first
	if rd := ready(t, in); rd.code != http.StatusServiceUnavailable {
		t.Fatalf("/-/ready with Redis frozen: %d %q, want 503", rd.code, rd.Reasons)
	}
	if n := metric(t, in, "vigie_store_degraded"); n != 1 {
		t.Errorf("vigie_store_degraded = %v after /-/ready found Redis frozen, want 1: an outage its checks see is one", n)
	}
	rd := ready(t, in)
	if rd.code != http.StatusServiceUnavailable || !slices.Equal(rd.Reasons, []string{"store: redis unreachable, moderating from memory until it returns"}) {
		t.Errorf("/-/ready again with Redis frozen: %d %q, want 503 naming the store once, as unreachable", rd.code, rd.Reasons)
	}

	srv.Thaw()
	testsync.Eventually(t, "vigie_store_degraded 0", func() bool { return metric(t, in, "vigie_store_degraded") == 0 })
	testsync.Eventually(t, "ready again", func() bool { return ready(t, in).code == http.StatusOK })
}
