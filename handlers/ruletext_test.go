package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// reasons is a chat platform that deletes and keeps the audit reason each
// deletion was given.
type reasons struct {
	mu  sync.Mutex
	got []string
}

func (*reasons) Name() string { return "discord" }
func (r *reasons) Delete(ctx context.Context, _ bot.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, bot.AuditReason(ctx))
	return nil
}

// TestRuleTexts: each rule's actions carry its own audit reason, and a
// forward without text opens a case with its rule's default reason, rule
// after rule and again.
func TestRuleTexts(t *testing.T) {
	st := memory.New()
	defer st.Close()
	p := &reasons{}
	m, err := handlers.New(handlers.Options{
		Platforms:  map[string]bot.Platform{"discord": p},
		Store:      st,
		Registerer: prometheus.NewRegistry(),
		Logger:     slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now:        func() time.Time { return at },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rules := []string{"scam", "flood", "scam", "insult"}
	for i, rule := range rules {
		ev := bot.Event{ID: "m-" + string(rune('a'+i)), Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c",
			Author: bot.Author{ID: "u-" + string(rune('a'+i))}, Text: "x", At: at}
		v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: at, Matches: []bot.Match{{Rule: rule, Category: "spam",
			Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActForward}}}}}
		if err := m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"vigie: rule scam", "vigie: rule flood", "vigie: rule scam", "vigie: rule insult"}
	if !slices.Equal(p.got, want) {
		t.Errorf("audit reasons %q, want %q", p.got, want)
	}
	cs, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range cs {
		got = append(got, c.Rule+": "+c.Reason)
	}
	wantCases := []string{"scam: forwarded by rule scam", "flood: forwarded by rule flood", "scam: forwarded by rule scam", "insult: forwarded by rule insult"}
	if !slices.Equal(got, wantCases) {
		t.Errorf("cases %q, want %q", got, wantCases)
	}
}
