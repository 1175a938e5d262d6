package daemon_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
)

// TestRefusedFloodIsCountedNotLogged: a stranger posts events with a wrong
// signature, or none, and asks an admin route with a wrong token, or none,
// thousands of times over three minutes. Each is refused and counted by
// route and reason in /metrics; the log has a few lines, saying how many it
// left out; a signed event is still judged.
func TestRefusedFloodIsCountedNotLogged(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_ADMIN_TOKEN": "admin-token"},
		func(c *daemon.Config) { c.Now = clock })
	in.token = "admin-token"
	body, _ := json.Marshal(message("stranger-1", "u-stranger", "free nitro"))
	const each = 300 // of each reason, one every 600ms: three minutes
	for range each {
		if r := in.doWithout(t, "POST", "/v1/events", body, map[string]string{"X-Vigie-Signature": sign(body, "guess")}); r.code != http.StatusUnauthorized {
			t.Fatalf("event signed with another key: %d %s", r.code, r.body)
		}
		if r := in.doWithout(t, "POST", "/v1/events", body, nil); r.code != http.StatusUnauthorized {
			t.Fatalf("unsigned event: %d %s", r.code, r.body)
		}
		if r := in.send(t, "guess", "GET", "/v1/cases", nil, nil); r.code != http.StatusUnauthorized {
			t.Fatalf("GET /v1/cases with a wrong token: %d %s", r.code, r.body)
		}
		if r := in.doWithout(t, "GET", "/v1/cases", nil, nil); r.code != http.StatusUnauthorized {
			t.Fatalf("GET /v1/cases without a token: %d %s", r.code, r.body)
		}
		mu.Lock()
		now = now.Add(600 * time.Millisecond)
		mu.Unlock()
	}
	lines := 0
	for line := range strings.Lines(in.logs.String()) {
		if strings.Contains(line, "refused") {
			lines++
		}
	}
	if lines > 20 {
		t.Errorf("%d refused requests wrote %d log lines, want a few a minute", 4*each, lines)
	}
	if !strings.Contains(in.logs.String(), "more refused for the same reason") {
		t.Errorf("the log does not say how many refusals it left out")
	}
	for _, m := range []string{
		`vigie_refused_requests_total{reason="bad_signature",route="POST /v1/events"}`,
		`vigie_refused_requests_total{reason="no_signature",route="POST /v1/events"}`,
		`vigie_refused_requests_total{reason="bad_token",route="GET /v1/cases"}`,
		`vigie_refused_requests_total{reason="no_token",route="GET /v1/cases"}`,
	} {
		if got := metric(t, in, m); got != each {
			t.Errorf("%s = %v, want %d", m, got, each)
		}
	}
	if v := in.post(t, message("group-1", "u-7", "free nitro")); strings.Join(rulesOf(v), ",") != "scam" {
		t.Errorf("the signed event's rules = %v, want scam", rulesOf(v))
	}
}
