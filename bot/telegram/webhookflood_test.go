package telegram

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestWebhookFloodOfWrongSecrets: a stranger who knows the webhook's
// address sends thousands of calls without the secret token, or with a
// wrong one. Each is refused and counted, but the log has a few lines, each
// saying how many were left out, and a call with the secret is still taken.
func TestWebhookFloodOfWrongSecrets(t *testing.T) {
	f := newFakeBotAPI(t)
	reg := prometheus.NewRegistry()
	var mu sync.Mutex
	now := time.Unix(t0, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	logs := &testsync.Buffer{}
	refusals := bot.NewRefusals(testsync.Logger(logs), reg, clock)
	c, _ := newTestClient(t, f, Config{Mode: ModeWebhook, WebhookSecret: "s3cret_token", WebhookURL: "https://vigie.example/webhooks/telegram",
		Chats: fixtureChats, Registerer: reg, Refusals: refusals})
	c.log = testsync.Logger(logs)
	h := c.WebhookHandler()
	post := func(secret, body string) int {
		r := httptest.NewRequest(http.MethodPost, "/webhooks/telegram", strings.NewReader(body))
		if secret != "" {
			r.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	out := make(chan bot.Event, 10)
	run(t, c, out)
	f.waitFor("setWebhook", 1, nil)

	const each = 3000 // of each reason, one every 30ms: three minutes
	stranger := `{"update_id":900,"message":{"message_id":900,"date":1,"chat":{"id":-1,"type":"group"},"from":{"id":1,"first_name":"x"},"text":"x"}}`
	for i := range 2 * each {
		secret := ""
		if i%2 == 1 {
			secret = "guess" + strconv.Itoa(i)
		}
		if code := post(secret, stranger); code != http.StatusForbidden {
			t.Fatalf("call %d without the secret answered %d, want 403", i, code)
		}
		mu.Lock()
		now = now.Add(30 * time.Millisecond)
		mu.Unlock()
	}
	refusals.Flush()

	lines := strings.Count(logs.String(), "webhook call refused")
	if lines > 10 {
		t.Errorf("%d calls without the secret wrote %d log lines, want a few a minute:\n%.2000s", 2*each, lines, logs.String())
	}
	// Every refusal is told: a line each for the logged, and the count of
	// those left out in the next line.
	told := map[string]int{}
	for line := range strings.SplitSeq(logs.String(), "\n") {
		m := regexp.MustCompile(`reason=(\w+)`).FindStringSubmatch(line)
		if m == nil || !strings.Contains(line, "refused") {
			continue
		}
		n := 0
		if u := regexp.MustCompile(`unlogged=(\d+)`).FindStringSubmatch(line); u != nil {
			n, _ = strconv.Atoi(u[1])
		}
		if strings.Contains(line, "webhook call refused") {
			n++
		}
		told[m[1]] += n
	}
	for _, reason := range []string{"no_secret", "bad_secret"} {
		if told[reason] != each {
			t.Errorf("the log tells of %d calls refused for %s, want %d", told[reason], reason, each)
		}
		if got := counterValue(t, reg, "vigie_refused_requests_total", map[string]string{"route": "/webhooks/telegram", "reason": reason}); got != each {
			t.Errorf("vigie_refused_requests_total{reason=%q} = %v, want %d", reason, got, each)
		}
	}

	// The group's message, with the secret, is still judged.
	body, err := json.Marshal(map[string]any{"update_id": 7, "message": message(group, 7, bob, t0, "buy cheap coins")})
	if err != nil {
		t.Fatal(err)
	}
	good := string(body)
	for code := post("s3cret_token", good); code != http.StatusOK; code = post("s3cret_token", good) {
		if code != http.StatusServiceUnavailable {
			t.Fatalf("the call with the secret answered %d", code)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ev := testsync.Next(t, out); ev.Text != "buy cheap coins" {
		t.Errorf("event = %+v, want the group's message", ev)
	}
}

// counterValue is the value of the counter name with labels in reg, 0 when
// there is none.
func counterValue(t *testing.T, reg *prometheus.Registry, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if want, ok := labels[l.GetName()]; ok && want != l.GetValue() {
					continue metric
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
