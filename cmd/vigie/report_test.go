package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

func TestReportFromARunningVigie(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/report" || r.URL.Query().Get("since") != "12h" || r.URL.Query().Get("format") != "csv" ||
			r.Header.Get("Authorization") != "Bearer s3cret" {
			http.Error(w, `{"error":"unexpected `+r.URL.String()+`"}`, http.StatusBadRequest)
			return
		}
		w.Write([]byte("hour,rule,category,hits,actions,events\n"))
	}))
	defer srv.Close()
	res := runIn(context.Background(), "", map[string]string{"VIGIE_ADMIN_TOKEN": "s3cret"},
		"report", "--since", "12h", "--format", "csv", "--url", srv.URL)
	if res.code != exitOK || res.stdout != "hour,rule,category,hits,actions,events\n" {
		t.Errorf("report: %+v", res)
	}
	res = run("report", "--url", srv.URL)
	if res.code != exitFail || !strings.Contains(res.stderr, "400 Bad Request") {
		t.Errorf("refused report: %+v", res)
	}
	if res := run("report", "--format", "xml"); res.code != exitUsage {
		t.Errorf("--format xml: %+v", res)
	}
	if res := run("report", "--since", "yesterday"); res.code != exitUsage {
		t.Errorf("--since yesterday: %+v", res)
	}
}

// A server of its own: the report counts every event the store holds for the
// last day of vigie's clock under the default prefix, another run's (go test
// -count) included.
func TestReportFromRedis(t *testing.T) {
	clock := clockFrom(time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)) // Paris's clocks went forward half an hour ago
	url := redistest.Start(t).URL()
	st := redistest.Open(t, url)
	ctx := context.Background()
	now := clock()
	ev := bot.Event{ID: "m1", Platform: "discord", Space: "g", Author: bot.Author{ID: "u1"}, Text: "spam", At: now.Add(-time.Hour)}
	v := bot.Verdict{EventID: "m1", Matches: []bot.Match{{Rule: "spam", Category: "spam", Actions: []bot.Action{{Kind: bot.ActDelete}}}}}
	if err := st.AppendAudit(ctx, store.AuditEntry{At: ev.At, Event: ev, Verdict: v, Mode: "after"}); err != nil {
		t.Fatal(err)
	}
	tally := report.NewTally("test")
	for range 5 {
		tally.Add("discord", now.Add(-2*time.Hour))
	}
	if err := tally.Flush(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	res := runOn(ctx, clock, "", nil, "report", "--redis", url, "--format", "json", "--config", "testdata/good.yaml")
	if res.code != exitOK {
		t.Fatalf("report: %+v", res)
	}
	var r report.Report
	if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
		t.Fatalf("%v:\n%s", err, res.stdout)
	}
	if r.Flagged != 1 || r.Actions != 1 || r.Events != 5 || !r.EventsKnown || r.ByMode["after"] != 1 {
		t.Errorf("report %+v", r)
	}
	res = runOn(ctx, clock, "", nil, "report", "--redis", url)
	if res.code != exitOK || !strings.Contains(res.stdout, "5 events, 1 flagged, 1 action (delete 1).") {
		t.Errorf("text report: %+v", res)
	}
}

// vigie report --redis reads the keys of the vigie run beside it, whose
// VIGIE_REDIS_PREFIX it shares: a community on a shared Redis sees its own
// figures, not another's.
func TestReportFromRedisPrefix(t *testing.T) {
	clock := clockFrom(time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)) // Paris's clocks went back half an hour ago
	url := redistest.Start(t).URL()
	st := redistest.Open(t, url, redis.WithPrefix("shop"))
	ctx := context.Background()
	now := clock()
	tally := report.NewTally("test")
	for range 3 {
		tally.Add("discord", now.Add(-2*time.Hour))
	}
	if err := tally.Flush(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		prefix string
		events int
	}{{"shop", 3}, {"", 0}, {"other", 0}} {
		res := runOn(ctx, clock, "", map[string]string{"VIGIE_REDIS_PREFIX": tt.prefix}, "report", "--redis", url, "--format", "json", "--config", "testdata/good.yaml")
		if res.code != exitOK {
			t.Fatalf("report with prefix %q: %+v", tt.prefix, res)
		}
		var r report.Report
		if err := json.Unmarshal([]byte(res.stdout), &r); err != nil {
			t.Fatalf("%v:\n%s", err, res.stdout)
		}
		if r.Events != tt.events {
			t.Errorf("VIGIE_REDIS_PREFIX=%q: %d events, want %d", tt.prefix, r.Events, tt.events)
		}
	}
}
