package handlers_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A decision whose carrying out began in a process killed before its end
// was recorded (store.Case.Carrying) may have been done by the platform.
// Handed on, a timeout is not given a second time: its case records that
// its end is unknown, and a new case asks a CM to check. A delete is done
// again (a message gone already counts as deleted). Before, both were
// carried out again, the member timed out twice.
func TestDecisionBegunThenKilledNotDoneBlind(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, _ := newModerator(t, st, nil, discord)
	begun := func(outcome, id string) store.Case {
		t.Helper()
		ev := event("discord")
		ev.ID = id
		c, err := st.OpenCase(ctx, store.Case{Event: ev, Reason: "insult"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.DecideCase(ctx, c.ID, outcome, "telegram:1", "", c.Opened); err != nil {
			t.Fatal(err)
		}
		// what the killed process wrote before it asked the platform
		if err := st.MarkCarrying(ctx, c.ID, "killed"); err != nil {
			t.Fatal(err)
		}
		return c
	}
	handed := bot.WithHandedOn(ctx)

	warned := begun("timeout(1h)", "m-1")
	_, err := m.Decide(handed, warned.ID, "timeout(1h)", "telegram:1")
	if err == nil || !strings.Contains(err.Error(), "not done a second time") {
		t.Errorf("the timeout handed on: error %v, want its end unknown", err)
	}
	if calls := discord.Calls(); len(calls) != 0 {
		t.Fatalf("calls = %q, want none (the timeout not given twice)", calls)
	}
	got, err := st.Case(ctx, warned.ID)
	if err != nil || got.Carrying || !strings.Contains(got.Carried, "not done a second time") {
		t.Errorf("case carried %q (carrying %v), %v; want its end unknown, recorded", got.Carried, got.Carrying, err)
	}
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 1 || open[0].Event.ID != "m-1" || !slices.ContainsFunc(open[0].NotDone, func(a bot.Action) bool { return a.Kind == bot.ActTimeout }) {
		t.Errorf("open cases %+v, %v; want one asking a CM to check the timeout", open, err)
	}
	// handed on again: its end is recorded, nothing more is done
	if _, err := m.Decide(handed, warned.ID, "timeout(1h)", "telegram:1"); err == nil {
		t.Errorf("the timeout handed on again: no error, want its end recorded")
	}
	if calls := discord.Calls(); len(calls) != 0 {
		t.Fatalf("calls = %q, want none", calls)
	}

	deleted := begun("delete", "m-2")
	if _, err := m.Decide(handed, deleted.ID, "delete", "telegram:1"); err != nil {
		t.Fatalf("the delete handed on: %v", err)
	}
	if calls, want := discord.Calls(), []string{"delete"}; !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q (the delete done again)", calls, want)
	}
	if got, err := st.Case(ctx, deleted.ID); err != nil || got.Carried != store.CarriedDone || got.Carrying {
		t.Errorf("case carried %q (carrying %v), %v; want done", got.Carried, got.Carrying, err)
	}
}
