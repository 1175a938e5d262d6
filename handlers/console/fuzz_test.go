package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// FuzzConsole sends odd requests to the console, signed in as an admin
// (with the session's CSRF token) or not: whatever the method, path, query,
// form and Origin, it answers without a panic and without a 5xx (the store
// answers), and what it answers 200 to a GET of a page is HTML.
func FuzzConsole(f *testing.F) {
	for _, s := range []struct {
		method, target, form, origin string
		signedIn                     bool
	}{
		{"GET", "/queue?page=-9223372036854775808", "", "", true},
		{"GET", "/queue?page=99999999999999999999&part=list&community=%00", "", "", true},
		{"POST", "/queue/c-tests-000001/decide", "outcome=ban(9999999999999h)&arg=", "", true},
		{"POST", "/queue/c-tests-000001/decide", "outcome=reply&arg=%ff%fe", "", true},
		{"POST", "/queue/..%2f..%2f/decide", "outcome=keep(", "", true},
		{"POST", "/queue/c-tests-000001/decide", "outcome=timeout&arg=-1h", "null", true},
		{"GET", "/people?q=%ff", "", "", true},
		{"GET", "/people/%ff/%2e%2e/%00", "", "", true},
		{"POST", "/people/discord/-/u1/strikes/lift", "", "", true},
		{"POST", "/people/discord/-/u1/timeout/lift", "", "", true},
		{"GET", "/reports?since=-1h", "", "", true},
		{"GET", "/reports?since=9999999999999999h", "", "", true},
		{"GET", "/reports/chart.png?since=0s", "", "", true},
		{"GET", "/reports/report.csv?since=1ns", "", "", true},
		{"POST", "/rules/check", "draft=%00%ff", "", true},
		{"POST", "/rules/rollback", "version=../../etc/passwd", "", true},
		{"GET", "/login?next=//evil.example&undone=../x&outcome=ban", "", "", false},
		{"POST", "/login", "name=ann&password=&next=/%0d%0aSet-Cookie:x=1", "", false},
		{"POST", "/logout", "", "http://evil.example", true},
		{"GET", "/static/../console.go", "", "", false},
		{"GET", "/queue/live?v=%ff", "", "", false},
	} {
		f.Add(s.method, s.target, s.form, s.origin, s.signedIn)
	}
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	ev := bot.Event{ID: "m1", Platform: "discord", Space: "g", Author: bot.Author{ID: "u1", Name: "Bob"}, Text: "x", At: at}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Opened: at}); err != nil {
		f.Fatal(err)
	}
	if err := st.PutAccount(ctx, store.Account{Name: "ada", Role: console.RoleAdmin, Hash: console.HashPassword("battery staple")}); err != nil {
		f.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Now: func() time.Time { return at },
		Decide: func(ctx context.Context, id, outcome, by string) (store.Case, string, error) {
			return noNote(st.DecideCase(ctx, id, outcome, by, "", at))
		},
		Outcomes: func(bot.Event) []bot.ActionKind {
			return []bot.ActionKind{handlers.OutcomeKeep, bot.ActDelete, bot.ActTimeout, bot.ActBan, bot.ActReply}
		},
		LiftTimeout: func(context.Context, bot.Event, string) error { return nil },
		Report: func(_ context.Context, period time.Duration, community string) (*report.Report, error) {
			return &report.Report{Community: community, Since: at.Add(-period), Until: at, Timezone: "UTC"}, nil
		},
		Health: func(context.Context) console.Health { return console.Health{Version: "test"} },
	})
	f.Cleanup(con.Close)
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	session := login(f, con.Routes(), "ada", "battery staple")
	page := get(map[string]http.Handler{"": mux}, "", "/queue", session).Body.String()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		f.Fatalf("no CSRF token on the queue:\n%s", page)
	}
	csrf := m[1]

	f.Fuzz(func(t *testing.T, method, target, form, origin string, signedIn bool) {
		if !strings.HasPrefix(target, "/") || strings.HasPrefix(target, "/queue/live") {
			return // a request line's target; the live view is a stream
		}
		switch method {
		case "GET", "POST", "HEAD", "PUT", "DELETE":
		default:
			return
		}
		body := form
		if method == "POST" && signedIn {
			body += "&csrf=" + csrf
		}
		// Made as a server reads one: a target it could not parse never
		// reaches a handler.
		req, err := http.NewRequest(method, "http://127.0.0.1:8080"+target, strings.NewReader(body))
		if err != nil || req.URL.Host != "127.0.0.1:8080" {
			return
		}
		req.RequestURI = target
		req.RemoteAddr = "127.0.0.1:4000"
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if signedIn {
			req.AddCookie(session)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req.WithContext(ctx))
		if w.Code >= 500 {
			t.Fatalf("%s %s (%q): %d\n%s", method, target, form, w.Code, w.Body.String())
		}
		if method == "GET" && w.Code == http.StatusOK && !strings.HasPrefix(target, "/static/") && !strings.HasPrefix(target, "/reports/") {
			if ct := w.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
				t.Fatalf("%s %s: 200 as %q", method, target, ct)
			}
		}
	})
}
