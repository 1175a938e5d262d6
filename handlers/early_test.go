package handlers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// panicking is a platform like Discord whose client panics on a delete (a
// bug in it): the daemon's lane recovers the panic, and the journal keeps
// the verdict for another try.
type panicking struct{ chat }

func (p *panicking) Delete(context.Context, bot.Event) error { panic("a bug in the platform's client") }

// heldTimers are the timers of a clock that stands still: they fire when
// the test says.
type heldTimers struct {
	mu sync.Mutex
	fs []func()
	// stopped[i] says timer i was stopped.
	stopped []bool
}

func (h *heldTimers) AfterFunc(_ time.Duration, f func()) func() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	i := len(h.fs)
	h.fs = append(h.fs, f)
	h.stopped = append(h.stopped, false)
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		was := h.stopped[i]
		h.stopped[i] = true
		return !was
	}
}

// fire runs the timers not stopped, as their time passing would.
func (h *heldTimers) fire() {
	h.mu.Lock()
	var due []func()
	for i, f := range h.fs {
		if !h.stopped[i] {
			h.stopped[i] = true
			due = append(due, f)
		}
	}
	h.mu.Unlock()
	for _, f := range due {
		f()
	}
}

// TestPanicLeavesNoCaseBeingTried: a forwarded message whose delete panics
// in the platform's client, within the second its case waits for. The
// verdict is left to the journal, which carries it out again, and that
// opens its case; the wait of the carrying out cut short opens none: it
// would say the delete is being tried, for good, and nothing would amend it
// (the journal entry was let go without its id), a second case for the
// message once the verdict is carried out again.
func TestPanicLeavesNoCaseBeingTried(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			timers := &heldTimers{}
			p := &panicking{chat{recorder: recorder{name: "discord"}}}
			var told []string
			m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: st,
				Now: (&clock{t: at}).Now, AfterFunc: timers.AfterFunc, Retry: handlers.Retry{Attempts: 1},
				EarlyOpened: func(_ context.Context, _ bot.Event, id string) { told = append(told, id) }})
			if err != nil {
				t.Fatal(err)
			}
			ev := event("discord")
			ev.ID = "m-panic-" + name
			v := verdict("discord", bot.Match{Rule: "scam", Category: "spam",
				Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActForward, Text: "scam"}}})
			v.EventID = ev.ID
			panicked := func() (r any) {
				defer func() { r = recover() }()
				_ = m.Handle(ctx, ev, v)
				return nil
			}()
			if panicked == nil {
				t.Fatal("the delete did not panic")
			}
			timers.fire() // the second passes
			open, err := st.Cases(ctx, store.CaseOpen)
			if err != nil {
				t.Fatal(err)
			}
			if len(open) != 0 || len(told) != 0 {
				t.Errorf("after the panic: open cases %+v, told %v; want none: the verdict is carried out again from the journal", open, told)
			}
		})
	}
}
