package daemon

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// FuzzEventsHandler posts random bodies to /v1/events: whatever comes in, the answer
// is a 2xx or a 4xx with a JSON error, never a 5xx or a panic.
func FuzzEventsHandler(f *testing.F) {
	for _, seed := range []string{
		`{"id":"m-1","platform":"discord","kind":"message","space":"g","channel":"c","author":{"id":"u-7","name":"Bob","roles":["member"],"created_at":"2026-11-19T10:00:00Z","joined_at":"2026-11-20T21:58:00Z"},"text":"salut","at":"2026-11-20T22:10:00Z"}`,
		`{"id":"m-2","platform":"discord","author":{"id":"u-7"},"text":"FREE NITRO https://dlscord.gift/x @a @b","at":"2026-11-20T22:10:00Z"}`,
		`{"id":"j-1","platform":"discord","kind":"join","author":{"id":"u-8"},"at":"2026-11-20T22:10:00Z"}`,
		`{"id":"m-3","kind":"weird","text":"","at":"2026-11-20T22:10:00Z","attachments":-1}`,
		`{"id":"m-4","text":"x","at":"0001-01-01T00:00:00Z"}`,
		`{"id":"m-5","text":"x","at":"9999-12-31T23:59:59Z","author":{"created_at":"9999-12-31T23:59:59Z"}}`,
		`{"id":"m-6","text":"\u0000\ud800 é ＦＲＥＥ","at":"2026-11-20T22:10:00+14:00"}`,
		`{"id":"","text":"x","at":"2026-11-20T22:10:00Z"}`,
		`{"id":"m-7","text":"x","at":"yesterday"}`,
		`{"id":7,"text":"x"}`,
		`{"id":"m-8","text":null,"at":"2026-11-20T22:10:00Z"}`,
		`[]`, `null`, `""`, `{`, ``, `{"id":"m-9","text":"a","at":"2026-11-20T22:10:00Z"} trailing`,
	} {
		f.Add([]byte(seed))
	}
	file := filepath.Join(f.TempDir(), "rules.yaml")
	rules := `timezone: Europe/Paris
office_hours: {mon-fri: "09:00-19:00"}
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 3
    do: [delete, timeout(10m), 'warn("slow down {{author.name}}")']
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro" or len(links) > 0 or mentions > 1'
    do: [forward("scam"), strike]
  - name: new
    when: author.account_age < duration("1h") and after_hours
    do: ['alert("new account {{author.name}}")']
`
	if err := os.WriteFile(file, []byte(rules), 0o600); err != nil {
		f.Fatal(err)
	}
	d, err := build(context.Background(), Config{ConfigPath: file, Getenv: WithTokenDir(f, nil)})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { _ = d.close() })
	h, err := d.routes()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/v1/events", bytes.NewReader(body)))
		if rec.Code >= 500 {
			t.Fatalf("%d %s for %q", rec.Code, rec.Body, body)
		}
		if rec.Code != http.StatusOK && !bytes.HasPrefix(rec.Body.Bytes(), []byte(`{"error":`)) {
			t.Fatalf("%d without a JSON error: %s", rec.Code, rec.Body)
		}
	})
}
