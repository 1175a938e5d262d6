package bot_test

import (
	"net/http"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestProxied: what a proxy, a CDN or a tunnel adds is seen, whichever
// spelling the client used (net/http hands the keys in canonical form);
// what a local script or a browser sends is not.
func TestProxied(t *testing.T) {
	tests := []struct {
		name   string
		header map[string]string
		want   bool
	}{
		{"curl", map[string]string{"User-Agent": "curl/8.5.0", "Accept": "*/*"}, false},
		{"a browser", map[string]string{"Origin": "http://localhost:8080", "Sec-Fetch-Site": "same-origin", "Cookie": "s=1"}, false},
		{"a signed script", map[string]string{"X-Vigie-Signature": "t=1,v1=00", "Content-Type": "application/json"}, false},
		{"nginx with proxy_set_header", map[string]string{"X-Real-IP": "203.0.113.9"}, true},
		{"RFC 7239", map[string]string{"forwarded": "for=203.0.113.9"}, true},
		{"Via only", map[string]string{"Via": "1.1 caddy"}, true},
		{"cloudflared", map[string]string{"CF-Connecting-IP": "203.0.113.9", "CF-Ray": "8a1b2c3d4e5f-CDG"}, true},
		{"Cloudflare's loop guard alone", map[string]string{"CDN-Loop": "cloudflare"}, true},
		{"Tailscale Funnel", map[string]string{"Tailscale-Funnel-Request": "?1"}, true},
		{"Akamai", map[string]string{"True-Client-IP": "203.0.113.9"}, true},
		{"Traefik", map[string]string{"X-Forwarded-Server": "edge-1", "X-Forwarded-Port": "443"}, true},
		{"an empty value", map[string]string{"X-Forwarded-For": ""}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := bot.Proxied(h); got != tt.want {
				t.Errorf("Proxied(%v) = %v, want %v", h, got, tt.want)
			}
		})
	}
}
