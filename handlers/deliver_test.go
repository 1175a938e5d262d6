package handlers_test

import (
	"context"
	"errors"
	"log/slog"
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
		desk := &deskRecorder{err: &bot.ActionError{Op: bot.ActForward, Retryable: true, Err: errors.New("bad gateway")}}
		o := newOnClock(t, desk)
		clk, st, m := o.clk, o.st, o.m
		// Its first round (nothing to post) ends before the case is opened:
		// the case's card is then tried once, on the case's opening.
		ctx, stop := o.deliver(t)
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
		stop()
		if n := clk.Pending(); n != 0 {
			t.Errorf("%d timers still set after DeliverCases returned", n)
		}
	})
}

// onClock is a Moderator over a memory store, on a step clock set at
// `at`, trying each call to the desk once and logging to logs: what the
// tests of its rounds on the clock share. Made inside a synctest bubble.
type onClock struct {
	clk  *stepclock.Clock
	st   *memory.Store
	m    *handlers.Moderator
	logs *logLines
}

func newOnClock(t *testing.T, desk handlers.Desk) *onClock {
	t.Helper()
	o := &onClock{clk: stepclock.New(at), st: memory.New(memory.WithCaseEpoch("tests")), logs: &logLines{}}
	t.Cleanup(func() { o.st.Close() })
	m, err := handlers.New(handlers.Options{Store: o.st, Desk: desk, Registerer: prometheus.NewRegistry(),
		Now: o.clk.Now, AfterFunc: o.clk.AfterFunc, Retry: handlers.Retry{Attempts: 1},
		Logger: slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	o.m = m
	return o
}

// deliver starts the Moderator's DeliverCases and waits for its first
// round; stop ends it and fails the test when it returned an error.
func (o *onClock) deliver(t *testing.T) (ctx context.Context, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.m.DeliverCases(ctx) }()
	synctest.Wait()
	var stopped bool
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("DeliverCases = %v", err)
		}
	}
	t.Cleanup(stop)
	return ctx, stop
}
