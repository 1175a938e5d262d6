package console_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store/memory"
)

// The console answers beyond loopback only over TLS, through a trusted proxy
// that says HTTPS, or when told it may go without.
func TestServedOnlyOverSafeConnections(t *testing.T) {
	st := memory.New()
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	for _, tc := range []struct {
		name     string
		remote   string
		proto    string
		tls      bool
		insecure bool
		want     int
	}{
		{"loopback", "127.0.0.1:5000", "", false, false, http.StatusOK},
		{"loopback v6", "[::1]:5000", "", false, false, http.StatusOK},
		{"a stranger over plain HTTP", "203.0.113.5:5000", "", false, false, http.StatusForbidden},
		{"a stranger who says https", "203.0.113.5:5000", "https", false, false, http.StatusForbidden},
		{"a stranger over TLS", "203.0.113.5:5000", "", true, false, http.StatusOK},
		{"the trusted proxy, https", "10.1.2.3:5000", "https", false, false, http.StatusOK},
		{"the trusted proxy, http", "10.1.2.3:5000", "http", false, false, http.StatusForbidden},
		{"anyone with --insecure", "203.0.113.5:5000", "", false, true, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := console.New(console.Options{Store: st, Accounts: st, Insecure: tc.insecure, TrustedProxies: []netip.Prefix{proxy}})
			req := httptest.NewRequest("GET", "/login", nil)
			req.RemoteAddr = tc.remote
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			c.Routes()["GET /login"].ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("GET /login from %s = %d, want %d", tc.remote, w.Code, tc.want)
			}
			if w.Code == http.StatusOK && w.Header().Get("X-Frame-Options") != "DENY" {
				t.Error("the page may be framed")
			}
		})
	}
}

func TestPasswords(t *testing.T) {
	h := console.HashPassword("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if !console.CheckPassword(h, "correct horse") {
		t.Error("the right password is refused")
	}
	for _, wrong := range []string{"", "correct horsE", "correct horse "} {
		if console.CheckPassword(h, wrong) {
			t.Errorf("%q passes", wrong)
		}
	}
	if h2 := console.HashPassword("correct horse"); h2 == h {
		t.Error("two hashes of one password are the same: no salt")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5", "plain"} {
		if console.CheckPassword(bad, "") {
			t.Errorf("hash %q passes", bad)
		}
	}
}
