// Package deskwork runs a desk's work (button presses, commands) off the
// platform's receiving loop, a few at a time, and lets Run wait for it.
package deskwork

import (
	"context"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/guard"
)

// Pool runs desk work in the background; make one with New.
type Pool struct {
	wg      sync.WaitGroup
	slot    chan struct{}
	timeout time.Duration
	guard   *guard.Guard
	where   string
}

// New returns a pool that runs up to max pieces of work at once, each for up
// to timeout. A piece of work that panics is recovered and reported to g as
// where ("discord desk"); the pool goes on taking work.
func New(max int, timeout time.Duration, g *guard.Guard, where string) *Pool {
	return &Pool{slot: make(chan struct{}, max), timeout: timeout, guard: g, where: where}
}

// Go runs fn in the background once a slot is free, unless ctx ends first: it
// reports whether fn was taken. The work outlives a shutdown by up to the
// pool's timeout: a CM's click, once taken, is carried out.
func (p *Pool) Go(ctx context.Context, fn func(context.Context)) bool {
	return p.GoTelling(ctx, fn, nil)
}

// GoTelling is Go, and if fn panics, broke runs before the panic is
// reported (with fn's context), so that whoever asked for the work is not
// left believing it was done.
func (p *Pool) GoTelling(ctx context.Context, fn, broke func(context.Context)) bool {
	select {
	case p.slot <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer func() { <-p.slot }()
		defer p.guard.Recover(p.where)
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
		defer cancel()
		if broke == nil {
			fn(ctx)
			return
		}
		finished := false
		defer func() {
			if !finished {
				broke(ctx)
			}
		}()
		fn(ctx)
		finished = true
	}()
	return true
}

// Busy is how many pieces of work hold a slot now.
func (p *Pool) Busy() int { return len(p.slot) }

// Add counts other work under way, which Wait waits for too; Done ends it.
func (p *Pool) Add() { p.wg.Add(1) }

// Done ends work counted by Add.
func (p *Pool) Done() { p.wg.Done() }

// Wait returns once all the work under way is done.
func (p *Pool) Wait() { p.wg.Wait() }
