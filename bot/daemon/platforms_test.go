package daemon_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestPlatformsFromEnvironment(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		platforms []string
		handshake int // GET /webhooks/meta with the right verify token
	}{
		{
			name: "nothing set",
			platforms: []string{"discord off (DISCORD_TOKEN not set)", "telegram off (TELEGRAM_TOKEN not set)",
				"meta off (META_PAGE_TOKEN not set)", "discord on"},
			handshake: http.StatusNotFound,
		},
		{
			name: "meta without its app secret stays off",
			env:  map[string]string{"META_PAGE_TOKEN": "page-token"},
			platforms: []string{"discord off (DISCORD_TOKEN not set)", "telegram off (TELEGRAM_TOKEN not set)",
				"meta off (META_APP_SECRET not set: Meta's deliveries could not be checked)", "discord on"},
			handshake: http.StatusNotFound,
		},
		{
			name: "meta on",
			env: map[string]string{"META_PAGE_TOKEN": "page-token", "META_APP_SECRET": "app-secret",
				"META_VERIFY_TOKEN": "verify-me", "META_GRAPH_URL": "http://127.0.0.1:1"},
			platforms: []string{"discord off (DISCORD_TOKEN not set)", "telegram off (TELEGRAM_TOKEN not set)",
				"meta on", "discord on"},
			handshake: http.StatusOK,
		},
		{
			name: "discord and telegram on, their servers unreachable",
			env: map[string]string{"DISCORD_TOKEN": "x", "DISCORD_API_URL": "http://127.0.0.1:1/api/v9",
				"TELEGRAM_TOKEN": "1:x", "TELEGRAM_API_URL": "http://127.0.0.1:1"},
			platforms: []string{"discord on", "telegram on", "meta off (META_PAGE_TOKEN not set)", "discord on"},
			handshake: http.StatusNotFound,
		},
		{
			name: "a bad TELEGRAM_DESK_ADMINS keeps Telegram off",
			env:  map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_DESK_ADMINS": "maybe"},
			platforms: []string{"discord off (DISCORD_TOKEN not set)",
				`telegram off (TELEGRAM_DESK_ADMINS "maybe": want true or false)`,
				"meta off (META_PAGE_TOKEN not set)", "discord on"},
			handshake: http.StatusNotFound,
		},
		{
			name: "a bad Telegram setting keeps it off",
			env:  map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_MODE": "carrier-pigeon"},
			platforms: []string{"discord off (DISCORD_TOKEN not set)",
				`telegram off (telegram: mode "carrier-pigeon": want polling or webhook)`,
				"meta off (META_PAGE_TOKEN not set)", "discord on"},
			handshake: http.StatusNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := start(t, rulesV1, tt.env)
			var h struct{ Platforms []string }
			in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
			if !slices.Equal(h.Platforms, tt.platforms) {
				t.Errorf("platforms = %q\nwant %q", h.Platforms, tt.platforms)
			}
			r := in.do(t, "GET", "/webhooks/meta?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42", nil, nil)
			if r.code != tt.handshake || r.code == http.StatusOK && string(r.body) != "42" {
				t.Errorf("meta handshake = %d %q, want %d", r.code, r.body, tt.handshake)
			}
			// Meta's own metrics are on the daemon's /metrics when Meta is on.
			m := in.do(t, "GET", "/metrics", nil, nil)
			if got := strings.Contains(string(m.body), "vigie_meta_queue_length"); got != (tt.handshake == http.StatusOK) {
				t.Errorf("/metrics has vigie_meta_queue_length: %v", got)
			}
		})
	}
}
