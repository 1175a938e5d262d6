package handlers_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// stepClock is the moderator's clock (Options.Now and Options.AfterFunc),
// moved by the test: a timer fires, in a goroutine of its own as
// time.AfterFunc's do, when a step reaches its time.
type stepClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*stepTimer
}

type stepTimer struct {
	at   time.Time
	f    func()
	done bool
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &stepTimer{at: c.now.Add(d), f: f}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := tm.done
		tm.done = true
		return !was
	}
}

// step moves the clock on by d and fires the timers due by then.
func (c *stepClock) step(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []func()
	keep := c.timers[:0]
	for _, tm := range c.timers {
		switch {
		case tm.done:
		case tm.at.After(c.now):
			keep = append(keep, tm)
		default:
			tm.done = true
			due = append(due, tm.f)
		}
	}
	c.timers = keep
	c.mu.Unlock()
	for _, f := range due {
		go f()
	}
}

// pending is how many timers are set and have not fired.
func (c *stepClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, tm := range c.timers {
		if !tm.done {
			n++
		}
	}
	return n
}

// TestQueuedCardOnTheClock: a card the desk could not take stays queued,
// and DeliverCases posts it on its next round, which comes when the
// moderator's clock (Options.Now, Options.AfterFunc) says: in the bubble no
// time passes but the steps of the clock, and the card waits until the
// clock moved 10s, not less. DeliverCases stops its timer when ctx ends.
func TestQueuedCardOnTheClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		clk := &stepClock{now: at}
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
		clk.step(9 * time.Second)
		synctest.Wait()
		if got := posted(); len(got) != 0 {
			t.Fatalf("posted %q 9s after the desk failed, want nothing before the next round", got)
		}
		clk.step(time.Second)
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
		if n := clk.pending(); n != 0 {
			t.Errorf("%d timers still set after DeliverCases returned", n)
		}
	})
}
