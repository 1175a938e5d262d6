package daemon

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// The crisis alerts follow every event judged (alert.Alerter.Observe): the
// wave tracker's bookkeeping, about a tenth of vigie's CPU under load, and,
// when a wave rises, the store's claim and a page to the desk, a network call.
// They ran on the goroutine that judged the event, before its HTTP caller got
// its verdict. The observer runs them on a goroutine of its own, in the order
// the events were judged.

// observerQueue is how many judged events may wait to be observed; past it,
// judging waits.
const observerQueue = 1024

type observation struct {
	ev bot.Event
	as rules.Assessment
	// done, when set, marks a barrier: it is closed once everything queued
	// before it has been observed.
	done chan struct{}
}

// observer hands judged events to observe, in order, from one goroutine.
// Where observing calls out to nothing over the network, a judging goroutine
// that finds nothing queued observes its event itself (add's inline): handing
// it over woke the observer's goroutine, and an idle P's thread with it, for
// each event of an open loop.
type observer struct {
	observe func(bot.Event, rules.Assessment)

	// mu is held to send, and to close q: a send never meets a closed q.
	mu     sync.RWMutex
	closed bool
	q      chan observation
	done   chan struct{}
	// turn is held by whoever observes: run, or an inline caller. queued
	// counts what was sent on q and is not yet observed; an inline caller
	// observes only when it is zero, so that the order is kept.
	turn   sync.Mutex
	queued atomic.Int64
}

// startObserver runs observe, which recovers its own panics, until stop.
func startObserver(observe func(bot.Event, rules.Assessment)) *observer {
	o := &observer{observe: observe, q: make(chan observation, observerQueue), done: make(chan struct{})}
	go o.run()
	return o
}

func (o *observer) run() {
	defer close(o.done)
	for x := range o.q {
		o.turn.Lock()
		if x.done != nil {
			// The turn given back before the barrier opens: once sync
			// returns, with nothing queued behind it, the next inline
			// add observes at once rather than queue behind a turn
			// still held.
			o.queued.Add(-1)
			o.turn.Unlock()
			close(x.done)
			continue
		}
		o.observe(x.ev, x.as)
		o.queued.Add(-1)
		o.turn.Unlock()
	}
}

// add queues an observation, or, with inline, observes on the caller's
// goroutine when nothing is queued or being observed; once the observer is
// stopped it observes on the caller's goroutine, after what was queued.
func (o *observer) add(ev bot.Event, as rules.Assessment, inline bool) {
	o.mu.RLock()
	if !o.closed {
		if inline && o.turn.TryLock() {
			if o.queued.Load() == 0 {
				o.mu.RUnlock()
				o.observe(ev, as)
				o.turn.Unlock()
				return
			}
			o.turn.Unlock()
		}
		o.queued.Add(1)
		o.q <- observation{ev: ev, as: as}
		o.mu.RUnlock()
		return
	}
	o.mu.RUnlock()
	<-o.done
	o.observe(ev, as)
}

// crowded says that the events waiting to be observed fill half the queue:
// past it, whatever holds the observer up is soon holding up the judging.
func (o *observer) crowded() bool { return len(o.q) >= cap(o.q)/2 }

// sync waits, until ctx ends, for the events judged so far to be observed: a
// report counts the waves of every event answered before it was asked.
func (o *observer) sync(ctx context.Context) {
	barrier := make(chan struct{})
	o.mu.RLock()
	if o.closed {
		o.mu.RUnlock()
		barrier = o.done
	} else {
		o.queued.Add(1)
		o.q <- observation{done: barrier}
		o.mu.RUnlock()
	}
	select {
	case <-barrier:
	case <-ctx.Done():
	}
}

// stop observes what is queued and stops, or gives up waiting when ctx ends
// (the observer then finishes on its own). It reports whether it finished.
func (o *observer) stop(ctx context.Context) bool {
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.q)
	}
	o.mu.Unlock()
	select {
	case <-o.done:
		return true
	case <-ctx.Done():
		return false
	}
}
