package daemon_test

import (
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
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
			name: "meta on",
			env: map[string]string{"META_PAGE_TOKEN": "page-token", "META_APP_SECRET": "app-secret",
				"META_VERIFY_TOKEN": "verify-me", "META_GRAPH_URL": "http://127.0.0.1:1"},
			platforms: []string{"discord off (DISCORD_TOKEN not set)", "telegram off (TELEGRAM_TOKEN not set)",
				"meta on", "discord on"},
			handshake: http.StatusOK,
		},
		{
			name: "discord and telegram on, their servers unreachable",
			env: map[string]string{"DISCORD_TOKEN": "x", "DISCORD_API_URL": discordAPIURL,
				"TELEGRAM_TOKEN": "1:x", "TELEGRAM_API_URL": "http://127.0.0.1:1"},
			platforms: []string{"discord on", "telegram on", "meta off (META_PAGE_TOKEN not set)", "discord on"},
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

// TestMisconfiguredPlatformRefusesToStart: a platform whose token is set but
// whose other settings are wrong stops vigie run at start, saying what to fix,
// rather than running without it.
func TestMisconfiguredPlatformRefusesToStart(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{
			name: "meta without its app secret",
			env:  map[string]string{"META_PAGE_TOKEN": "page-token"},
			want: []string{"meta: META_PAGE_TOKEN is set, but META_APP_SECRET is not: without it Meta's deliveries cannot be checked; fix it, or unset META_PAGE_TOKEN to run without meta"},
		},
		{
			// Telegram and Discord refuse such an address at start; Meta's
			// failed at every hide, as a network error, retried, then a case.
			name: "a META_GRAPH_URL without its scheme",
			env:  map[string]string{"META_PAGE_TOKEN": "page-token", "META_APP_SECRET": "s", "META_GRAPH_URL": "graph.facebook.com/v25.0"},
			want: []string{`meta: META_PAGE_TOKEN is set, but META_GRAPH_URL "graph.facebook.com/v25.0": want http:// or https://; fix it, or unset META_PAGE_TOKEN to run without meta`},
		},
		{
			// The variable to fix is named, as META_GRAPH_URL is.
			name: "a TELEGRAM_API_URL and a DISCORD_API_URL without their scheme",
			env:  map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_API_URL": "localhost:8081", "DISCORD_TOKEN": "x", "DISCORD_API_URL": "discord.com/api/v9"},
			want: []string{
				`telegram: TELEGRAM_TOKEN is set, but TELEGRAM_API_URL "localhost:8081": want http:// or https://; fix it, or unset TELEGRAM_TOKEN to run without telegram`,
				`discord: DISCORD_TOKEN is set, but DISCORD_API_URL "discord.com/api/v9": want http:// or https://; fix it, or unset DISCORD_TOKEN to run without discord`,
			},
		},
		{
			name: "telegram webhook mode without its secret",
			env:  map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_MODE": "webhook"},
			want: []string{"telegram: TELEGRAM_TOKEN is set, but TELEGRAM_MODE is webhook and TELEGRAM_WEBHOOK_SECRET is not: without it anyone could post updates to /webhooks/telegram; fix it, or unset TELEGRAM_TOKEN to run without telegram"},
		},
		{
			name: "a bad TELEGRAM_DESK_ADMINS",
			env:  map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_DESK_ADMINS": "maybe"},
			want: []string{`telegram: TELEGRAM_TOKEN is set, but TELEGRAM_DESK_ADMINS "maybe": want true or false; fix it`},
		},
		{
			name: "every misconfigured platform is named at once",
			env:  map[string]string{"TELEGRAM_TOKEN": "1:x", "TELEGRAM_MODE": "carrier-pigeon", "META_PAGE_TOKEN": "page-token"},
			want: []string{`telegram: TELEGRAM_TOKEN is set, but TELEGRAM_MODE "carrier-pigeon": want polling or webhook;`, "meta: META_PAGE_TOKEN is set, but META_APP_SECRET is not"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "rules.yaml")
			if err := os.WriteFile(file, []byte(rulesV1), 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			started := false
			err := daemon.Run(ctx, daemon.Config{
				ConfigPath: file,
				Listen:     "127.0.0.1:0",
				Getenv:     daemon.WithTokenDir(t, func(k string) string { return tt.env[k] }),
				Ready:      func(net.Addr) { started = true; cancel() },
			}, nil)
			if started || err == nil {
				t.Fatalf("vigie started (err %v)", err)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "platforms misconfigured, not starting:\n") {
				t.Errorf("error = %q, want it to begin with the refusal", msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error = %q\nwant it to contain %q", msg, w)
				}
			}
		})
	}
}
