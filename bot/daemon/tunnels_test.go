package daemon_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// TestTunnelsNeedTheSecrets: what a tunnel or a CDN hands to vigie on
// loopback (cloudflared, Tailscale Funnel, a proxy that says only Via) is
// the Internet's, whichever of their headers it carries: POST /v1/events
// without VIGIE_WEBHOOK_SECRET, and the admin routes while the token is the
// one vigie made, refuse it. Naming the proxy in VIGIE_TRUSTED_PROXIES (so
// that the console believes its HTTPS) opens neither: it says the proxy
// tells the truth about the connection, not that whoever is behind it may
// post events or read the cases. The platforms' webhooks need their own
// secrets whatever the headers.
func TestTunnelsNeedTheSecrets(t *testing.T) {
	api := tgfake.New(t)
	without := start(t, telegramRules, map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"META_PAGE_TOKEN": "page-token", "META_APP_SECRET": "app-secret", "META_VERIFY_TOKEN": "verify-me",
		"META_GRAPH_URL": "http://127.0.0.1:1",
	})
	trusting := start(t, rulesV1, map[string]string{"VIGIE_TRUSTED_PROXIES": "127.0.0.1,::1"})
	event := []byte(`{"id":"t1","platform":"facebook","kind":"comment","space":"page-1","author":{"id":"u1","name":"U1"},"text":"hello","at":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`)
	marks := []map[string]string{
		{"Via": "1.1 caddy"},
		{"Cf-Connecting-Ip": "203.0.113.9"},
		{"Cdn-Loop": "cloudflare"},
		{"True-Client-Ip": "203.0.113.9"},
		{"Tailscale-Funnel-Request": "?1"},
		{"X-Forwarded-Server": "proxy.example.com"},
		{"X-Forwarded-Port": "443"},
		{"X-Original-Forwarded-For": "203.0.113.9"},
	}
	for _, h := range marks {
		var name string
		for k := range h {
			name = k
		}
		t.Run(name, func(t *testing.T) {
			if r := without.do(t, "POST", "/v1/events", event, h); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "VIGIE_WEBHOOK_SECRET") {
				t.Errorf("POST /v1/events = %d %.200s, want 403 saying VIGIE_WEBHOOK_SECRET", r.code, r.body)
			}
			if r := without.do(t, "GET", "/v1/cases", nil, h); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "VIGIE_ADMIN_TOKEN") {
				t.Errorf("GET /v1/cases with the made token = %d %.200s, want 403 saying VIGIE_ADMIN_TOKEN", r.code, r.body)
			}
		})
	}
	// nginx's bare proxy_pass adds no header of its own, and asks for the
	// Host it was given (127.0.0.1:8080): but it speaks HTTP/1.0 unless told
	// otherwise, which no local client of today does.
	t.Run("HTTP/1.0", func(t *testing.T) {
		for _, rq := range []struct{ method, path, auth, needs string }{
			{"POST", "/v1/events", "", "VIGIE_WEBHOOK_SECRET"},
			{"GET", "/v1/cases", without.token, "VIGIE_ADMIN_TOKEN"},
		} {
			code, body := http10(t, without, rq.method, rq.path, rq.auth, event)
			if code != http.StatusForbidden || !strings.Contains(body, rq.needs) {
				t.Errorf("%s %s over HTTP/1.0 = %d %.200s, want 403 saying %s", rq.method, rq.path, code, body, rq.needs)
			}
		}
		if code, body := http10(t, without, "GET", "/healthz", "", nil); code != http.StatusOK {
			t.Errorf("GET /healthz over HTTP/1.0 = %d %.200s, want 200", code, body)
		}
	})
	t.Run("a trusted proxy", func(t *testing.T) {
		fwd := map[string]string{"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
		if r := trusting.do(t, "POST", "/v1/events", event, fwd); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "VIGIE_WEBHOOK_SECRET") {
			t.Errorf("POST /v1/events = %d %.200s, want 403 saying VIGIE_WEBHOOK_SECRET", r.code, r.body)
		}
		if r := trusting.do(t, "POST", "/-/reload", nil, fwd); r.code != http.StatusForbidden || !strings.Contains(string(r.body), "VIGIE_ADMIN_TOKEN") {
			t.Errorf("POST /-/reload with the made token = %d %.200s, want 403 saying VIGIE_ADMIN_TOKEN", r.code, r.body)
		}
		if r := trusting.do(t, "POST", "/v1/events", event, nil); r.code != http.StatusOK {
			t.Errorf("POST /v1/events from this machine = %d %.200s, want 200", r.code, r.body)
		}
	})
	t.Run("webhooks", func(t *testing.T) {
		for _, h := range []map[string]string{nil, {"X-Forwarded-For": "203.0.113.9"}} {
			update := []byte(`{"update_id":7,"message":{"message_id":1,"date":1,"chat":{"id":-100500,"type":"supergroup","title":"Desk"},"from":{"id":42,"is_bot":false,"first_name":"Ann"},"text":"/pause"}}`)
			if r := without.doWithout(t, "POST", "/webhooks/telegram", update, h); r.code != http.StatusForbidden {
				t.Errorf("POST /webhooks/telegram without its secret token (%v) = %d, want 403", h, r.code)
			}
			wrong := map[string]string{"X-Telegram-Bot-Api-Secret-Token": "guess"}
			for k, v := range h {
				wrong[k] = v
			}
			if r := without.doWithout(t, "POST", "/webhooks/telegram", update, wrong); r.code != http.StatusForbidden {
				t.Errorf("POST /webhooks/telegram with a wrong secret token (%v) = %d, want 403", h, r.code)
			}
			if r := without.doWithout(t, "POST", "/webhooks/meta", []byte(`{"object":"page","entry":[]}`), h); r.code != http.StatusUnauthorized {
				t.Errorf("POST /webhooks/meta unsigned (%v) = %d, want 401", h, r.code)
			}
			if r := without.doWithout(t, "GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=&hub.challenge=1", nil, h); r.code != http.StatusForbidden {
				t.Errorf("GET /webhooks/meta without the verify token (%v) = %d, want 403", h, r.code)
			}
		}
		if paused := without.do(t, "GET", "/healthz", nil, nil); strings.Contains(string(paused.body), `"paused":true`) {
			t.Errorf("a refused update paused vigie: %s", paused.body)
		}
	})
}

// http10 sends one request as nginx forwards it by default: HTTP/1.0, the
// Host it was given, Connection: close, and no header of its own.
func http10(t *testing.T, in *instance, method, path, token string, body []byte) (int, string) {
	t.Helper()
	addr := strings.TrimPrefix(in.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var req bytes.Buffer
	fmt.Fprintf(&req, "%s %s HTTP/1.0\r\nHost: %s\r\nConnection: close\r\nContent-Length: %d\r\n", method, path, addr, len(body))
	if token != "" {
		fmt.Fprintf(&req, "Authorization: Bearer %s\r\n", token)
	}
	req.WriteString("\r\n")
	req.Write(body)
	if _, err := conn.Write(req.Bytes()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
