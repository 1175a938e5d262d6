package console_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The login's cookies are HttpOnly and SameSite=Strict always, and Secure
// whenever the browser came over HTTPS (vigie's own TLS, or a trusted
// proxy's): a session cookie sent once over plain HTTP could be read on
// the way. Over plain HTTP on loopback they are not Secure, or the browser
// would drop them.
func TestLoginCookies(t *testing.T) {
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	routes := console.New(console.Options{Store: st, Accounts: st,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Routes()
	for _, tc := range []struct {
		name, remote, proto string
		tls, secure         bool
	}{
		{"loopback, plain HTTP", "127.0.0.1:4000", "", false, false},
		{"vigie's own TLS", "203.0.113.5:4000", "", true, true},
		{"a trusted proxy's HTTPS", "10.0.0.2:4000", "https", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"name": {"ann"}, "password": {"correct horse"}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.RemoteAddr = tc.remote
			req.Host = "127.0.0.1:8080"
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
				req.Header.Set("X-Forwarded-For", "198.51.100.7")
				req.Host = "vigie.example.org"
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
				req.Host = "vigie.example.org"
			}
			w := httptest.NewRecorder()
			routes["POST /login"].ServeHTTP(w, req)
			if w.Code != http.StatusSeeOther {
				t.Fatalf("login: %d %s", w.Code, w.Body)
			}
			got := map[string]*http.Cookie{}
			for _, ck := range w.Result().Cookies() {
				got[ck.Name] = ck
			}
			for _, name := range []string{"vigie_session", "vigie_device"} {
				ck := got[name]
				if ck == nil {
					t.Errorf("no %s cookie", name)
					continue
				}
				if !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure != tc.secure {
					t.Errorf("%s: HttpOnly %v, SameSite %v, Secure %v; want HttpOnly, Strict, Secure %v", name, ck.HttpOnly, ck.SameSite, ck.Secure, tc.secure)
				}
			}
		})
	}
}
