package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// Behind a trusted proxy, failed logins count against the client the proxy
// saw: the last address of X-Forwarded-For, all its lines read as one list
// (RFC 9110, 5.3). A proxy that adds its own line after the client's (as
// HAProxy's "option forwardfor" does) must not let a guesser pick the
// address counted by writing a new first line for each guess.
func TestForwardedForIsTheProxysLastWord(t *testing.T) {
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	routes := console.New(console.Options{Store: st, Accounts: st, Now: clk.Now,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Routes()
	guess := func(i int, name string) int {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"name": {name}, "password": {"guess"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "10.0.0.2:4000"
		req.Host = "vigie.example.org"
		req.Header.Set("X-Forwarded-Proto", "https")
		// The guesser's own line, then the proxy's.
		req.Header.Add("X-Forwarded-For", fmt.Sprintf("192.0.2.%d", i+1))
		req.Header.Add("X-Forwarded-For", "203.0.113.9")
		w := httptest.NewRecorder()
		routes["POST /login"].ServeHTTP(w, req)
		return w.Code
	}
	// Five names, so that no name's own limit is reached: only the
	// address's can stop the sixth guess.
	for i := range 5 {
		if code := guess(i, fmt.Sprintf("n%d", i)); code != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if code := guess(5, "ann"); code != http.StatusTooManyRequests {
		t.Errorf("the sixth guess from 203.0.113.9, each with a new first X-Forwarded-For line: %d, want 429", code)
	}
}

// Behind a trusted proxy, the console answers only when the proxy says the
// client came over HTTPS: its own X-Forwarded-Proto, the last line when it
// adds one after the client's. A client over plain HTTP that writes
// "X-Forwarded-Proto: https" itself is not served the login form.
func TestForwardedProtoIsTheProxysLastWord(t *testing.T) {
	st := memory.New()
	routes := console.New(console.Options{Store: st, Accounts: st,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Routes()
	for _, tc := range []struct {
		name  string
		lines []string
		want  int
	}{
		{"the proxy's https", []string{"https"}, http.StatusOK},
		{"the proxy's http", []string{"http"}, http.StatusForbidden},
		{"the client's https, then the proxy's http", []string{"https", "http"}, http.StatusForbidden},
		{"the client's http, then the proxy's https", []string{"http", "https"}, http.StatusOK},
		{"one line, the client's then the proxy's", []string{"https, http"}, http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/login", nil)
			req.RemoteAddr = "10.0.0.2:4000"
			req.Host = "vigie.example.org"
			for _, l := range tc.lines {
				req.Header.Add("X-Forwarded-Proto", l)
			}
			w := httptest.NewRecorder()
			routes["GET /login"].ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("X-Forwarded-Proto %q: %d, want %d", tc.lines, w.Code, tc.want)
			}
		})
	}
}

// Some proxies write the client's port in X-Forwarded-For (Azure's
// Application Gateway: "203.0.113.9:51234"): each connection has a new
// one, and the guesser's address must still be counted as one.
func TestForwardedForWithAPort(t *testing.T) {
	st := memory.New()
	routes := console.New(console.Options{Store: st, Accounts: st,
		Now:            (&clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}).Now,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Routes()
	for _, tc := range []struct{ name, format string }{
		{"IPv4", "203.0.113.9:%d"},
		{"IPv6", "[2001:db8::9]:%d"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code := 0
			for i := range 6 {
				req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"name": {fmt.Sprintf("n%d", i)}, "password": {"guess"}}.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.RemoteAddr = "10.0.0.2:4000"
				req.Host = "vigie.example.org"
				req.Header.Set("X-Forwarded-Proto", "https")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf(tc.format, 50000+i))
				w := httptest.NewRecorder()
				routes["POST /login"].ServeHTTP(w, req)
				code = w.Code
			}
			if code != http.StatusTooManyRequests {
				t.Errorf("the sixth guess from one address, each from a new port: %d, want 429", code)
			}
		})
	}
}
