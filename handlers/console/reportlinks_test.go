package console_test

import (
	"context"
	"html"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store/memory"
)

// The reports page's CSV and chart are of the period shown, and of its
// community: asking for 7d gives 7d's, not the default 24h's.
func TestReportFilesOfThePeriodShown(t *testing.T) {
	st := memory.New(memory.WithCaseEpoch("tests"))
	addViewer(t, st)
	type asked struct {
		period    time.Duration
		community string
	}
	var got []asked
	con := console.New(console.Options{Store: st, Accounts: st,
		Communities: func() []string { return []string{"shop", "club"} },
		Report: func(_ context.Context, period time.Duration, community string) (*report.Report, error) {
			got = append(got, asked{period, community})
			return &report.Report{Community: community, Timezone: "UTC"}, nil
		}})
	routes := con.Routes()
	mux := http.NewServeMux()
	for pattern, h := range routes {
		mux.Handle(pattern, h)
	}
	session := login(t, routes, "vic", "battery staple")
	page := get(routes, "GET /reports", "/reports?since=7d&community=club", session).Body.String()
	base, _ := url.Parse("http://127.0.0.1:8080/reports")
	for _, re := range []string{`<a href="(/reports/report\.csv[^"]*)"`, `<img src="(/reports/chart\.png[^"]*)"`} {
		m := regexp.MustCompile(re).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no %s on the page:\n%s", re, page)
		}
		u, _ := base.Parse(html.UnescapeString(m[1]))
		got = nil
		rec := get(map[string]http.Handler{"": mux}, "", u.RequestURI(), session)
		if rec.Code != http.StatusOK || len(got) != 1 || got[0] != (asked{7 * 24 * time.Hour, "club"}) {
			t.Errorf("%s: %d, the report asked for %+v, want 7d of club", u.RequestURI(), rec.Code, got)
		}
		if strings.HasSuffix(u.Path, ".csv") {
			_, params, _ := mime.ParseMediaType(rec.Header().Get("Content-Disposition"))
			if params["filename"] != "vigie-report-7d.csv" {
				t.Errorf("the CSV is named %q, want vigie-report-7d.csv", params["filename"])
			}
		}
	}
}
