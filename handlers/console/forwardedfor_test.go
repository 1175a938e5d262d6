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
