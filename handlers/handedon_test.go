package handlers_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// A decision recorded by a process killed before it carried it out (the
// case decided, the platform never asked) is carried out when the CM's
// press is handed on to the next process (bot.WithHandedOn), once: handed
// on again, the case says it was carried out, and nothing is done twice.
// Another CM's press, or the same CM's for another outcome, is still
// refused as decided; so is a press that is not handed on.
func TestDecisionHandedOnIsCarriedOutOnce(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, _ := newModerator(t, st, nil, discord)
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	// the killed process: the case decided, nothing carried out
	if _, err := st.DecideCase(ctx, c.ID, "ban(1d)", "telegram:1", c.Opened); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, c.ID, "ban(1d)", "telegram:1"); !errors.Is(err, store.ErrDecided) {
		t.Fatalf("a press not handed on: error %v, want ErrDecided", err)
	}
	handed := bot.WithHandedOn(ctx)
	for _, other := range []struct{ outcome, by string }{{"ban(1d)", "telegram:2"}, {"keep", "telegram:1"}} {
		if _, err := m.Decide(handed, c.ID, other.outcome, other.by); !errors.Is(err, store.ErrDecided) {
			t.Errorf("%s by %s handed on: error %v, want ErrDecided", other.outcome, other.by, err)
		}
	}
	if calls := discord.Calls(); len(calls) != 0 {
		t.Fatalf("calls before the hand-on = %q, want none", calls)
	}
	for range 2 {
		got, err := m.Decide(handed, c.ID, "ban(1d)", "telegram:1")
		if err != nil {
			t.Fatalf("the press handed on: %v", err)
		}
		if got.Outcome != "ban(1d)" || got.DecidedBy != "telegram:1" {
			t.Errorf("case = %q by %q, want ban(1d) by telegram:1", got.Outcome, got.DecidedBy)
		}
	}
	if want := []string{"ban(1d)"}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q (carried out once)", discord.Calls(), want)
	}
	got, err := st.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Carried != store.CarriedDone {
		t.Errorf("case carried = %q, want %q", got.Carried, store.CarriedDone)
	}
}
