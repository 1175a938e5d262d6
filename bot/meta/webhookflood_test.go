package meta_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/meta"
)

// TestWebhookFloodOfBadSignatures: a stranger posts thousands of
// deliveries unsigned, signed with another secret, and handshakes with a
// guessed verify token. Each is refused and counted by reason, the log has
// a few lines a minute, and Meta's signed delivery is still judged.
func TestWebhookFloodOfBadSignatures(t *testing.T) {
	reg := prometheus.NewRegistry()
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := newHarness(t, func(c *meta.Config) { c.Registerer = reg; c.Now = clock })
	h.now = clock
	body := fixture(t, "ig_comment.json")
	const each = 2000 // of each reason, one every 60ms: two minutes
	for range each {
		if rec := h.post(body, ""); rec.Code != http.StatusUnauthorized {
			t.Fatalf("unsigned delivery answered %d", rec.Code)
		}
		if rec := h.post(body, "another app's secret"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("delivery signed with another secret answered %d", rec.Code)
		}
		rec := httptest.NewRecorder()
		h.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/webhooks/meta?hub.mode=subscribe&hub.challenge=1&hub.verify_token=guess", nil))
		if rec.Code != http.StatusForbidden {
			t.Fatalf("handshake with a wrong verify token answered %d", rec.Code)
		}
		mu.Lock()
		now = now.Add(60 * time.Millisecond)
		mu.Unlock()
	}
	lines := 0
	for line := range strings.SplitSeq(h.logs.String(), "\n") {
		if strings.Contains(line, "refused") {
			lines++
		}
	}
	if lines > 12 {
		t.Errorf("%d refused requests wrote %d log lines, want a few a minute:\n%.2000s", 3*each, lines, h.logs.String())
	}
	if !strings.Contains(h.logs.String(), "more refused for the same reason") {
		t.Errorf("the log does not say how many refusals it left out:\n%.2000s", h.logs.String())
	}
	for _, reason := range []string{"no_signature", "bad_signature", "bad_verify_token"} {
		if got := counter(t, reg, "vigie_refused_requests_total", reason); got != each {
			t.Errorf("vigie_refused_requests_total{reason=%q} = %v, want %d", reason, got, each)
		}
	}
	h.collect()
	if rec := h.post(body, appSecret); rec.Code != http.StatusOK {
		t.Fatalf("Meta's delivery answered %d", rec.Code)
	}
	if got := h.collect(); len(got) != 1 {
		t.Errorf("Meta's signed delivery gave %d events, want 1", len(got))
	}
}

// counter is the value of the counter name whose reason label is reason.
func counter(t *testing.T, reg *prometheus.Registry, name, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "reason" && l.GetValue() == reason {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
