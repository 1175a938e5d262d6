package daemon_test

import (
	"net/http"
	"strings"
	"testing"
)

// The admin API's JSON bodies are refused as POST /v1/events refuses its
// own: one too large with 413, and one with more after its object with 400.
// The decision and the account took the first object of a body and ignored
// the rest (a second decision, a second role), and called a body too large a
// bad request.
func TestAdminBodiesRefusedClearly(t *testing.T) {
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	huge := []byte(`{"by":"` + strings.Repeat("x", 1<<20) + `"}`)
	tests := []struct {
		name, method, path string
		body               []byte
		code               int
		want               string
	}{
		{"a decision too large", "POST", "/v1/cases/c-000001/decision", huge, http.StatusRequestEntityTooLarge, "body larger than 16 KiB"},
		{"an account too large", "PUT", "/v1/accounts/ann", huge, http.StatusRequestEntityTooLarge, "body larger than 4 KiB"},
		{"a decision, then another", "POST", "/v1/cases/c-000001/decision",
			[]byte(`{"outcome":"keep","by":"ann"} {"outcome":"ban","by":"bob"}`), http.StatusBadRequest, "body: more after the JSON object"},
		{"an account, then another role", "PUT", "/v1/accounts/ann",
			[]byte(`{"role":"viewer","password":"correct horse"}{"role":"admin"}`), http.StatusBadRequest, "body: more after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := in.do(t, tt.method, tt.path, tt.body, nil)
			var e struct{ Error string }
			r.json(t, &e)
			if r.code != tt.code || !strings.Contains(e.Error, tt.want) {
				t.Errorf("%s %s = %d %q, want %d with %q", tt.method, tt.path, r.code, e.Error, tt.code, tt.want)
			}
		})
	}
}
