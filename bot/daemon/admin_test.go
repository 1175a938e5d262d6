package daemon_test

import (
	"net/http"
	"strings"
	"testing"
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
