package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store/memory"
)

// The console's files are its own: a path that names none, climbs out or is
// not even text is a 404, never another file nor a 500 (which a stranger
// could send to make vigie look broken to an alert on its errors).
func TestStaticOddPaths(t *testing.T) {
	st := memory.New()
	con := console.New(console.Options{Store: st, Accounts: st})
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawPath, req.URL.Path = "", ""
		req.URL.Opaque = path // sent as it is
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/static/console.js"); code != http.StatusOK || !strings.Contains(body, "EventSource") {
		t.Fatalf("/static/console.js: %d", code)
	}
	for _, path := range []string{"/static/%80", "/static/%ff%fe", "/static/..%2fconsole.go", "/static/%2e%2e/console.go", "/static/%00", "/static/nothing.js"} {
		if code, body := get(path); code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404: %.200s", path, code, body)
		}
	}
}
