package daemon

import (
	"context"
	"hash/maphash"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// A verdict's actions are carried out in the lane of its place (a platform's
// chat, channel or page), one job after the other: a place's actions keep the
// order of its events, and a place whose API is rate-limited, failing or hung
// delays only itself. Each lane has a bounded queue; past it, a lane borrows
// room from floodRoom, shared by all lanes, so that a brigade of hundreds of
// comments under one post waits to be hidden at the pace the platform allows
// rather than a case each for the CMs. A job that finds its lane full and the
// shared room spent is not waited for (that would stall the evaluation of every
// other place) but handed to overflow, which makes it a case. Overflow runs in a
// lane of its own, the spill lane, so that a flood in one place does not make
// each of its events wait for a case on the goroutine that judged it; only
// once the spill lane is full too does the judging goroutine wait for it.

const (
	// laneQueue is how many verdicts a place may have waiting.
	laneQueue = 256
	// laneIdle is how long a lane without work keeps its goroutine.
	laneIdle = time.Minute
	// maxLanes bounds the goroutines: past it, places share one of sharedLanes
	// lanes by hash (events over HTTP may name any number of places).
	maxLanes    = 4096
	sharedLanes = 64
	// spillQueue is how many verdicts may wait to be made cases.
	spillQueue = 4096
	// floodRoom is how many verdicts, over their lanes' laneQueue, may wait
	// in all the lanes together: a flood in one or a few places, whose
	// platform carries out their actions slower than they come. A job is
	// some kilobytes with its event: tens of megabytes at most.
	floodRoom = 8192
)

// job is one verdict to carry out.
type job struct {
	ev bot.Event
	v  bot.Verdict
	// queued is when the job entered its lane, for the wait metric.
	queued time.Time
	// journaled: the verdict is in the store's journal until it is carried out.
	journaled bool
	// key is the event's key when journaled, kept from begin for finish.
	key string
	// earlyCase, for a verdict taken from the journal, is the case its
	// first carrying out opened while its actions were being tried
	// (JournalEntry.Case): carried out again, it amends that case.
	earlyCase string
	// done, for a verdict taken from the journal, are the actions its
	// carryings out did (JournalEntry.Done): its case, if it is deferred,
	// says so.
	done []bot.Action
	// takenAgain: the verdict was taken from the journal, left there by a
	// process that stopped; its ban may have been given already
	// (handlers.WithTakenAgain).
	takenAgain bool
	// seen is the store's mark of the event's id, pending until its verdict
	// is journaled (begin settles it); zero for a verdict taken from the
	// journal.
	seen store.SeenMark
	// unjournaled: the verdict needs the journal (needsJournal) but is
	// carried out inline without it; finish journals it if it is cut short.
	unjournaled bool
	// faq, when faqDecided, is what the FAQ decided before the verdict was
	// answered (POST /v1/events), with the matcher that decided it: the lane
	// does that decision rather than asking again. Kept in the job rather
	// than made on the heap for each event that asks the FAQ.
	faq        faqDecision
	faqDecided bool
	// faqOf, when faqKept, is the FAQ of the rule file that judged the
	// event from a source, which the lane asks: a reload between the two
	// does not have one file's rules and another's FAQ decide. A job taken
	// from the journal asks the current one.
	faqOf   *faq.Matcher
	faqKept bool
	// rules is the rule file that judged the event: its cases and alerts go
	// to the community, desk and priority that file says, though a reload
	// came between. Nil for a job taken back from the journal after a
	// restart, which the file running then carries out.
	rules *rules.Ruleset
	// fold, for a verdict folded into a ban waiting in its member's lane,
	// ties it to that ban: its journal entry is kept, holding what the
	// fold dropped, until the ban's end (keepFolded).
	fold *foldLink
}

type faqDecision struct {
	matcher  *faq.Matcher
	decision faq.Decision
}

// lanes runs jobs in one goroutine per place.
type lanes struct {
	// run carries out a job; overflow takes the jobs a full lane cannot hold.
	run      func(*job)
	overflow func(*job)
	log      *slog.Logger
	// guard recovers a job whose run panicked: the lane goes on with the next.
	guard *guard.Guard
	wait  prometheus.Observer
	seed  maphash.Seed
	// borrowed is how much of floodRoom the lanes hold now.
	borrowed atomic.Int64

	mu     sync.Mutex
	closed bool
	m      map[string]*lane
	// spill runs overflow; made on the first overflow, it lasts until close.
	spill *lane
	wg    sync.WaitGroup
}

type lane struct {
	key string
	// run carries out the lane's jobs: lanes.run, or lanes.overflow for spill.
	run func(*job)
	// limit is how many jobs may wait of the lane's own; past it, the lane
	// borrows from its lanes' floodRoom (shared), unless it is the spill lane.
	limit int
	// shared is the lanes' floodRoom count, nil for the spill lane.
	shared *atomic.Int64
	// borrowed is how many of the jobs waiting are over limit, taken from
	// shared: q.n is limit+borrowed while borrowed > 0.
	borrowed int
	// wake tells serve that jobs are waiting, or that the lanes are closed.
	wake chan struct{}

	mu     sync.Mutex
	q      jobQueue
	closed bool // no job will come: serve returns once q is empty
	// serving: serve is carrying out a job it took from q. inline: a
	// caller is carrying out one on its own goroutine (runInline); serve
	// takes none meanwhile, and is told when it is done. At most one of
	// the two at a time, so that a place's jobs keep their order.
	serving, inline bool

	// cur is the job serve runs, taken from q: run gets it by pointer
	// without a job made on the heap for each. Only serve touches it.
	cur job
	// held is the job a caller carries out with inline set (runInline):
	// copied here, it stays on its caller's stack, where run, a function
	// value, would have moved it to the heap, a job made for every event.
	held job
}

// jobQueue is a lane's waiting jobs, oldest first, in a ring that grows with
// them and is let go once empty: a lane costs little more than its goroutine
// while its place is quiet (a channel of laneQueue jobs, about 100 KiB, made
// thousands of places a few hundred megabytes).
type jobQueue struct {
	buf  []job
	head int
	n    int
}

func (q *jobQueue) push(j *job) {
	if q.n == len(q.buf) {
		grown := make([]job, max(4, 2*len(q.buf)))
		for i := range q.n {
			grown[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = grown, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = *j
	q.n++
}

// pop moves the oldest job to dst.
func (q *jobQueue) pop(dst *job) bool {
	if q.n == 0 {
		return false
	}
	*dst = q.buf[q.head]
	q.buf[q.head] = job{} // the event's strings go with it
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.n == 0 && len(q.buf) > 4 {
		// A burst is over: its room is given back.
		q.buf, q.head = nil, 0
	}
	return true
}

func newLanes(run, overflow func(*job), log *slog.Logger, g *guard.Guard, wait prometheus.Observer) *lanes {
	return &lanes{run: run, overflow: overflow, log: log, guard: g, wait: wait, seed: maphash.MakeSeed(), m: map[string]*lane{}}
}

// laneKey names the place whose lane carries out ev's actions.
func laneKey(ev *bot.Event) string {
	return ev.Platform + "\x00" + ev.Space + "\x00" + ev.Channel
}

// submit queues j in its place's lane and reports whether it was queued; false
// once the lanes are closed. A full lane hands j to overflow instead.
func (ls *lanes) submit(j *job) bool {
	var room [96]byte
	k := appendLaneKey(room[:0], &j.ev)
	// On the wall clock: the wait in the lane is a speed, measured (vigie_lane_wait_seconds).
	j.queued = time.Now()
	ls.mu.Lock()
	if ls.closed {
		ls.mu.Unlock()
		return false
	}
	l := ls.laneFor(k)
	if !l.push(j) {
		if ls.spill == nil {
			ls.spill = ls.start("spill", ls.overflow, spillQueue)
		}
		l = ls.spill
		if !l.push(j) {
			ls.mu.Unlock()
			// A copy: j, handed to a function value, would otherwise be
			// made on the heap for every job.
			cp := *j
			ls.overflow(&cp)
			return true
		}
	}
	ls.mu.Unlock()
	l.signal()
	return true
}

// runInline carries out j on the caller's goroutine when its place's lane is
// idle (no job waiting, none being carried out), and reports whether it did;
// false leaves j to submit. In the open loop a job handed to a lane's parked
// goroutine wakes it, and an idle P's thread with it: about a context switch
// and a tenth of vigie's CPU per event at 1,000 events/s. The daemon calls it
// only where a job calls out to nothing over the network (no connector, no
// desk, the memory store), so that a request waits for no platform.
func (ls *lanes) runInline(j *job) bool {
	var room [96]byte
	k := appendLaneKey(room[:0], &j.ev)
	ls.mu.Lock()
	if ls.closed {
		ls.mu.Unlock()
		return false
	}
	// The lane is found or made, so that jobs submitted meanwhile queue
	// behind this one.
	l := ls.laneFor(k)
	l.mu.Lock()
	claimed := !l.serving && !l.inline && !l.closed && l.q.n == 0
	if claimed {
		l.inline = true
	}
	l.mu.Unlock()
	ls.mu.Unlock()
	if !claimed {
		return false
	}
	l.held = *j
	// On the wall clock, as in submit: the wait in the lane is a speed.
	l.held.queued = time.Now()
	ls.do(l, &l.held)
	l.held = job{} // the event's strings go with it
	l.mu.Lock()
	l.inline = false
	pending := l.q.n > 0 || l.closed
	l.mu.Unlock()
	if pending {
		l.signal()
	}
	return true
}

// appendLaneKey appends laneKey(ev) to dst: the key is looked up from the
// stack, and made a string only for a lane to start.
func appendLaneKey(dst []byte, ev *bot.Event) []byte {
	return append(append(append(append(append(dst, ev.Platform...), 0), ev.Space...), 0), ev.Channel...)
}

// laneFor is the lane of the place named k, started if need be; the caller
// holds ls.mu.
func (ls *lanes) laneFor(k []byte) *lane {
	l := ls.m[string(k)]
	if l == nil {
		key := string(k)
		if len(ls.m) >= maxLanes {
			key = "shared:" + strconv.FormatUint(maphash.String(ls.seed, key)%sharedLanes, 10)
			l = ls.m[key]
		}
		if l == nil {
			l = ls.start(key, ls.run, laneQueue)
			l.shared = &ls.borrowed
			ls.m[key] = l
		}
	}
	return l
}

// start runs a lane; the caller holds ls.mu.
func (ls *lanes) start(key string, run func(*job), limit int) *lane {
	l := &lane{key: key, run: run, limit: limit, wake: make(chan struct{}, 1)}
	ls.wg.Go(func() { ls.serve(l) })
	return l
}

// push queues a copy of j unless l is full and the shared room spent.
func (l *lane) push(j *job) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.q.n >= l.limit {
		if l.shared == nil || l.shared.Add(1) > floodRoom {
			if l.shared != nil {
				l.shared.Add(-1)
			}
			return false
		}
		l.borrowed++
	}
	l.q.push(j)
	return true
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default: // already told
	}
}

// next moves l's oldest job to l.cur; done is true once l is closed and
// empty.
func (l *lane) next() (ok, done bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inline {
		// Its caller signals once done: the jobs queued after it wait.
		l.serving = false
		return false, false
	}
	ok = l.q.pop(&l.cur)
	if ok && l.borrowed > 0 {
		// The room the lane borrowed goes back as soon as it is under it.
		l.borrowed--
		l.shared.Add(-1)
	}
	l.serving = ok
	return ok, !ok && l.closed
}

// serve runs l's jobs until l has been idle for laneIdle, or until the lanes are
// closed and l is empty.
func (ls *lanes) serve(l *lane) {
	// On the wall clock: how long an idle goroutine is kept, a matter of memory.
	idle := time.NewTimer(laneIdle)
	defer idle.Stop()
	for {
		ok, done := l.next()
		switch {
		case ok:
			ls.do(l, &l.cur)
			continue
		case done:
			return
		}
		l.cur = job{} // the last event's strings are not kept while idle
		idle.Reset(laneIdle)
		select {
		case <-l.wake:
		case <-idle.C:
			// Leave only when nothing can be queued any more: submit queues
			// under the same lock, in lanes it finds in the map. The spill
			// lane stays.
			ls.mu.Lock()
			l.mu.Lock()
			quiet := l.q.n == 0 && !l.inline && !ls.closed && l != ls.spill
			l.mu.Unlock()
			if quiet {
				delete(ls.m, l.key)
				ls.mu.Unlock()
				return
			}
			ls.mu.Unlock()
		}
	}
}

// do runs one job; a panic in it is logged and counted, and the lane goes on.
func (ls *lanes) do(l *lane, j *job) {
	if ls.wait != nil {
		ls.wait.Observe(time.Since(j.queued).Seconds())
	}
	if !ls.guard.Do("lane", func() { l.run(j) }) {
		ls.log.Error("verdict not fully carried out after a panic; the lane goes on", "event", j.ev.Key())
	}
}

// close stops taking jobs and waits, until ctx ends, for the lanes to carry out
// what they hold. It reports whether they all finished.
func (ls *lanes) close(ctx context.Context) bool {
	ls.mu.Lock()
	if !ls.closed {
		ls.closed = true
		all := slices.Collect(maps.Values(ls.m))
		if ls.spill != nil {
			all = append(all, ls.spill)
		}
		for _, l := range all {
			l.mu.Lock()
			l.closed = true
			l.mu.Unlock()
			l.signal()
		}
	}
	ls.mu.Unlock()
	return wait(ctx, &ls.wg)
}

// busy is the number of lanes running now, for the metrics.
func (ls *lanes) busy() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return len(ls.m)
}

// overflow makes a verdict whose lane is full a case: the place's platform is
// rate-limiting or not answering, and waiting would stall every other place.
func (d *daemon) overflow(j *job, why string) {
	d.log.Warn("actions deferred to the desk", "event", j.ev.Key(), "lane", laneKey(&j.ev), "why", why)
	err := d.mod.DeferAgain(d.workCtx, j.rules, j.ev, j.v, why, j.earlyCase, j.done)
	if err != nil {
		d.log.Error("deferred verdict not recorded", "event", j.ev.Key(), "err", err)
	}
	// A case holds it now, unless it could not be written.
	d.finish(j, err == nil)
}

// laneFull makes a verdict whose lane is full a case.
func (d *daemon) laneFull(j *job) {
	d.overflow(j, "not carried out: too many actions waiting in "+placeName(&j.ev))
}

// placeName is how a case names the place of an event.
func placeName(ev *bot.Event) string {
	s := ev.Platform
	if ev.Space != "" {
		s += " " + ev.Space
	}
	if ev.Channel != "" && ev.Channel != ev.Space {
		s += "/" + ev.Channel
	}
	return s
}
