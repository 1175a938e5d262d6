package console_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The queue and the reports keep to one community when asked, and link to
// each community.
func TestQueueAndReportsByCommunity(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	for i, community := range []string{"shop", "club", "", "shop"} {
		ev := bot.Event{ID: fmt.Sprintf("m%d", i), Platform: "discord", Author: bot.Author{ID: fmt.Sprintf("u%d", i)}, Text: "x", At: at}
		if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Community: community, Opened: at.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	addViewer(t, st)
	var asked []string
	con := console.New(console.Options{Store: st, Accounts: st,
		Communities: func() []string { return []string{"shop", "club"} },
		Report: func(_ context.Context, _ time.Duration, community string) (*report.Report, error) {
			asked = append(asked, community)
			return &report.Report{Community: community}, nil
		}})
	routes := con.Routes()
	session := login(t, routes, "vic", "battery staple")
	queue := func(query string) ([]string, string) {
		rec := get(routes, "GET /queue", "/queue"+query, session)
		var ids []string
		for _, m := range regexp.MustCompile(`data-case="([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
			ids = append(ids, m[1])
		}
		slices.Sort(ids)
		return ids, rec.Body.String()
	}
	all, body := queue("")
	if len(all) != 4 || !strings.Contains(body, `href="/queue?community=club"`) {
		t.Errorf("the whole queue: %v, with a link per community:\n%s", all, body)
	}
	if got, body := queue("?community=shop"); !slices.Equal(got, []string{"c-tests-000001", "c-tests-000004"}) || !strings.Contains(body, "2 open cases in shop") {
		t.Errorf("shop's queue = %v:\n%s", got, body)
	}
	rec := get(routes, "GET /reports", "/reports?since=24h&community=club", session)
	if !strings.Contains(rec.Body.String(), "Report of club") || !slices.Equal(asked, []string{"club"}) {
		t.Errorf("club's report: asked %q:\n%s", asked, rec.Body.String())
	}
}
