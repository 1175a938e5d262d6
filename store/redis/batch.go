package redis

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"runtime/metrics"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// batcher sends the store's commands in shared pipelines (WithAutoPipeline).
// What concurrent callers queue while a pipeline is on the wire goes in the
// next one, in the order it came, one pipeline at a time: Redis then runs a
// strike before the next event's observation that was queued after it, a
// journal entry before its removal. A caller that needs the answer (an
// observation, a case opened) waits for its pipeline; a write whose answer
// nobody needs (a strike, an audit entry, the journal) is only queued, and its
// caller goes on: the flood of an evaluated event's writes costs it no round
// trip of its own. Such a write that Redis did not take is handed to lost.
type batcher struct {
	c       Client
	cluster bool
	// loaded are the scripts each slot's node ran here already (on one
	// server, slot 0); the flusher alone reads and writes it. A script sent
	// the first time is sent whole (EVAL), not by hash: a NOSCRIPT answer
	// sends it again in another pipeline, after commands queued behind it.
	loaded map[scriptSlot]bool
	// ctx is the pipelines' context: a queued write outlives its caller's.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	queue []*call
	spare []*call // the last batch's slice, reused
	busy  bool    // a pipeline is on the wire
	// cur is the pipeline on the wire (nil between two), launch is closed
	// when the next one leaves.
	cur    *flight
	launch chan struct{}
	// answered is when Redis last answered a pipeline (Unix ns).
	answered atomic.Int64
	// silent, when set, is told when a stall that cut callers is
	// confirmed (Redis answered nothing for twice their patience, or the
	// ping failed), or ended without (confirmed false, err nil).
	silent func(err error, confirmed bool)
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

type scriptSlot struct {
	sc   *goredis.Script
	slot int
}

// call is one command for a pipeline: a script (sc, keys, args), or a command
// made already (cmd).
type call struct {
	sc   *goredis.Script
	keys []string
	args []any
	cmd  goredis.Cmder
	// ready is closed once cmd holds the answer; nil for a write nobody waits for.
	ready chan struct{}
	// ctx is the waiting caller's: a call whose caller gave up before its
	// pipeline left is not sent (an observation would count an event its
	// caller reports as not judged, and its retry would be a duplicate).
	ctx context.Context
	// lost is told when a write nobody waits for failed.
	lost func(error)
	// journal names the journal entry a Begin's commands (begin) or a
	// Done's write: a Begin whose Done follows it in the same pipeline is
	// not sent (see send).
	journal string
	begin   bool
	// into is the strike this one was added to (see mergeStrikes): it is
	// not sent, and its answer is into's.
	into *call
	// buf is the pooled buffer an argument of cmd was written in (a journal
	// or audit entry's JSON): it goes back to the pool once the pipeline
	// is done with it.
	buf *[]byte
}

// entryBufs are the buffers of the journal and audit entries sent in the
// shared pipelines: each was a kilobyte or more made for every entry and left
// to the collector once written to the connection.
var entryBufs = sync.Pool{New: func() any { return new([]byte) }}

// entryBuf returns an empty pooled buffer of at least n bytes.
func entryBuf(n int) *[]byte {
	b := entryBufs.Get().(*[]byte)
	if cap(*b) < n {
		*b = make([]byte, 0, n)
	}
	*b = (*b)[:0]
	return b
}

// maxPooledBuf bounds the buffers kept: a rare huge entry is not held.
const maxPooledBuf = 64 << 10

func newBatcher(c Client, cluster bool) *batcher {
	b := &batcher{c: c, cluster: cluster, loaded: map[scriptSlot]bool{}, wake: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		launch: make(chan struct{})}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	go b.run()
	return b
}

// flight is one pipeline on the wire.
type flight struct {
	sent time.Time
	// done is closed once the pipeline is answered (or failed).
	done chan struct{}
	// stalled is closed when Redis answered neither the pipeline nor a ping
	// within the patience of the first caller that asked (see watch); err
	// then says so.
	stalled chan struct{}
	err     error
	watched sync.Once
}

// patienceKey is the context key of a caller's patience (withPatience).
type patienceKey struct{}

// withPatience asks the shared pipelines to give up on Redis for ctx's calls
// once it has answered nothing for d: d counts from when the pipeline that
// carries a call, or the one ahead of it, left, and the pipeline must have
// gone unanswered by a ping too (see watch). The time a call waits in the
// queue while Redis answers the pipelines ahead of it, or while the flusher
// waits for the CPU, does not count: under CPU load, an event whose call
// waited a second there was taken for a frozen Redis, and switched vigie to
// its memory while Redis answered in a millisecond.
func withPatience(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, patienceKey{}, d)
}

// SilentError is the answer of a call given up on because Redis answered
// neither the pipeline ahead of it nor a ping within the caller's patience
// (withPatience).
type SilentError struct {
	Patience time.Duration
	// Pinged: a ping on another connection answered, though the pipeline
	// went unanswered for longer (three times the patience).
	Pinged bool
	Err    error // the ping's, when it failed
	// Confirmed: Redis is away for sure (the ping failed, or answered
	// while the pipeline did not); else the batcher's silent is told
	// later whether it was.
	Confirmed bool
}

func (e *SilentError) Error() string {
	if e.Pinged {
		return fmt.Sprintf("redis did not answer a pipeline within %s, though it answered a ping", 3*e.Patience)
	}
	if e.Err != nil {
		return fmt.Sprintf("redis did not answer within %s, nor a ping: %v", e.Patience, e.Err)
	}
	return fmt.Sprintf("redis did not answer within %s, nor a ping", e.Patience)
}

// do queues calls that are answered together, and waits for their pipeline
// or ctx, or, with a patience (withPatience), until Redis is silent for it.
// Their answers are in their cmd.
func (b *batcher) do(ctx context.Context, calls ...*call) error {
	ready := make(chan struct{})
	patience, _ := ctx.Value(patienceKey{}).(time.Duration)
	var giveUp context.CancelFunc = func() {}
	cctx := ctx
	if patience > 0 {
		// Given up on, the calls still queued are not sent.
		cctx, giveUp = context.WithCancel(ctx)
		defer giveUp()
	}
	for _, c := range calls {
		c.ready, c.ctx = ready, cctx
	}
	b.push(calls...)
	if patience <= 0 {
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			return answered(ready, ctx.Err())
		}
	}
	for {
		b.mu.Lock()
		fl, launch := b.cur, b.launch
		b.mu.Unlock()
		if fl == nil {
			// Nothing on the wire: the calls leave with the next pipeline,
			// as soon as the flusher runs. Redis is not waited for yet.
			select {
			case <-ready:
				return nil
			case <-ctx.Done():
				return answered(ready, ctx.Err())
			case <-launch:
			}
			continue
		}
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			return answered(ready, ctx.Err())
		case <-fl.done:
			// That one was ahead: the calls are in the next.
		case <-b.stalled(fl, patience):
			giveUp()
			return answered(ready, fl.err)
		}
	}
}

// answered prefers the answer to err when both came: a caller that ran late
// (a starved process) finds the answer and its deadline past at once.
func answered(ready chan struct{}, err error) error {
	select {
	case <-ready:
		return nil
	default:
		return err
	}
}

// stalled returns a channel closed once Redis is found silent on fl for
// patience (see watch).
func (b *batcher) stalled(fl *flight, patience time.Duration) <-chan struct{} {
	fl.watched.Do(func() { go b.watch(fl, patience) })
	return fl.stalled
}

// watch tells a Redis that does not answer from a pipeline that is slow to
// answer, or a flusher that is late to read it. A pipeline unanswered for a
// quarter of the patience is followed by a ping on another connection: if by
// the patience neither answered, Redis is silent (frozen, or cut from us).
// If the ping answered, Redis runs: the pipeline is slow (a large one on a
// busy Redis) or this process was late to read it, and it is waited for,
// with a ping each patience, up to three patiences from when it left
// (go-redis's default read timeout).
func (b *batcher) watch(fl *flight, patience time.Duration) {
	// On the wall clock: the deadlines of calls to Redis.
	t := time.NewTimer(time.Until(fl.sent.Add(patience / 4)))
	defer t.Stop()
	select {
	case <-fl.done:
		return
	case <-t.C:
	}
	waits := newRunWaits()
	for round := time.Duration(1); ; round++ {
		pinged := make(chan error, 1)
		go func() {
			// Waited for until the stall is confirmed or not (below).
			ctx, cancel := context.WithTimeout(b.ctx, 2*patience)
			pinged <- b.c.Ping(ctx).Err()
			cancel()
		}()
		t.Reset(time.Until(fl.sent.Add(round * patience)))
		select {
		case <-fl.done:
			return
		case <-t.C:
		}
		select {
		case err := <-pinged:
			if err != nil {
				fl.err = &SilentError{Patience: patience, Err: err, Confirmed: true}
			} else if round >= 3 {
				fl.err = &SilentError{Patience: patience, Pinged: true, Confirmed: true}
			} else {
				continue
			}
			close(fl.stalled)
			b.tell(fl.err, true)
			return
		default:
			if round < 3 && waits.longest() >= patience/4 {
				// Goroutines of this process waited a quarter of
				// the patience for the CPU meanwhile: the answers
				// may be here, unread. Not taken for silence yet.
				continue
			}
		}
		// Neither answered: the callers are cut, and Redis is taken for
		// away only if it answers nothing for another patience. A Redis
		// that stalls a second (a fork, an fsync on a busy disk, a
		// process the machine serves late) and answers then is not.
		fl.err = &SilentError{Patience: patience}
		close(fl.stalled)
		t.Reset(time.Until(fl.sent.Add((round + 1) * patience)))
		select {
		case <-fl.done:
			b.tell(nil, false)
		case err := <-pinged:
			if err != nil {
				b.tell(&SilentError{Patience: patience, Err: err, Confirmed: true}, true)
			} else {
				b.tell(nil, false)
			}
		case <-t.C:
			b.tell(&SilentError{Patience: patience + patience, Confirmed: true}, true)
		}
		return
	}
}

func (b *batcher) tell(err error, confirmed bool) {
	if b.silent != nil {
		b.silent(err, confirmed)
	}
}

// runWaits reads how long this process's goroutines waited for the CPU once
// they could run (the Go runtime's /sched/latencies:seconds), since it was
// made: a process starved of CPU reads Redis's answers late, which a timer
// alone takes for a Redis that does not answer.
type runWaits struct {
	sample []metrics.Sample
	before []uint64
}

const schedLatencies = "/sched/latencies:seconds"

func newRunWaits() *runWaits {
	w := &runWaits{sample: []metrics.Sample{{Name: schedLatencies}}}
	metrics.Read(w.sample)
	if w.sample[0].Value.Kind() == metrics.KindFloat64Histogram {
		w.before = slices.Clone(w.sample[0].Value.Float64Histogram().Counts)
	}
	return w
}

// longest is the lower bound of the longest wait for the CPU since w was
// made (0 if none, or if the runtime does not say).
func (w *runWaits) longest() time.Duration {
	metrics.Read(w.sample)
	if w.before == nil || w.sample[0].Value.Kind() != metrics.KindFloat64Histogram {
		return 0
	}
	h := w.sample[0].Value.Float64Histogram()
	for i := len(h.Counts) - 1; i >= 0; i-- {
		if i < len(w.before) && h.Counts[i] > w.before[i] {
			lo := h.Buckets[i]
			if math.IsInf(lo, 0) {
				return 0
			}
			return time.Duration(lo * float64(time.Second))
		}
	}
	return 0
}

// push queues calls for the next pipeline.
func (b *batcher) push(calls ...*call) {
	b.mu.Lock()
	b.queue = append(b.queue, calls...)
	b.mu.Unlock()
	select {
	case b.wake <- struct{}{}:
	default:
	}
}

// settle waits until what was queued before is in Redis, for a command that
// does not go through the pipelines (a read of what was written).
func (b *batcher) settle(ctx context.Context) error {
	b.mu.Lock()
	idle := len(b.queue) == 0 && !b.busy
	b.mu.Unlock()
	if idle {
		return nil
	}
	return b.do(ctx, &call{})
}

func (b *batcher) run() {
	defer close(b.done)
	for {
		select {
		case <-b.wake:
		case <-b.stop:
			// Close: what was queued goes out before the client closes.
			b.flush()
			return
		}
		b.flush()
	}
}

// flush sends what is queued, in pipelines of the queue's order, until the
// queue is empty.
func (b *batcher) flush() {
	for {
		// The callers the last pipeline answered queue their next calls
		// now: a moment for them makes the next pipeline fuller.
		runtime.Gosched()
		b.mu.Lock()
		batch := b.queue
		if len(batch) == 0 {
			b.busy = false
			b.mu.Unlock()
			return
		}
		b.queue, b.spare = b.spare[:0], nil
		b.busy = true
		// On the wall clock: the deadlines of calls to Redis.
		fl := &flight{sent: time.Now(), done: make(chan struct{}), stalled: make(chan struct{})}
		b.cur = fl
		close(b.launch)
		b.launch = make(chan struct{})
		b.mu.Unlock()
		b.send(batch)
		clear(batch)
		b.mu.Lock()
		b.spare = batch[:0]
		b.cur = nil
		b.mu.Unlock()
		close(fl.done)
	}
}

// send runs one batch in one pipeline. A script the server did not know (a
// restart, SCRIPT FLUSH) is sent again with EVAL, which loads it.
func (b *batcher) send(batch []*call) {
	pipe := b.c.Pipeline()
	finished := finishedBegins(batch)
	merged := mergeStrikes(batch)
	for _, c := range batch {
		switch {
		case c.begin && finished[c]:
			continue
		case c.into != nil:
			continue
		case c.ctx != nil && c.ctx.Err() != nil:
			cmd := goredis.NewCmd(c.ctx)
			cmd.SetErr(c.ctx.Err())
			c.cmd = cmd
		case c.sc != nil:
			if k := b.scriptSlot(c); b.loaded[k] {
				c.cmd = c.sc.EvalSha(b.ctx, pipe, c.keys, c.args...)
			} else {
				c.cmd = c.sc.Eval(b.ctx, pipe, c.keys, c.args...)
			}
		case c.cmd == nil: // a barrier (settle)
		default:
			_ = pipe.Process(b.ctx, c.cmd)
		}
	}
	if pipe.Len() > 0 {
		// Errors are read per command.
		if _, err := pipe.Exec(b.ctx); err == nil || !isNetError(err) {
			// On the wall clock: when Redis last answered, for the deadlines of calls to it.
			b.answered.Store(time.Now().UnixNano())
		}
	}
	var again goredis.Pipeliner
	for _, c := range batch {
		if c.sc == nil || c.into != nil {
			continue
		}
		err := c.cmd.Err()
		if goredis.HasErrorPrefix(err, "NOSCRIPT") {
			// Redis restarted, or its scripts were flushed.
			delete(b.loaded, b.scriptSlot(c))
			if again == nil {
				again = b.c.Pipeline()
			}
			c.cmd = c.sc.Eval(b.ctx, again, c.keys, c.args...)
		} else if err == nil || !isNetError(err) {
			b.loaded[b.scriptSlot(c)] = true
		}
	}
	if again != nil {
		_, _ = again.Exec(b.ctx)
	}
	if merged {
		for _, c := range batch {
			if c.into != nil {
				c.cmd = c.into.cmd
			}
		}
	}
	var woken chan struct{}
	for _, c := range batch {
		if c.buf != nil {
			// The pipeline was written and answered (or failed): nothing
			// reads its arguments again, and a lost write keeps its entry,
			// not these bytes.
			if cap(*c.buf) <= maxPooledBuf {
				entryBufs.Put(c.buf)
			}
			c.buf = nil
		}
		if c.ready != nil {
			if c.ready != woken {
				close(c.ready)
				woken = c.ready
			}
			continue
		}
		if c.lost != nil && c.cmd != nil {
			if err := c.cmd.Err(); err != nil && err != goredis.Nil {
				c.lost(err)
			}
		}
	}
}

// finishedBegins returns the calls of the journal's Begins whose Done comes
// later in the same batch: the verdict was carried out before its entry left,
// so the entry, about a kilobyte of JSON, need not be written and removed.
// The Done is still sent, for an older entry of the same key in Redis (a
// renewal). Should the pipeline fail, the Done goes where it would have gone
// anyway (see lostWrite), and the Begin nowhere, as it is finished.
func finishedBegins(batch []*call) map[*call]bool {
	var done map[string]bool
	var out map[*call]bool
	for i := len(batch) - 1; i >= 0; i-- {
		c := batch[i]
		switch {
		case c.journal == "":
		case !c.begin:
			if done == nil {
				done = map[string]bool{}
			}
			done[c.journal] = true
		case done[c.journal]:
			if out == nil {
				out = map[*call]bool{}
			}
			out[c] = true
		}
	}
	return out
}

// mergeStrikes adds each strike that follows a strike on the same key at the
// same time (one event's rules' strikes on its author, which its goroutine
// queues one after the other) to that one's call, and marks it with into:
// one script for them, not one each (a script costs Redis about 60,000
// instructions, a strike more in it one ZADD pair). Only neighbours are
// taken, so that nothing queued between two strikes runs before the second.
// Each keeps its lost: should the pipeline fail, each strike goes where it
// would have gone alone. It says whether it merged any.
func mergeStrikes(batch []*call) bool {
	merged := false
	var head *call // the strike the previous call is in
	for _, c := range batch {
		if c.sc != strikeScript || c.ready != nil || c.ctx != nil || len(c.args) != 4 {
			head = nil
			continue
		}
		if head != nil && c.keys[0] == head.keys[0] && c.args[0] == head.args[0] && c.args[1] == head.args[1] {
			args := append(head.args[:len(head.args):len(head.args)], c.args[3])
			if ttl, ok := c.args[2].(int64); ok && ttl > args[2].(int64) {
				args[2] = ttl
			}
			head.args, c.into, merged = args, head, true
			continue
		}
		head = c
	}
	return merged
}

func (b *batcher) scriptSlot(c *call) scriptSlot {
	k := scriptSlot{sc: c.sc}
	if b.cluster && len(c.keys) > 0 {
		k.slot = slotOf(c.keys[0])
	}
	return k
}

// isNetError tells an answer that did not come from Redis (the script may not
// have reached it) from one Redis gave.
func isNetError(err error) bool {
	var re goredis.Error
	return !errors.As(err, &re)
}

// close sends what is queued and stops.
func (b *batcher) close() {
	b.once.Do(func() {
		close(b.stop)
		<-b.done
		b.cancel()
	})
}

// answeredSince reports whether Redis answered a shared pipeline after t.
func (s *Store) answeredSince(t time.Time) bool {
	return s.b != nil && s.b.answered.Load() > t.UnixNano()
}
