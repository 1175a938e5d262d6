// Package stepclock is a clock for tests that a test moves by steps: the Now
// and AfterFunc that the handlers', the daemon's and the platforms' options
// take, where no time passes but the steps.
package stepclock

import (
	"sync"
	"time"
)

// Clock is a clock moved by Step: a timer set with AfterFunc fires, in a
// goroutine of its own as time.AfterFunc's do, when a step reaches its time.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
}

type timer struct {
	at   time.Time
	f    func()
	done bool
}

// New returns a clock that reads now until it is stepped.
func New(now time.Time) *Clock { return &Clock{now: now} }

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
	tm := &timer{at: c.now.Add(d), f: f}
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

// Pending is how many timers are set and have not fired nor been stopped.
func (c *Clock) Pending() int {
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
