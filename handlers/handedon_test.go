package handlers_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

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
	c := decidedByTheKilled(t, st)
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
	carriedOutOnce(t, st, c.ID, discord.Calls())
}

// decidedByTheKilled is a case decided ban(1d) by telegram:1 in a process
// killed before it carried the decision out.
func decidedByTheKilled(t *testing.T, st store.Store) store.Case {
	t.Helper()
	ctx := context.Background()
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideCase(ctx, c.ID, "ban(1d)", "telegram:1", "", c.Opened); err != nil {
		t.Fatal(err)
	}
	return c
}

// carriedOutOnce checks that case id's ban(1d) was carried out, once: the
// platform's calls are calls.
func carriedOutOnce(t *testing.T, st store.Store, id string, calls []string) {
	t.Helper()
	if want := []string{"ban(1d)"}; !slices.Equal(calls, want) {
		t.Fatalf("calls = %q, want %q (carried out once)", calls, want)
	}
	got, err := st.Case(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Carried != store.CarriedDone {
		t.Errorf("case carried = %q, want %q", got.Carried, store.CarriedDone)
	}
}

// heldBans is a chat whose bans wait, once entered (told on entered, room
// for two), until release is closed.
type heldBans struct {
	chat
	entered chan struct{}
	release chan struct{}
}

func (h *heldBans) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	h.entered <- struct{}{}
	<-h.release
	return h.chat.Ban(ctx, ev, d)
}

// The same press handed on twice at once (twice in one batch, or a hand-on
// racing the press still carried out here) carries the decision out once:
// the second finds it under way in this process and leaves it to the
// first. Before, each found the case not yet carried out, and both banned.
func TestDecisionHandedOnTwiceAtOnceIsCarriedOutOnce(t *testing.T) {
	ctx := context.Background()
	discord := &heldBans{chat: chat{recorder: recorder{name: "discord"}}, entered: make(chan struct{}, 2), release: make(chan struct{})}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, _ := newModerator(t, st, nil, discord)
	c := decidedByTheKilled(t, st)
	handed := bot.WithHandedOn(ctx)
	errs := make(chan error, 2)
	decide := func() {
		_, err := m.Decide(handed, c.ID, "ban(1d)", "telegram:1")
		errs <- err
	}
	go decide()
	select {
	case <-discord.entered:
	case <-time.After(time.Minute):
		t.Fatal("the first hand-on never banned")
	}
	// the second, while the first's ban is under way
	go decide()
	select {
	case err := <-errs:
		if err != nil {
			t.Errorf("the second hand-on: %v", err)
		}
	case <-discord.entered:
		t.Error("the second hand-on banned too")
	case <-time.After(time.Minute):
		t.Fatal("the second hand-on never answered")
	}
	close(discord.release)
	if err := <-errs; err != nil && !errors.Is(err, bot.ErrStillTrying) {
		t.Errorf("a hand-on: %v", err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := m.WaitDecisions(wctx); err != nil {
		t.Error(err)
	}
	carriedOutOnce(t, st, c.ID, discord.Calls())
}

// A press handed on after its decision was carried out (the process killed
// before the press left the inbox) shows the decision on the case's cards
// again, as the press first did: a timed ban's card still says when it
// ends. Before, the card was edited again without it.
func TestDecisionHandedOnAfterItsEndKeepsTheCardsNote(t *testing.T) {
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	desk := &cardDesk{}
	m, _ := newModerator(t, st, desk, discord)
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddCard(ctx, c.ID, bot.CardRef{Platform: "telegram", Chat: "-100", Message: "7"}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, c.ID, "ban(1d)", "telegram:1"); err != nil {
		t.Fatal(err)
	}
	first := desk.edited()
	if len(first) != 1 {
		t.Fatalf("edits after the press = %q, want one", first)
	}
	if _, err := m.Decide(bot.WithHandedOn(ctx), c.ID, "ban(1d)", "telegram:1"); err != nil {
		t.Fatalf("the press handed on: %v", err)
	}
	edits := desk.edited()
	if len(edits) != 2 || edits[1] != edits[0] {
		t.Errorf("edits = %q, want the press's edit twice", edits)
	}
	if want := []string{"ban(1d)"}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q (carried out once)", discord.Calls(), want)
	}
}
