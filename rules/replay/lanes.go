package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The evaluation spreads the events over lanes, one goroutine each, by
// platform and space: everything the rules keep between events (counters,
// strikes, alert hits) is kept per space, so a lane that sees all of a space's
// events in file order, on a store of its own, gives each event the verdict a
// single goroutine would. The one state across spaces is the dedupe (an id is
// unique per platform), so it is decided here, in file order, before the
// lanes. The events go out in rounds of consecutive lines; each lane takes its
// share of a round, and the rounds come back to after in file order. With
// more than one lane, the lines are decoded into the rounds themselves
// (decodeAhead), so that an event is written once and read where it lies.

// roundSize is how many lines make a round: one hand-over per event would cost
// more than the tally.
const roundSize = 256

// roundsAhead is how many rounds may be under way beyond the one being
// tallied: enough for a lane to run ahead of a slower one for a while, few
// enough that memory does not grow with the input.
const roundsAhead = 4

// strikeSlack is how long a replay keeps a strike beyond the longest window
// the rules read strikes over: a history a little out of order still finds
// the strikes it would have found live.
const strikeSlack = 24 * time.Hour

// outcome is one line's event and verdict, or its problem.
type outcome struct {
	name string
	ev   bot.Event
	line int
	dup  bool // the event's id was seen already: decided before the lanes
	as   rules.Assessment
	err  error
}

// round is a run of consecutive lines of the history.
type round struct {
	outs    []outcome
	byLane  [][]int32 // for each lane, the indices in outs of its events
	pending atomic.Int32
	done    chan struct{} // closed when every lane is through

	// Decoding ahead (decodeAhead), the round's lines of input name,
	// trimmed, end to end, where each ends and its number in the input;
	// decoded is closed once outs holds their events.
	name    string
	buf     []byte
	ends    []int
	lines   []int
	decoded chan struct{}
	// readErr is the read failure that ended the input after these lines,
	// at line readLine.
	readErr  error
	readLine int
}

// reset empties r for the next lines. Its outcomes are not cleared: the next
// lines write each of theirs whole (add, decode), and what is left beyond
// them is at most a round's events, kept until the round is filled again.
func (r *round) reset() {
	r.outs = r.outs[:0]
	for i := range r.byLane {
		r.byLane[i] = r.byLane[i][:0]
	}
	r.done = make(chan struct{})
	if cap(r.buf) > maxKeptLines {
		r.buf = nil
	}
	r.buf, r.ends, r.lines = r.buf[:0], r.ends[:0], r.lines[:0]
	r.decoded, r.readErr, r.readLine = nil, nil, 0
}

// evaluation takes the lines in file order (add) and hands them to after in
// that order, evaluated.
type evaluation struct {
	ctx   context.Context
	after func(*outcome) error
	seen  *memory.Store // the dedupe, in file order
	ttl   time.Duration // how long ids are remembered, as the engine asks
	lanes []*lane
	cur   *round
	to    []*lane // flush's list of the lanes a round goes to

	// With more than one lane, rounds go to the lanes' goroutines, and to a
	// collector that runs after on them in order.
	ordered   chan *round
	free      chan *round
	stopped   chan struct{} // closed when after failed
	collected chan struct{} // closed when the collector is through
	wg        sync.WaitGroup
	err       error // after's error, read once collected is closed
}

// errStopped stops the reading when after failed.
var errStopped = errors.New("replay stopped")

func newEvaluation(ctx context.Context, rs *rules.Ruleset, newStore func() *memory.Store, lanes int, opts rules.Options, after func(*outcome) error) (*evaluation, error) {
	ttl, err := dedupeTTL(ctx, rs)
	if err != nil {
		return nil, err
	}
	e := &evaluation{ctx: ctx, after: after, seen: newStore(), ttl: ttl}
	for range lanes {
		st := &laneStore{Store: newStore(), ttl: ttl}
		e.lanes = append(e.lanes, &lane{eng: rules.NewEngine(rs, st, opts), st: st})
	}
	if lanes == 1 {
		return e, nil // add evaluates and tallies each round itself
	}
	e.ordered = make(chan *round, roundsAhead)
	// the rounds under way: being read and decoded (decodeAhead: some
	// 3×lanes), waiting for the lanes, and being tallied
	// the rounds under way: being read and decoded (decodeAhead: some
	// 3×lanes), waiting for the lanes, and being tallied
	e.free = make(chan *round, roundsAhead+3*lanes+4)
	e.stopped = make(chan struct{})
	e.collected = make(chan struct{})
	for i, l := range e.lanes {
		l.in = make(chan *round, roundsAhead+1)
		e.wg.Go(func() {
			for r := range l.in {
				l.run(ctx, r, i)
			}
		})
	}
	go e.collect()
	return e, nil
}

// add takes the next line of the history: an event, or the line's problem.
func (e *evaluation) add(name string, ev *bot.Event, line int, err error) error {
	r := e.cur
	if r == nil {
		r = e.newRound()
		e.cur = r
	}
	r.outs = append(r.outs, outcome{name: name, ev: *ev, line: line, err: err})
	e.place(r, len(r.outs)-1)
	if len(r.outs) < roundSize {
		return nil
	}
	return e.flush()
}

// addRound takes the next lines of the history, decoded into r (a round of
// newRound's): r is the evaluation's from then on.
func (e *evaluation) addRound(r *round) error {
	if err := e.flush(); err != nil { // lines given to add before, if any
		return err
	}
	for i := range r.outs {
		e.place(r, i)
	}
	e.cur = r
	return e.flush()
}

// place decides the dedupe of r's line i, in file order, and the lane its
// event goes to.
func (e *evaluation) place(r *round, i int) {
	o := &r.outs[i]
	if o.err != nil {
		return
	}
	// the engine's dedupe, as its store would do it: see laneStore
	res, err := e.seen.Observe(e.ctx, store.Observation{At: o.ev.At, Platform: o.ev.Platform, EventID: o.ev.ID, DedupeTTL: e.ttl})
	if err != nil {
		o.err = fmt.Errorf("evaluate %q: %w", o.ev.ID, err)
		return
	}
	o.dup = res.Duplicate
	l := e.laneOf(&o.ev)
	r.byLane[l] = append(r.byLane[l], int32(i))
}

// laneOf is the lane of the event's platform and space. Which lane a space
// goes to decides nothing (see evaluation), only how the work is shared: a
// hash of a few instructions a byte, FNV-1a mixed at the end so that its low
// bits, the lane, depend on every bit (maphash's cost ten times more).
func (e *evaluation) laneOf(ev *bot.Event) int {
	if len(e.lanes) == 1 {
		return 0
	}
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(ev.Platform); i++ {
		h = (h ^ uint64(ev.Platform[i])) * prime
	}
	h *= prime // the 0 between the two
	for i := 0; i < len(ev.Space); i++ {
		h = (h ^ uint64(ev.Space[i])) * prime
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return int(h % uint64(len(e.lanes)))
}

func (e *evaluation) newRound() *round {
	select {
	case r := <-e.free:
		return r
	default:
	}
	return &round{
		outs:   make([]outcome, 0, roundSize),
		byLane: make([][]int32, len(e.lanes)),
		done:   make(chan struct{}),
	}
}

// flush sends the round under way to the lanes, or, with one lane, evaluates
// and tallies it here.
func (e *evaluation) flush() error {
	r := e.cur
	if r == nil || len(r.outs) == 0 {
		return nil
	}
	if e.ordered == nil {
		e.lanes[0].evaluate(e.ctx, r, 0)
		if err := e.ctx.Err(); err != nil {
			return err
		}
		for i := range r.outs {
			if err := e.after(&r.outs[i]); err != nil {
				return err
			}
		}
		r.reset()
		return nil
	}
	e.cur = nil
	select {
	case e.ordered <- r:
	case <-e.stopped:
		return errStopped
	}
	// the round is the collector's once the last lane is through: what is sent
	// where is decided before the first lane has it
	e.to = e.to[:0]
	for i, idx := range r.byLane {
		if len(idx) > 0 {
			e.to = append(e.to, e.lanes[i])
		}
	}
	r.pending.Store(int32(len(e.to)))
	if len(e.to) == 0 {
		close(r.done)
	}
	for _, l := range e.to {
		l.in <- r // never blocks: a lane holds at most the rounds under way
	}
	return nil
}

// collect runs after on the rounds, in order, as the lanes are through them.
// Once after failed or the replay was cancelled, it only drains.
func (e *evaluation) collect() {
	defer close(e.collected)
	for r := range e.ordered {
		<-r.done
		if e.err != nil || e.ctx.Err() != nil {
			continue
		}
		for i := range r.outs {
			if err := e.after(&r.outs[i]); err != nil {
				e.err = err
				close(e.stopped)
				break
			}
		}
		r.reset()
		select {
		case e.free <- r:
		default:
		}
	}
}

// close evaluates what is left and waits for it. It returns after's error, or
// the context's when the replay was cancelled.
func (e *evaluation) close() error {
	var err error
	if e.ctx.Err() == nil {
		err = e.flush()
	}
	if e.ordered != nil {
		close(e.ordered)
		for _, l := range e.lanes {
			close(l.in)
		}
		e.wg.Wait()
		<-e.collected
		err = e.err
	}
	if err == nil || errors.Is(err, errStopped) {
		err = e.ctx.Err()
	}
	return err
}

// lane evaluates the events of its spaces, in file order.
type lane struct {
	eng *rules.Engine
	st  *laneStore
	in  chan *round
}

// run evaluates the lane's share of r, and closes r.done if it is the last
// lane through.
func (l *lane) run(ctx context.Context, r *round, i int) {
	if ctx.Err() == nil {
		l.evaluate(ctx, r, i)
	}
	if r.pending.Add(-1) == 0 {
		close(r.done)
	}
}

// evaluate assesses the events of r that are lane i's.
func (l *lane) evaluate(ctx context.Context, r *round, i int) {
	for _, j := range r.byLane[i] {
		o := &r.outs[j]
		l.st.dup = o.dup
		as, err := l.eng.Assess(ctx, o.ev)
		o.as = as
		if err != nil {
			o.err = fmt.Errorf("evaluate %q: %w", o.ev.ID, err)
		}
	}
}

// laneStore is a lane's memory store, as its engine sees it.
//
// The dedupe was decided before the lane (evaluation.add): the engine's one
// call with an event id is answered from that, and the id is not remembered
// again. And a strike is kept only as long as the rules may read it, not the
// month a live store keeps it for the reports, so that the strikes of a long
// history do not pile up.
type laneStore struct {
	*memory.Store
	ttl time.Duration // of the ids, as evaluation.seen keeps them
	// dup is the dedupe's answer for the event being assessed.
	dup bool
	// strikeWindow is the longest window the engine read strikes over.
	strikeWindow time.Duration
}

var _ store.Store = (*laneStore)(nil)

func (s *laneStore) Observe(ctx context.Context, o store.Observation) (store.Result, error) {
	if o.EventID != "" {
		if o.DedupeTTL != s.ttl {
			return store.Result{}, fmt.Errorf("replay: the rules remember ids for %s, the replay for %s", o.DedupeTTL, s.ttl)
		}
		if s.dup {
			return store.Result{Duplicate: true}, nil
		}
		o.EventID = ""
	}
	s.strikeWindow = max(s.strikeWindow, o.StrikeWindow)
	return s.Store.Observe(ctx, o)
}

func (s *laneStore) AddStrike(ctx context.Context, st store.Strike) error {
	if s.strikeWindow <= 0 {
		return nil // no rule reads strikes
	}
	if st.TTL <= 0 {
		st.TTL = store.DefaultStrikeTTL
	}
	st.TTL = min(st.TTL, s.strikeWindow+strikeSlack)
	return s.Store.AddStrike(ctx, st)
}

// dedupeTTL is how long the engine has the store remember event ids: what it
// asks in its call with the event's id, here of one probe event.
func dedupeTTL(ctx context.Context, rs *rules.Ruleset) (time.Duration, error) {
	var p probeStore
	probe := bot.Event{ID: "probe", Platform: "replay", Kind: bot.KindMessage, Author: bot.Author{ID: "probe"},
		At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	rules.NewEngine(rs, &p, rules.Options{}).Assess(ctx, probe)
	if p.ttl <= 0 {
		return 0, errors.New("replay: the rules did not say how long they remember event ids")
	}
	return p.ttl, nil
}

// probeStore answers a probe evaluation that the event is a duplicate, so that
// nothing else of the engine runs, and notes the dedupe's TTL.
type probeStore struct {
	store.Store // nil: the engine calls only Observe for a duplicate
	ttl         time.Duration
}

func (p *probeStore) Observe(_ context.Context, o store.Observation) (store.Result, error) {
	if o.EventID != "" {
		p.ttl = o.DedupeTTL
	}
	return store.Result{Duplicate: true}, nil
}
