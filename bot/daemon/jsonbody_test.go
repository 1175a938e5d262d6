package daemon_test

import (
	"bytes"
	"encoding/json"
	"io"
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

// An event's body is bounded whether or not it announces its length: a body
// sent in chunks (no Content-Length) is judged when it is within the bound
// and refused with 413 past it, as one of an announced length is.
func TestEventBodyWithoutLength(t *testing.T) {
	in := start(t, rulesV1, nil)
	ev, err := json.Marshal(message("chunked-1", "u-1", "free nitro"))
	if err != nil {
		t.Fatal(err)
	}
	huge := []byte(`{"id":"x","text":"` + strings.Repeat("a", 1<<20) + `","at":"2026-11-20T22:10:00Z"}`)
	for _, tt := range []struct {
		name string
		body []byte
		code int
		want string
	}{
		{"within the bound", ev, http.StatusOK, `"event_id":"chunked-1"`},
		{"past the bound", huge, http.StatusRequestEntityTooLarge, "body larger than 1 MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// A reader of unknown length: the client sends it in chunks.
			req, err := http.NewRequest("POST", in.base+"/v1/events", io.MultiReader(bytes.NewReader(tt.body)))
			if err != nil {
				t.Fatal(err)
			}
			req.ContentLength, req.TransferEncoding = -1, []string{"chunked"}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || !strings.Contains(string(b), tt.want) {
				t.Errorf("%d %.200s, want %d with %s", resp.StatusCode, b, tt.code, tt.want)
			}
		})
	}
}
