package bot_test

import (
	"net/http/httptest"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestProxied: what a proxy, a CDN or a tunnel adds is seen, whichever
// spelling the client used (net/http hands the keys in canonical form), and
// so is HTTP/1.0, nginx's default towards what it forwards to; what a local
// script or a browser sends is not.
func TestProxied(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		http10 bool
		want   bool
	}{
		{"curl", map[string]string{"User-Agent": "curl/8.5.0", "Accept": "*/*"}, false, false},
		{"a browser", map[string]string{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-origin", "Cookie": "s=1"}, false, false},
		{"a signed script", map[string]string{"X-Vigie-Signature": "t=1,v1=00", "Content-Type": "application/json"}, false, false},
		{"nginx with proxy_set_header", map[string]string{"X-Real-IP": "203.0.113.9"}, false, true},
		{"RFC 7239", map[string]string{"forwarded": "for=203.0.113.9"}, false, true},
		{"Via only", map[string]string{"Via": "1.1 caddy"}, false, true},
		{"cloudflared", map[string]string{"CF-Connecting-IP": "203.0.113.9", "CF-Ray": "8a1b2c3d4e5f-CDG"}, false, true},
		{"Cloudflare's loop guard alone", map[string]string{"CDN-Loop": "cloudflare"}, false, true},
		{"Tailscale Funnel", map[string]string{"Tailscale-Funnel-Request": "?1"}, false, true},
		{"Akamai", map[string]string{"True-Client-IP": "203.0.113.9"}, false, true},
		{"Traefik", map[string]string{"X-Forwarded-Server": "edge-1", "X-Forwarded-Port": "443"}, false, true},
		{"an empty value", map[string]string{"X-Forwarded-For": ""}, false, true},
		{"nginx's bare proxy_pass: HTTP/1.0", map[string]string{"Connection": "close"}, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/events", nil)
			for k, v := range tt.header {
				r.Header.Set(k, v)
			}
			if tt.http10 {
				r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0
			}
			if got := bot.Proxied(r); got != tt.want {
				t.Errorf("Proxied(%s %v) = %v, want %v", r.Proto, r.Header, got, tt.want)
			}
		})
	}
}
