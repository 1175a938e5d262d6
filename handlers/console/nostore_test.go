package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The console's pages show members' messages, their names and the CM's
// CSRF token: no browser or proxy may keep them (Cache-Control: no-store),
// so that the back button after "Log out" on a shared computer, or a
// cache between, does not show them again. Its own script and style may
// be kept.
func TestPagesAreNotKept(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	ev := bot.Event{ID: "m1", Platform: "discord", Space: "g", Author: bot.Author{ID: "u1", Name: "Bob"}, Text: "my phone number is 555-0100", At: at}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Opened: at}); err != nil {
		t.Fatal(err)
	}
	addViewer(t, st)
	routes := console.New(console.Options{Store: st, Accounts: st, Now: func() time.Time { return at },
		Report: func(_ context.Context, period time.Duration, community string) (*report.Report, error) {
			return &report.Report{Since: at.Add(-period), Until: at, Timezone: "UTC"}, nil
		},
		Health: func(context.Context) console.Health { return console.Health{Version: "test"} },
	}).Routes()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	session := login(t, routes, "vic", "battery staple")
	for _, path := range []string{"/queue", "/queue?part=list", "/people?q=Bob", "/people/discord/g/u1", "/reports", "/reports/report.csv", "/reports/chart.png", "/health", "/login"} {
		rec := get(map[string]http.Handler{"": mux}, "", path, session)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", path, rec.Code)
			continue
		}
		if cc := rec.Header().Get("Cache-Control"); !strings.Contains(cc, "no-store") {
			t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
		}
	}
	rec := get(map[string]http.Handler{"": mux}, "", "/static/console.js", session)
	if cc := rec.Header().Get("Cache-Control"); rec.Code != http.StatusOK || strings.Contains(cc, "no-store") {
		t.Errorf("/static/console.js: %d, Cache-Control %q, want it kept", rec.Code, cc)
	}
}
