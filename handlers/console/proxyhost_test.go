package console_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// Behind a trusted proxy that asks vigie for its own address (nginx's
// proxy_pass without "proxy_set_header Host $host" sends Host
// 127.0.0.1:8080), the CM's browser posts with its Origin, the proxy's
// public name: the proxy says which in X-Forwarded-Host, and the CM logs
// in. A page of another site is still refused; and without
// X-Forwarded-Host the refusal says what did not match and how to mend it,
// not only "cross-site".
func TestLoginBehindAProxyThatRewritesHost(t *testing.T) {
	routes := annBehindTrustedProxy(t)
	post := func(remote, origin, fwdHost string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"name": {"ann"}, "password": {"correct horse"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = remote
		req.Host = "127.0.0.1:8080"
		req.Header.Set("Origin", origin)
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-For", "198.51.100.7")
		if fwdHost != "" {
			req.Header.Set("X-Forwarded-Host", fwdHost)
		}
		if !strings.HasPrefix(remote, "10.") {
			req.TLS = &tls.ConnectionState{} // served: only the Origin may refuse it
		}
		w := httptest.NewRecorder()
		routes["POST /login"].ServeHTTP(w, req)
		return w
	}
	if w := post("10.0.0.2:4000", "https://vigie.example.org", "vigie.example.org"); w.Code != http.StatusSeeOther {
		t.Errorf("the CM's login through the proxy: %d %s", w.Code, w.Body)
	}
	if w := post("10.0.0.2:4000", "https://evil.example", "vigie.example.org"); w.Code != http.StatusForbidden {
		t.Errorf("another site's login through the proxy: %d, want 403", w.Code)
	}
	// X-Forwarded-Host is believed from a trusted proxy only: anyone else
	// could name the Origin they post from.
	if w := post("203.0.113.5:4000", "https://evil.example", "evil.example"); w.Code != http.StatusForbidden {
		t.Errorf("a stranger's own X-Forwarded-Host: %d, want 403", w.Code)
	}
	w := post("10.0.0.2:4000", "https://vigie.example.org", "")
	if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "https://vigie.example.org") ||
		!strings.Contains(w.Body.String(), "127.0.0.1:8080") || !strings.Contains(w.Body.String(), "proxy_set_header Host $host") {
		t.Errorf("the proxy sends neither the Host it was asked for nor X-Forwarded-Host: %d %q, want 403 saying what to mend", w.Code, w.Body)
	}
}
