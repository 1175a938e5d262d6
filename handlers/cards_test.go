package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// cardDesk is a desk that records the cards it was asked to edit, and fails
// the edits of the cards named in fail with their error, once each.
type cardDesk struct {
	deskRecorder
	mu    sync.Mutex
	edits []string
	fail  map[string]error
}

var _ handlers.CardEditor = (*cardDesk)(nil)

func (d *cardDesk) EditCard(_ context.Context, ref bot.CardRef, c store.Case, note string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.edits = append(d.edits, fmt.Sprintf("%s/%s/%s %s %s by %s %s", ref.Platform, ref.Chat, ref.Message, c.ID, c.Outcome, c.DecidedBy, note))
	if err := d.fail[ref.Message]; err != nil {
		delete(d.fail, ref.Message)
		return err
	}
	return nil
}

func (d *cardDesk) edited() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.edits)
}

func TestDecisionShownOnEveryCard(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	desk := &cardDesk{fail: map[string]error{
		"gone": &bot.ActionError{Op: "edit", Err: errors.New("message to edit not found")},
		"busy": &bot.ActionError{Op: "edit", Retryable: true, Err: errors.New("429")},
	}}
	now := at
	reg := prometheus.NewRegistry()
	m, err := handlers.New(handlers.Options{Store: st, Desk: desk, Registerer: reg,
		Now: func() time.Time { return now }, Retry: handlers.Retry{Base: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	open := func(id string) store.Case {
		ev := event("discord")
		ev.ID, ev.Author.ID, ev.Channel = id, "u-"+id, "c-"+id
		c, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r"})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}

	t.Run("every card, the refused one logged, the busy one retried", func(t *testing.T) {
		c := open("m-1")
		for _, ref := range []bot.CardRef{{Platform: "telegram", Chat: "-100", Message: "busy"},
			{Platform: "discord", Chat: "desk", Message: "gone"}, {Platform: "telegram", Chat: "-100", Message: "7"}} {
			if err := m.AddCard(ctx, c.ID, ref); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := m.Decide(ctx, c.ID, "keep", "http:ann"); err != nil {
			t.Fatal(err)
		}
		want := []string{
			"discord/desk/gone " + c.ID + " keep by http:ann ",
			"telegram/-100/7 " + c.ID + " keep by http:ann ",
			"telegram/-100/busy " + c.ID + " keep by http:ann ",
			"telegram/-100/busy " + c.ID + " keep by http:ann ",
		}
		if got := desk.edited(); !slices.Equal(got, want) {
			t.Errorf("edits:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := cardEdits(t, reg)["telegram/done"]; got != 2 {
			t.Errorf("telegram cards edited: %v, want 2", got)
		}
		if got := cardEdits(t, reg)["discord/failed"]; got != 1 {
			t.Errorf("discord cards left: %v, want 1", got)
		}
	})

	t.Run("a card recorded after the decision", func(t *testing.T) {
		c := open("m-2")
		if _, err := m.Decide(ctx, c.ID, "keep", "http:ann"); err != nil {
			t.Fatal(err)
		}
		before := len(desk.edited())
		if err := m.AddCard(ctx, c.ID, bot.CardRef{Platform: "telegram", Chat: "-100", Message: "8"}); err != nil {
			t.Fatal(err)
		}
		if got := desk.edited()[before:]; !slices.Equal(got, []string{"telegram/-100/8 " + c.ID + " keep by http:ann "}) {
			t.Errorf("edits of a card posted while the case was decided: %q", got)
		}
	})

	t.Run("expired", func(t *testing.T) {
		c := open("m-3")
		if err := m.AddCard(ctx, c.ID, bot.CardRef{Platform: "telegram", Chat: "-100", Message: "9"}); err != nil {
			t.Fatal(err)
		}
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{TTL: time.Hour, Registerer: prometheus.NewRegistry()})
		if err != nil {
			t.Fatal(err)
		}
		before := len(desk.edited())
		now = at.Add(2 * time.Hour)
		if _, err := esc.Check(ctx); err != nil {
			t.Fatal(err)
		}
		if got := desk.edited()[before:]; !slices.Contains(got, "telegram/-100/9 "+c.ID+" expired by vigie ") {
			t.Errorf("edits after the expiry: %q", got)
		}
	})
}

// A moderator's command that settles a case (a /ban by the member's case)
// shows the decision on the case's cards, as a desk button would.
func TestCommandShowsOnTheCards(t *testing.T) {
	ctx := context.Background()
	st := memory.New()
	desk := &cardDesk{}
	p := &chat{recorder: recorder{name: "discord"}}
	m, _ := newModerator(t, st, desk, p)
	ev := event("discord")
	c, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "insult", Reason: "insult", Opened: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.AddCard(ctx, c.ID, bot.CardRef{Platform: "telegram", Chat: "-100", Message: "12"}); err != nil {
		t.Fatal(err)
	}
	member := bot.Event{Platform: "discord", Space: ev.Space, Author: ev.Author}
	if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: member, Text: "raid", By: "discord:42"}); err != nil {
		t.Fatal(err)
	}
	if got := desk.edited(); !slices.Equal(got, []string{"telegram/-100/12 " + c.ID + " ban by discord:42 "}) {
		t.Errorf("card edits after /ban: %q", got)
	}
}

// cardEdits reads vigie_card_edits_total as "desk/result" → value.
func cardEdits(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "vigie_card_edits_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			out[labels["desk"]+"/"+labels["result"]] = m.GetCounter().GetValue()
		}
	}
	return out
}
