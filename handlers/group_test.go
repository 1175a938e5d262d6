package handlers_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// flood is a verdict of a rule that deletes and forwards, for the event id.
func flood(id string) bot.Verdict {
	v := verdict("discord", bot.Match{Rule: "flood", Category: "flood",
		Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActForward, Text: "flood"}}})
	v.EventID = id
	return v
}

func TestRaidMakesOneCase(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New()
	desk := &deskRecorder{}
	m, _ := newModerator(t, st, desk, discord)
	for i := range 50 {
		ev := event("discord")
		ev.ID, ev.Channel = fmt.Sprintf("m-%d", i), "general"
		if err := m.Handle(ctx, ev, flood(ev.ID)); err != nil {
			t.Fatal(err)
		}
	}
	m.FlushCases(ctx)
	cs, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Count != 50 {
		t.Fatalf("%d open cases (first counting %d), want one counting 50", len(cs), cs[0].Count)
	}
	if n := len(cs[0].Latest); n != store.GroupLatest || cs[0].Latest[n-1] != "m-49" {
		t.Errorf("latest = %v, want the last %d ids, m-49 last", cs[0].Latest, store.GroupLatest)
	}
	if len(desk.cases) != 1 {
		t.Errorf("desk shown %q, want one card", desk.cases)
	}
	if n := len(discord.calls); n != 50 {
		t.Errorf("%d platform calls, want 50 deletes", n)
	}
}

// TestCaseCapKeepsActions: past the cap, the case is dropped and counted, the
// action done all the same, and Handle does not fail (a failure would have
// the verdict carried out again).
func TestCaseCapKeepsActions(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithOpenCaseCap(1))
	m, reg := newModerator(t, st, nil, discord)
	for i := range 3 {
		ev := event("discord")
		ev.ID, ev.Channel, ev.Author.ID = fmt.Sprintf("m-%d", i), fmt.Sprintf("c-%d", i), fmt.Sprintf("u-%d", i)
		if err := m.Handle(ctx, ev, flood(ev.ID)); err != nil {
			t.Fatalf("hit %d: %v", i, err)
		}
	}
	if n := len(discord.calls); n != 3 {
		t.Errorf("%d platform calls, want 3 deletes", n)
	}
	if got := openCases(t, st); len(got) != 1 {
		t.Errorf("open cases %q, want 1", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	dropped := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "vigie_cases_dropped_total" {
			dropped = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if dropped != 2 {
		t.Errorf("vigie_cases_dropped_total = %v, want 2", dropped)
	}
}
