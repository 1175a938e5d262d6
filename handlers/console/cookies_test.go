package console_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
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
// would drop them. Over HTTPS the session cookie is named with the
// __Host- prefix (Secure, Path=/, no Domain): a browser then keeps no
// cookie of that name planted by a sibling subdomain.
func TestLoginCookies(t *testing.T) {
	routes := annBehindTrustedProxy(t)
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
			session := "vigie_session"
			if tc.secure {
				session = "__Host-vigie_session"
				if ck := got["vigie_session"]; ck != nil {
					t.Errorf("over HTTPS, a session cookie without the __Host- prefix: %v", ck)
				}
			}
			if ck := got[session]; ck != nil && (ck.Path != "/" || ck.Domain != "") {
				t.Errorf("%s: Path %q, Domain %q; want /, none", session, ck.Path, ck.Domain)
			}
			for _, name := range []string{session, "vigie_device"} {
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

// Over HTTPS the console reads its session from the __Host- cookie, and
// still from the plain name (a session given before the prefix, or over
// plain HTTP); a logout clears both.
func TestHostPrefixedSessionOverHTTPS(t *testing.T) {
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	routes := console.New(console.Options{Store: st, Accounts: st}).Routes()
	do := func(method, path string, form url.Values, cks ...*http.Cookie) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		req.RemoteAddr = "203.0.113.5:4000"
		req.Host = "vigie.example.org"
		req.TLS = &tls.ConnectionState{}
		for _, ck := range cks {
			req.AddCookie(ck)
		}
		w := httptest.NewRecorder()
		routes[method+" "+path].ServeHTTP(w, req)
		return w
	}
	w := do("POST", "/login", url.Values{"name": {"ann"}, "password": {"correct horse"}})
	var session *http.Cookie
	for _, ck := range w.Result().Cookies() {
		if ck.Name == "__Host-vigie_session" {
			session = ck
		}
	}
	if session == nil {
		t.Fatalf("login over TLS: %d, no __Host-vigie_session cookie in %v", w.Code, w.Result().Cookies())
	}
	if w := do("GET", "/queue", nil, &http.Cookie{Name: session.Name, Value: session.Value}); w.Code != http.StatusOK {
		t.Fatalf("the __Host- session cookie does not open the queue: %d", w.Code)
	}
	// A cookie under the plain name, which a sibling subdomain may plant,
	// signs nobody in over HTTPS, even with a session vigie signed.
	plain := &http.Cookie{Name: "vigie_session", Value: session.Value}
	if w := do("GET", "/queue", nil, plain); w.Code == http.StatusOK {
		t.Fatalf("the session under its plain name opens the queue over HTTPS: %d", w.Code)
	}
	page := do("GET", "/queue", nil, &http.Cookie{Name: session.Name, Value: session.Value}).Body.String()
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		t.Fatal("no csrf token on the queue page")
	}
	csrf := page[i+len(`name="csrf" value="`):]
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	w = do("POST", "/logout", url.Values{"csrf": {csrf}}, &http.Cookie{Name: session.Name, Value: session.Value})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("logout: %d %s", w.Code, w.Body)
	}
	cleared := map[string]bool{}
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			cleared[ck.Name] = true
			if ck.Name == "__Host-vigie_session" && (!ck.Secure || ck.Path != "/" || ck.Domain != "") {
				t.Errorf("the __Host- cookie cleared without Secure, Path=/, no Domain (a browser ignores it): %v", ck)
			}
		}
	}
	if !cleared["__Host-vigie_session"] || !cleared["vigie_session"] {
		t.Errorf("logout over HTTPS cleared %v; want both session cookies", cleared)
	}
	if w := do("GET", "/queue", nil, plain); w.Code == http.StatusOK {
		t.Error("the session still opens the queue after the logout")
	}
}
