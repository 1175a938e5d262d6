package handlers_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// claimFailures reads vigie_claim_failures_total by claim.
func claimFailures(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "vigie_claim_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "claim" {
					out[l.GetValue()] = m.GetCounter().GetValue()
				}
			}
		}
	}
	return out
}

// TestClaimFailuresWarned: with Redis stopped, an edit's answer and
// warning are given again (a member answered twice rather than none), and
// that is seen: each claim the store did not answer is counted, and logged
// at Warn once a minute with how many failed since the line before, not
// once per event.
func TestClaimFailuresWarned(t *testing.T) {
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	srv.Stop()

	clk := &clock{t: at}
	var logs logLines
	reg := prometheus.NewRegistry()
	p := editChat{&chat{recorder: recorder{name: "discord", errs: map[string][]error{}}}}
	m, err := handlers.New(handlers.Options{
		Platforms: map[string]bot.Platform{"discord": p}, Store: st, Now: clk.Now,
		Retry:      handlers.Retry{Attempts: 1},
		Logger:     slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Registerer: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	hello := bot.Match{Rule: "hello", Actions: []bot.Action{{Kind: bot.ActReply, Text: "Bonjour !"}}}
	edit := func(n int) {
		t.Helper()
		ev := event("discord")
		ev.ID, ev.Kind, ev.At = fmt.Sprint("m-1@", n), bot.KindEdit, clk.Now()
		v := verdict("discord", hello)
		v.EventID = ev.ID
		// Redis stopped, the audit entry is not written: Handle says so.
		_ = m.Handle(context.Background(), ev, v)
	}
	for n := range 5 {
		edit(n)
		clk.Add(time.Second)
	}
	if got := claimFailures(t, reg)["said"]; got != 5 {
		t.Errorf("said claims failed counted %v, want 5", got)
	}
	lines := logs.with("level=WARN", "claim=said")
	if len(lines) != 1 || len(logs.with("claim=said", "failed=1")) != 1 {
		t.Fatalf("warned %d times for 5 failed claims in a minute, want once: %q", len(lines), lines)
	}
	clk.Add(handlers.ClaimWarnEvery)
	edit(5)
	if got := logs.with("level=WARN", "claim=said", "failed=5"); len(got) != 1 {
		t.Errorf("a minute on, no line counting the 5 failed since: %q", logs.with("claim=said"))
	}
	if n := len(p.Calls()); n != 6 {
		t.Errorf("%d answers, want 6: a claim not answered leaves the answer said", n)
	}
}
