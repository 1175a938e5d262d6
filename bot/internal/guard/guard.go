// Package guard keeps a panic in one of vigie's long-lived goroutines (a desk
// loop, a timer, a platform's receiving loop) from ending the whole process: the
// panic is logged with its stack, counted in vigie_panics_total{where}, and the
// part that panicked is started again after a pause.
package guard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Restart pauses: the first after a panic, the longest, and how long a restarted
// part must run without panicking for the next pause to start over from First.
const (
	First       = time.Second
	Max         = time.Minute
	healthyTime = time.Minute
)

// Guard recovers panics; make one with New. A nil *Guard still recovers, but
// logs and counts nothing.
type Guard struct {
	log    *slog.Logger
	panics *prometheus.CounterVec
	first  time.Duration
	now    func() time.Time
	after  func(time.Duration, func()) func() bool
}

// Option changes a Guard.
type Option func(*Guard)

// WithClock times Loop's pauses, and how long a restarted part ran, on now
// and its timers (after, as time.AfterFunc's), not on the wall clock: the
// daemon's clock, which a test steps.
func WithClock(now func() time.Time, after func(time.Duration, func()) func() bool) Option {
	return func(g *Guard) { g.now, g.after = now, after }
}

// New returns a Guard that logs to log and counts in vigie_panics_total, which it
// registers with reg (nil registers nothing). Several Guards on one registry
// share the counter: the daemon and the platform packages each make their own.
func New(log *slog.Logger, reg prometheus.Registerer, opts ...Option) *Guard {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	panics := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_panics_total",
		Help: "Panics recovered in vigie's goroutines, by where they happened; the part that panicked was restarted.",
	}, []string{"where"})
	if reg != nil {
		if err := reg.Register(panics); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				if existing, ok := already.ExistingCollector.(*prometheus.CounterVec); ok {
					panics = existing
				}
			} else {
				log.Warn("vigie_panics_total not registered", "err", err)
			}
		}
	}
	g := &Guard{log: log, panics: panics, first: First, now: time.Now, after: wallAfter}
	for _, o := range opts {
		o(g)
	}
	return g
}

// Counter is vigie_panics_total, for a part that recovers on its own and counts
// with Report.
func (g *Guard) Counter() *prometheus.CounterVec {
	if g == nil {
		return nil
	}
	return g.panics
}

// Recover, deferred at the top of a goroutine, ends a panic there and reports
// it: `defer g.Recover("discord desk")`. The goroutine then returns as if its
// function had.
func (g *Guard) Recover(where string) {
	if v := recover(); v != nil {
		g.Report(where, v, debug.Stack())
	}
}

// Report logs a recovered panic with its stack and counts it.
func (g *Guard) Report(where string, v any, stack []byte) {
	if g == nil {
		return
	}
	g.panics.WithLabelValues(where).Inc()
	g.log.Error("panic recovered", "where", where, "panic", fmt.Sprint(v), "stack", string(stack))
}

// Do runs f and reports whether it returned; a panic in f is recovered, logged
// and counted, and Do returns false.
func (g *Guard) Do(where string, f func()) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			g.Report(where, v, debug.Stack())
			ok = false
		}
	}()
	f()
	return true
}

// Loop runs f until it returns or ctx ends. When f panics, it is started again
// after a pause that doubles from First up to Max, and starts over from First
// once f has run a minute without panicking: a part that panics at once every
// time does not spin. Both are timed on the Guard's clock (WithClock).
func (g *Guard) Loop(ctx context.Context, where string, f func(ctx context.Context)) {
	first, now, after := First, time.Now, wallAfter
	if g != nil {
		first, now, after = g.first, g.now, g.after
	}
	pause := first
	for {
		started := now()
		if g.Do(where, func() { f(ctx) }) || ctx.Err() != nil {
			return
		}
		if now().Sub(started) >= healthyTime {
			pause = first
		}
		if g != nil {
			g.log.Warn("restarting after a panic", "where", where, "in", pause.String())
		}
		again := make(chan struct{})
		stop := after(pause, func() { close(again) })
		select {
		case <-ctx.Done():
			stop()
			return
		case <-again:
		}
		pause = min(2*pause, Max)
	}
}

// wallAfter is time.AfterFunc: without a clock given (WithClock), the wall
// clock's timers.
func wallAfter(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
