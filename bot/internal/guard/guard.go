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
}

// New returns a Guard that logs to log and counts in vigie_panics_total, which it
// registers with reg (nil registers nothing). Several Guards on one registry
// share the counter: the daemon and the platform packages each make their own.
func New(log *slog.Logger, reg prometheus.Registerer) *Guard {
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
	return &Guard{log: log, panics: panics, first: First}
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
// time does not spin.
func (g *Guard) Loop(ctx context.Context, where string, f func(ctx context.Context)) {
	first := First
	if g != nil {
		first = g.first
	}
	pause := first
	for {
		started := time.Now()
		if g.Do(where, func() { f(ctx) }) || ctx.Err() != nil {
			return
		}
		if time.Since(started) >= healthyTime {
			pause = first
		}
		if g != nil {
			g.log.Warn("restarting after a panic", "where", where, "in", pause.String())
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		pause = min(2*pause, Max)
	}
}
