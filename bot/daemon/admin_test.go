package daemon_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAdminToken(t *testing.T) {
	in := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN": "s3cret"})
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		want   int
	}{
		{"cases without a token", "GET", "/v1/cases", nil, http.StatusUnauthorized},
		{"cases with a wrong token", "GET", "/v1/cases", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"cases with a basic header", "GET", "/v1/cases", map[string]string{"Authorization": "Basic czNjcmV0"}, http.StatusUnauthorized},
		{"cases with the token", "GET", "/v1/cases", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
		// the scheme is case-insensitive (RFC 9110, 11.1), the token is not
		{"cases with bearer in lower case", "GET", "/v1/cases", map[string]string{"Authorization": "bearer s3cret"}, http.StatusOK},
		{"cases with BEARER and two spaces", "GET", "/v1/cases", map[string]string{"Authorization": "BEARER  s3cret"}, http.StatusOK},
		{"cases with the token in upper case", "GET", "/v1/cases", map[string]string{"Authorization": "Bearer S3CRET"}, http.StatusUnauthorized},
		{"cases with Bearer alone", "GET", "/v1/cases", map[string]string{"Authorization": "Bearer"}, http.StatusUnauthorized},
		{"cases with the token glued to the scheme", "GET", "/v1/cases", map[string]string{"Authorization": "Bearers3cret"}, http.StatusUnauthorized},
		{"reload with bearer in lower case", "POST", "/-/reload", map[string]string{"Authorization": "bearer s3cret"}, http.StatusOK},
		{"reload without a token", "POST", "/-/reload", nil, http.StatusUnauthorized},
		{"reload with the token", "POST", "/-/reload", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
		{"health needs none", "GET", "/healthz", nil, http.StatusOK},
		{"metrics need none", "GET", "/metrics", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := in.do(t, tt.method, tt.path, nil, tt.header)
			if r.code != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.code, r.body, tt.want)
			}
			if r.code == http.StatusUnauthorized && !strings.Contains(string(r.body), "VIGIE_ADMIN_TOKEN") {
				t.Errorf("refusal does not say what is needed: %s", r.body)
			}
		})
	}
}

// TestProfilesNeedTheAdminToken: the profiles are refused without the token,
// VIGIE_ADMIN_TOKEN or the one vigie made when it is not set, even on
// loopback.
func TestProfilesNeedTheAdminToken(t *testing.T) {
	bearer := map[string]string{"Authorization": "Bearer s3cret"}
	withToken := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN": "s3cret"})
	made := start(t, rulesV1, nil)
	tests := []struct {
		name   string
		in     *instance
		path   string
		header map[string]string
		want   int
	}{
		{"index without a token", withToken, "/debug/pprof/", nil, http.StatusUnauthorized},
		{"heap without a token", withToken, "/debug/pprof/heap", nil, http.StatusUnauthorized},
		{"cmdline without a token", withToken, "/debug/pprof/cmdline", nil, http.StatusUnauthorized},
		{"profile without a token", withToken, "/debug/pprof/profile?seconds=1", nil, http.StatusUnauthorized},
		{"trace with a wrong token", withToken, "/debug/pprof/trace?seconds=1", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"index with the token", withToken, "/debug/pprof/", bearer, http.StatusOK},
		{"goroutines with the token", withToken, "/debug/pprof/goroutine?debug=1", bearer, http.StatusOK},
		{"symbol with the token", withToken, "/debug/pprof/symbol", bearer, http.StatusOK},
		{"index with another token than the one vigie made", made, "/debug/pprof/", bearer, http.StatusUnauthorized},
		{"heap with the token vigie made", made, "/debug/pprof/heap", nil, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.in.do(t, "GET", tt.path, nil, tt.header)
			if r.code != tt.want {
				t.Fatalf("GET %s = %d %.200s, want %d", tt.path, r.code, r.body, tt.want)
			}
			if r.code != http.StatusOK && !strings.Contains(string(r.body), "VIGIE_ADMIN_TOKEN") {
				t.Errorf("refusal does not say what is needed: %s", r.body)
			}
		})
	}
	if r := withToken.do(t, "GET", "/debug/pprof/goroutine?debug=1", nil, bearer); !strings.Contains(string(r.body), "goroutine profile:") {
		t.Errorf("no goroutine profile: %.200s", r.body)
	}
}

// TestProxiedNeedsTheSecrets: on loopback without its secrets vigie serves this
// machine's own clients (with the token it made, for the admin routes), but
// what a reverse proxy forwards (it connects from loopback too, and says so
// in its headers) is refused, the made token sent or not.
func TestProxiedNeedsTheSecrets(t *testing.T) {
	bearer := "Bearer s3cret"
	without := start(t, rulesV1, nil)
	withToken := start(t, rulesV1, map[string]string{"VIGIE_ADMIN_TOKEN": "s3cret"})
	event := []byte(`{"id":"p1","platform":"facebook","kind":"comment","space":"page-1","author":{"id":"u1","name":"U1"},"text":"hello","at":"` +
		time.Now().UTC().Format(time.RFC3339) + `"}`)
	tests := []struct {
		name   string
		in     *instance
		method string
		path   string
		body   []byte
		header map[string]string
		want   int
		needs  string
	}{
		{"cases, local", without, "GET", "/v1/cases", nil, nil, http.StatusOK, ""},
		{"cases, X-Forwarded-For", without, "GET", "/v1/cases", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"}, http.StatusForbidden, "VIGIE_ADMIN_TOKEN"},
		{"reload, Forwarded", without, "POST", "/-/reload", nil, map[string]string{"Forwarded": "for=203.0.113.9"}, http.StatusForbidden, "VIGIE_ADMIN_TOKEN"},
		{"decision, X-Real-IP", without, "POST", "/v1/cases/x/decision", []byte(`{"action":"keep"}`), map[string]string{"X-Real-IP": "203.0.113.9"}, http.StatusForbidden, "VIGIE_ADMIN_TOKEN"},
		{"event, local", without, "POST", "/v1/events", event, nil, http.StatusOK, ""},
		{"event, X-Forwarded-Proto", without, "POST", "/v1/events", event, map[string]string{"X-Forwarded-Proto": "https"}, http.StatusForbidden, "VIGIE_WEBHOOK_SECRET"},
		{"cases, proxied with the token", withToken, "GET", "/v1/cases", nil, map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": bearer}, http.StatusOK, ""},
		{"cases, proxied with a wrong token", withToken, "GET", "/v1/cases", nil, map[string]string{"X-Forwarded-For": "203.0.113.9", "Authorization": "Bearer nope"}, http.StatusUnauthorized, "VIGIE_ADMIN_TOKEN"},
		{"health, proxied", without, "GET", "/healthz", nil, map[string]string{"X-Forwarded-For": "203.0.113.9"}, http.StatusOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.in.do(t, tt.method, tt.path, tt.body, tt.header)
			if r.code != tt.want {
				t.Fatalf("%s %s = %d %.200s, want %d", tt.method, tt.path, r.code, r.body, tt.want)
			}
			if tt.needs != "" && !strings.Contains(string(r.body), tt.needs) {
				t.Errorf("refusal does not say what is needed (%s): %s", tt.needs, r.body)
			}
		})
	}
}
