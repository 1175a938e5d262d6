// Package stepclock is a clock for tests that a test moves by steps: the Now
// and AfterFunc that the handlers', the daemon's and the platforms' options
// take, where no time passes but the steps.
package stepclock

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Clock is a clock moved by Step: a timer set with AfterFunc fires, in a
// goroutine of its own as time.AfterFunc's do, when a step reaches its time.
type Clock struct {
	mu      sync.Mutex
	now     time.Time
	timers  []*timer
	callers bool
}

type timer struct {
	at   time.Time
	wait time.Duration
	f    func()
	done bool
	// by are the names of the functions that set it, innermost first,
	// kept with RecordCallers.
	by []string
}

// Option changes what a Clock keeps.
type Option func(*Clock)

// RecordCallers makes the clock keep the functions that set each timer, for
// Armed: where several loops wait as long on one clock, a test that steps it
// past one loop's time waits for that loop to have looked.
func RecordCallers() Option { return func(c *Clock) { c.callers = true } }

// New returns a clock that reads now until it is stepped.
func New(now time.Time, opts ...Option) *Clock {
	c := &Clock{now: now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// AfterFunc calls f once the clock was stepped d on, and returns a stop
// function that reports whether it stopped the timer.
func (c *Clock) AfterFunc(d time.Duration, f func()) func() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	tm := &timer{at: c.now.Add(d), wait: d, f: f}
	if c.callers {
		pcs := make([]uintptr, 16)
		frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
		for {
			fr, more := frames.Next()
			tm.by = append(tm.by, fr.Function)
			if !more {
				break
			}
		}
	}
	c.timers = append(c.timers, tm)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		was := tm.done
		tm.done = true
		return !was
	}
}

// Step moves the clock on by d and fires the timers due by then.
func (c *Clock) Step(d time.Duration) {
	c.mu.Lock()
	due := c.moveTo(c.now.Add(d))
	c.mu.Unlock()
	fire(due)
}

// Set moves the clock to at and fires the timers due by then.
func (c *Clock) Set(at time.Time) {
	c.mu.Lock()
	due := c.moveTo(at)
	c.mu.Unlock()
	fire(due)
}

// moveTo, called with c.mu held, moves the clock to at and returns the
// functions of the timers due by then, which it marks fired.
func (c *Clock) moveTo(at time.Time) []func() {
	c.now = at
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
	return due
}

// fire calls each of due in a goroutine of its own, as time.AfterFunc does.
func fire(due []func()) {
	for _, f := range due {
		go f()
	}
}

// Pending is how many timers are set and have not fired nor been stopped.
func (c *Clock) Pending() int { return len(c.Waits()) }

// Waits are the waits of the timers set that have neither fired nor been
// stopped.
func (c *Clock) Waits() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Duration
	for _, tm := range c.timers {
		if !tm.done {
			out = append(out, tm.wait)
		}
	}
	return out
}

// Armed reports whether a timer of wait, set by the function named fn (as
// runtime names it, in part: "(*daemon).runResume"), is set and has not
// fired. It needs a clock made with RecordCallers.
func (c *Clock) Armed(wait time.Duration, fn string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.callers {
		panic("stepclock: Armed on a clock made without RecordCallers")
	}
	return slices.ContainsFunc(c.timers, func(tm *timer) bool {
		return !tm.done && tm.wait == wait && slices.ContainsFunc(tm.by, func(name string) bool { return strings.Contains(name, fn) })
	})
}
