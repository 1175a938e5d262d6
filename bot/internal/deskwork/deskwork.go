// Package deskwork runs a desk's work (button presses, commands, new
// members' verifications) off the platform's receiving loop, a few at a
// time, with a bounded line of work waiting for them, and lets Run wait for
// it.
package deskwork

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
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
	p.run(ctx, fn, broke)
	return true
}

// run runs fn, which holds a slot, in a goroutine of its own for up to the
// pool's timeout, then gives the slot back; broke (if not nil) runs if fn
// panics.
func (p *Pool) run(ctx context.Context, fn, broke func(context.Context)) {
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
}

// TryGo runs fn in the background if a slot is free now, and reports
// whether it did: it never waits. For work that is worth doing at once or
// not at all, such as answering a press that has no work behind it.
func (p *Pool) TryGo(ctx context.Context, fn func(context.Context)) bool {
	select {
	case p.slot <- struct{}{}:
	default:
		return false
	}
	p.run(ctx, fn, nil)
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

// Line is where work waits for a pool's workers, apart from whoever hands
// it in (a platform's receiving loop, which must never wait for a worker),
// with a bound: a flood of work (a raid's joins, a stranger's presses)
// cannot grow the goroutines waiting without limit. Make one with
// Pool.Line.
type Line struct {
	pool   *Pool
	places chan struct{}
}

// Line returns a line of up to max pieces of work waiting for p's workers.
func (p *Pool) Line(max int) *Line {
	return &Line{pool: p, places: make(chan struct{}, max)}
}

// Job is a piece of work handed to a Line. Only Work is required.
type Job struct {
	// First runs as soon as the job has its place, before it waits for a
	// worker: an acknowledgement that must not wait (Discord's three
	// seconds, Telegram's spinning button). It reports whether there is
	// work to wait for; false ends the job there.
	First func() bool
	// Work runs on one of the pool's workers, as with Pool.Go.
	Work func(context.Context)
	// Broke runs if Work panics (Pool.GoTelling).
	Broke func(context.Context)
	// Dropped runs when the context ended before a worker was free: Work
	// was not done, and whoever asked should hear so.
	Dropped func()
}

// Go takes a place in the line for j without waiting, and reports false
// when every place is taken: then nothing of j runs, and the caller says
// "too busy". Once placed, j runs in a goroutine of its own (counted by the
// pool's Wait, its panics recovered): First, then Work once a worker is
// free, unless ctx ends first (Dropped). The place is given back as Work
// starts on its worker, or once the job ends without one.
func (l *Line) Go(ctx context.Context, j Job) bool {
	select {
	case l.places <- struct{}{}:
	default:
		return false
	}
	p := l.pool
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		var once sync.Once
		free := func() { once.Do(func() { <-l.places }) }
		defer free()
		defer p.guard.Recover(p.where)
		if j.First != nil && !j.First() {
			return
		}
		work := func(ctx context.Context) {
			free()
			j.Work(ctx)
		}
		if !p.GoTelling(ctx, work, j.Broke) && j.Dropped != nil {
			j.Dropped()
		}
	}()
	return true
}

// Waiting is how many pieces of work hold a place in the line now.
func (l *Line) Waiting() int { return len(l.places) }

// Overflow counts the work a full line turned away during one wave, by
// place (a chat, a server), so that whoever watches is told once as the wave
// begins and once, with the counts, when it is over, rather than once per
// piece of work. The zero Overflow is ready.
type Overflow struct {
	mu sync.Mutex
	by map[string]int
	n  int
}

// Add counts one piece of work turned away in place. It returns how many
// the wave has turned away, this one included: 1 begins a wave.
func (o *Overflow) Add(place string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.by == nil {
		o.by = map[string]int{}
	}
	o.by[place]++
	o.n++
	return o.n
}

// End ends the wave and says what it turned away: in each place, most first,
// each named noun + " " + place ("chat 42: 12, chat 7: 3"), and in all; ""
// and 0 when nothing was.
func (o *Overflow) End(noun string) (places string, n int) {
	o.mu.Lock()
	by, n := o.by, o.n
	o.by, o.n = nil, 0
	o.mu.Unlock()
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(by[b], by[a]), cmp.Compare(a, b)) })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %s: %d", noun, k, by[k])
	}
	return strings.Join(parts, ", "), n
}

// Unasked is the wave of new members a full line of verifications lets in
// without asking them (a join raid), for a platform: counted by place, the
// desk told once as the wave begins and once, with the counts, when the
// line has drained, and the wave's end logged for the audit. Make one with
// NewUnasked.
type Unasked struct {
	Overflow
	line *Line
	noun string
	key  string
	log  *slog.Logger
	tell func(ctx context.Context, text string)
}

// NewUnasked follows the wave of the verifications waiting in line. noun
// names a place in the desk's texts ("server", "chat"), key the places in
// the log ("guilds", "chats"); tell tells the desk, with a context that
// outlives the caller's, as Begins and Over get it.
func NewUnasked(line *Line, noun, key string, log *slog.Logger, tell func(ctx context.Context, text string)) *Unasked {
	return &Unasked{line: line, noun: noun, key: key, log: log, tell: tell}
}

// Begins tells the desk that a wave begins in place (a CM may want a
// lockdown), in the background: the caller does not wait for the desk.
// The telling is counted by the pool's Wait and its panics recovered.
func (u *Unasked) Begins(ctx context.Context, place string) {
	p := u.line.pool
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer p.guard.Recover(p.where)
		u.tell(ctx, bot.VerifyWaveBegins(cap(u.line.places), u.noun+" "+place))
	}()
}

// Over tells the desk how many members were let in unasked, once the line
// of those to ask (and of their presses) has drained: each piece of its
// work calls it when done.
func (u *Unasked) Over(ctx context.Context) {
	if u.line.Waiting() > 0 {
		return
	}
	places, n := u.End(u.noun)
	if n == 0 {
		return
	}
	u.log.Warn("verify: the wave is over", "audit", true, "not_asked", n, u.key, places)
	u.tell(ctx, bot.VerifyWaveOver(n, places))
}

// AtStop logs a wave still going on when vigie stops.
func (u *Unasked) AtStop() {
	if places, n := u.End(u.noun); n > 0 {
		u.log.Warn("verify: vigie stopped during a wave", "audit", true, "not_asked", n, u.key, places)
	}
}
