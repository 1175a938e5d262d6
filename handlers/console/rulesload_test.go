package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

const smallRules = `timezone: UTC
rules:
  - name: scam
    when: 'lower(text) contains "nitro"'
    do: [delete]
`

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// post sends form to the route of pattern from loopback, in a session.
func post(routes map[string]http.Handler, pattern, path string, form url.Values, session *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:4000"
	req.Host = "127.0.0.1:8080"
	req.AddCookie(session)
	w := httptest.NewRecorder()
	routes[pattern].ServeHTTP(w, req)
	return w
}

// TestOneBacktestAtATime: a backtest replays the recent events twice; while
// one runs, another is refused (429, saying so) rather than run beside it,
// and once it ends the next runs.
func TestOneBacktestAtATime(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	var acc store.Accounts = st
	if err := acc.PutAccount(ctx, store.Account{Name: "ada", Role: console.RoleAdmin, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(smallRules), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	events := []bot.Event{{ID: "m1", Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c",
		Author: bot.Author{ID: "u1", Name: "bob"}, Text: "free nitro", At: at.Add(-time.Hour)}}
	// The first backtest's history is read once the second was answered.
	first, release := make(chan struct{}), make(chan struct{})
	reads := 0
	routes := console.New(console.Options{Store: st, Accounts: acc, Insecure: true, Now: func() time.Time { return at },
		Rules: &console.RuleFile{
			Path:   func() string { return file },
			Reload: func(string) error { return nil },
			History: func(context.Context) ([]bot.Event, error) {
				if reads++; reads == 1 {
					close(first)
					<-release
				}
				return events, nil
			},
		}}).Routes()
	session := login(t, routes, "ada", "correct horse")
	m := csrfField.FindStringSubmatch(get(routes, "GET /rules", "/rules", session).Body.String())
	if m == nil {
		t.Fatal("the rules page has no form")
	}
	draft := url.Values{"draft": {strings.Replace(smallRules, "nitro", "gift", 1)}, "csrf": {m[1]}}
	backtest := func() *httptest.ResponseRecorder {
		return post(routes, "POST /rules/backtest", "/rules/backtest", draft, session)
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- backtest() }()
	<-first
	if w := backtest(); w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "A backtest is running already: try again when it ends.") {
		t.Errorf("a backtest while one runs: %d %s", w.Code, w.Body)
	}
	close(release)
	if w := <-done; w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rule":"scam","before":1,"after":0`) {
		t.Errorf("the first backtest: %d %s", w.Code, w.Body)
	}
	if w := backtest(); w.Code != http.StatusOK {
		t.Errorf("a backtest after the first ended: %d %s", w.Code, w.Body)
	}
}

// TestDraftsCompiledInTurn: drafts are compiled (checked as the admin
// types, tested, applied) two at a time; the others wait for a turn, and
// one whose browser has gone meanwhile is not compiled at all.
func TestDraftsCompiledInTurn(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	if err := st.PutAccount(ctx, store.Account{Name: "ada", Role: console.RoleAdmin, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(smallRules), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	con := console.New(console.Options{Store: st, Accounts: st, Insecure: true, Now: func() time.Time { return at },
		Rules: &console.RuleFile{Path: func() string { return file }, Reload: func(string) error { return nil },
			History: func(context.Context) ([]bot.Event, error) { return nil, nil }}})
	routes := con.Routes()
	session := login(t, routes, "ada", "correct horse")
	m := csrfField.FindStringSubmatch(get(routes, "GET /rules", "/rules", session).Body.String())
	if m == nil {
		t.Fatal("the rules page has no form")
	}
	broken := url.Values{"draft": {strings.Replace(smallRules, "contains", "contans", 1)}, "csrf": {m[1]}}
	release := console.HoldCompiles(con)
	for _, path := range []string{"/rules/check", "/rules/test", "/rules/apply"} {
		req := httptest.NewRequest("POST", path, strings.NewReader(broken.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr, req.Host = "127.0.0.1:4000", "127.0.0.1:8080"
		req.AddCookie(session)
		gone, cancel := context.WithCancel(ctx)
		cancel() // the admin's browser went while the turns were taken
		w := httptest.NewRecorder()
		routes["POST "+path].ServeHTTP(w, req.WithContext(gone))
		if w.Body.Len() != 0 {
			t.Errorf("%s whose browser had gone: compiled, %d %s", path, w.Code, w.Body)
		}
	}
	release()
	if w := post(routes, "POST /rules/check", "/rules/check", broken, session); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "contans") {
		t.Errorf("a check once a turn is free: %d %s", w.Code, w.Body)
	}
}
