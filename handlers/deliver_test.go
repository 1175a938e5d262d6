package handlers_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestQueuedCardOnTheClock: a card the desk could not take stays queued,
// and DeliverCases posts it on its next round, which comes when the
// moderator's clock (Options.Now, Options.AfterFunc) says: in the bubble no
// time passes but the steps of the clock, and the card waits until the
// clock moved 10s, not less. DeliverCases stops its timer when ctx ends.
func TestQueuedCardOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := stepclock.New(at)
		st := memory.New(memory.WithCaseEpoch("tests"))
		defer st.Close()
		desk := &deskRecorder{err: &bot.ActionError{Op: bot.ActForward, Retryable: true, Err: errors.New("bad gateway")}}
		m, err := handlers.New(handlers.Options{Store: st, Desk: desk, Registerer: prometheus.NewRegistry(),
			Now: clk.Now, AfterFunc: clk.AfterFunc, Retry: handlers.Retry{Attempts: 1}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- m.DeliverCases(ctx) }()
		// Its first round (nothing to post) ends before the case is opened:
		// the case's card is then tried once, on the case's opening.
		synctest.Wait()
		v := verdict("discord", bot.Match{Rule: "insult", Actions: []bot.Action{{Kind: bot.ActForward, Text: "insult"}}})
		if err := m.Handle(context.Background(), event("discord"), v); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		desk.mu.Lock()
		tried := len(desk.cases)
		desk.err, desk.cases = nil, nil
		desk.mu.Unlock()
		if tried != 1 {
			t.Fatalf("desk tried %d cards, want the case's once", tried)
		}
		posted := func() []string {
			desk.mu.Lock()
			defer desk.mu.Unlock()
			return slices.Clone(desk.cases)
		}
		clk.Step(9 * time.Second)
		synctest.Wait()
		if got := posted(); len(got) != 0 {
			t.Fatalf("posted %q 9s after the desk failed, want nothing before the next round", got)
		}
		clk.Step(time.Second)
		synctest.Wait()
		if got, want := posted(), []string{"c-tests-000001 insult"}; !slices.Equal(got, want) {
			t.Errorf("posted %q after 10s on the clock, want %q", got, want)
		}
		if pending, _ := st.PendingCases(ctx); len(pending) != 0 {
			t.Errorf("%d cases still pending after the desk took them", len(pending))
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("DeliverCases = %v", err)
		}
		if n := clk.Pending(); n != 0 {
			t.Errorf("%d timers still set after DeliverCases returned", n)
		}
	})
}
