package telegram

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Inbox is Offsets that also keeps the updates a poller took until their
// events are judged, where the next poller finds them: a poller killed
// (SIGKILL, the OOM killer, a machine that dies) with updates in hand, or
// waiting in the daemon's queues, leaves them there, and the poller that
// takes the job over hands them on before it asks Telegram for more. An
// update handed on twice that way is judged once: the store drops an event
// whose id it has seen.
type Inbox interface {
	Offsets
	// Keep is Commit, and keeps taken with the offset, in the same step,
	// under the same lease. kept is false when the store did not answer
	// (the poller goes on, the updates kept in this process only); dropped
	// counts the oldest updates the inbox let go to stay within its cap.
	Keep(ctx context.Context, offset int, taken []Taken) (kept bool, dropped int, err error)
	// Left returns the updates kept and not finished with, by update id.
	Left(ctx context.Context) ([]Taken, error)
	// Finished removes the updates of ids from the inbox: their events are
	// judged (or they had none).
	Finished(ctx context.Context, ids []int) error
	// HandingOn counts one more hand-on for the updates of ids, left in
	// the inbox, as their handling begins (the poller tells it of one
	// update at a time, before it hands it over) (and notes now as their At when
	// none is known); one that a poller released is handed on without a
	// count.
	HandingOn(ctx context.Context, ids []int, now time.Time) error
	// Released marks the updates of ids, left in the inbox by a poller
	// that stops cleanly (a shutdown, not a crash), as not in hand when
	// their process ended: their next hand-on is not counted.
	Released(ctx context.Context, ids []int) error
}

// Taken is one update a poller took, as Telegram sent it.
type Taken struct {
	ID  int
	Raw json.RawMessage
	// At is when a poller first took it (zero: not known); HandedOn, how
	// many times a next poller handed it on. Left fills them.
	At       time.Time
	HandedOn int
}

// MaxHandOns is how many times an update left in the inbox is handed on at
// most after a poller that did not release it: one handed on twice and
// still there (its handling kills the process each time) is let go at the
// next hand-on, logged as an error and counted, rather than taken down by
// every start and takeover for good. A poller that stops cleanly (a
// shutdown, a drain) releases what it leaves (Inbox.Released): restarts
// alone never let an update go. A hand-on is counted as the update's
// handling begins, and the next update is handed on once the last one's
// events are judged (awaitHandedOn): the updates of a backlog that no
// poller reached before it died, or that waited in the daemon's queues,
// are not.
const MaxHandOns = 2

// MaxInboxAge is how old an update left in the inbox may be when it is
// handed on: the store's duplicate check of events (store.DefaultDedupeTTL).
// An older one, handed on, would no longer be known as judged and could be
// judged again: it is let go, logged as an error and counted.
const MaxInboxAge = store.DefaultDedupeTTL

// Judged tells the client that ev, which Run sent, is judged: its verdict
// is journaled, or it needs none. Once all the events of an update are
// judged, the update is finished: removed from the poller's inbox, and in
// webhook mode answered 200. Without Config.ReportsJudged an event counts
// as judged once it is handed over, and Judged is not to be called.
func (c *Client) Judged(ev *bot.Event) {
	c.judging.judged(ev.Key())
}

// judging follows the updates taken until their events are judged.
type judging struct {
	mu sync.Mutex
	// open are the updates not finished, by update id.
	open map[int]*openUpdate
	// events are the update ids of the events handed over, by event key,
	// oldest first.
	events map[string][]int
	// done are the kept updates finished, to be removed from the inbox.
	done []int
	// wake tells the inbox's flusher there is something in done.
	wake chan struct{}
	// direct is the inbox of the poller that stopped, while none runs.
	direct Inbox
	// unkeptN counts the open updates not in the inbox yet.
	unkeptN int
	// parked counts the open updates cut short with none of their events
	// waiting to be judged: kept for their rest only. cuts are the updates
	// parked, oldest first, for the bound of maxParked.
	parked int
	cuts   []int
	// log says when the removals after the poller stopped fail, once
	// until one works again (directFailing).
	log           *slog.Logger
	directFailing bool
}

type openUpdate struct {
	// waiting counts the events not judged yet, and the dispatch under way.
	waiting int
	// kept: the update is in the inbox; raw is its data until then.
	kept bool
	raw  json.RawMessage
	// finished, when set, is closed once the update is (webhook mode);
	// cutShort then is closed if its dispatch is cut short instead.
	finished, cutShort chan struct{}
	// cut: its dispatch was cut short, rest its events not handed over
	// then, for the one that takes it over (a retry, a next poller of this
	// process). The events it handed over before still count in waiting:
	// the update is finished once they and the rest are judged. Made
	// again, its events would not be the same (a join, a change of names,
	// seen already, gives none).
	cut  bool
	rest []bot.Event
	// unjudged counts its events handed over and not judged yet; judged,
	// when set (eventsJudged), is closed once none is left.
	unjudged int
	judged   chan struct{}
}

func newJudging(log *slog.Logger) *judging {
	return &judging{open: map[int]*openUpdate{}, events: map[string][]int{}, wake: make(chan struct{}, 1), log: log}
}

// take opens update id for its dispatch. It reports false when the update
// is open already (handed on again, or posted again, while its first
// dispatch is under way or its events wait to be judged), with the first
// one's finished and cutShort. An update whose dispatch was cut short is
// taken over: resume is set, and rest are the events to hand over, in place
// of those the update would give.
func (j *judging) take(id int, raw json.RawMessage, kept, wait bool) (finished, cutShort <-chan struct{}, ok, resume bool, rest []bot.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if o, ok := j.open[id]; ok {
		if !o.cut {
			return o.finished, o.cutShort, false, false, nil
		}
		if o.waiting <= 0 {
			j.parked--
		}
		rest = o.rest
		o.cut, o.rest = false, nil
		o.waiting++
		if kept && !o.kept {
			if o.raw != nil {
				j.unkeptN--
			}
			o.kept, o.raw = true, nil
		}
		if wait && o.finished == nil {
			o.finished = make(chan struct{})
		}
		if o.finished != nil {
			o.cutShort = make(chan struct{})
		}
		return o.finished, o.cutShort, true, true, rest
	}
	o := &openUpdate{waiting: 1, kept: kept}
	if !kept && raw != nil {
		o.raw = raw
		j.unkeptN++
	}
	if wait {
		o.finished, o.cutShort = make(chan struct{}), make(chan struct{})
	}
	j.open[id] = o
	return o.finished, o.cutShort, true, false, nil
}

// isOpen reports whether update id is under way in this process: its
// dispatch not cut short.
func (j *judging) isOpen(id int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	o, ok := j.open[id]
	return ok && !o.cut
}

// expect counts the events of update id about to be handed over.
func (j *judging) expect(id int, evs []bot.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o, ok := j.open[id]
	if !ok {
		return
	}
	for i := range evs {
		k := evs[i].Key()
		j.events[k] = append(j.events[k], id)
		o.waiting++
	}
	o.unjudged += len(evs)
}

// eventsJudged returns what is closed once the events of update id handed
// over are all judged; nil when none waits to be judged.
func (j *judging) eventsJudged(id int) <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	o, ok := j.open[id]
	if !ok || o.unjudged <= 0 {
		return nil
	}
	if o.judged == nil {
		o.judged = make(chan struct{})
	}
	return o.judged
}

// lessUnjudgedLocked counts n events of o judged, or not handed over after
// all.
func (o *openUpdate) lessUnjudgedLocked(n int) {
	o.unjudged -= n
	if o.unjudged <= 0 && o.judged != nil {
		close(o.judged)
		o.judged = nil
	}
}

// judged is told that the event of key is judged.
func (j *judging) judged(key string) {
	j.mu.Lock()
	ids := j.events[key]
	if len(ids) == 0 {
		j.mu.Unlock()
		return
	}
	id := ids[0]
	if len(ids) == 1 {
		delete(j.events, key)
	} else {
		j.events[key] = ids[1:]
	}
	if o, ok := j.open[id]; ok {
		o.lessUnjudgedLocked(1)
	}
	j.releaseLocked(id)
	j.flushDirectUnlock()
}

// flushDirectUnlock, called with mu held, unlocks it, and once the poller
// stopped removes the finished updates from the inbox itself.
func (j *judging) flushDirectUnlock() {
	inbox, done := j.direct, j.done
	// The poller stopped (a shutdown, the lease lost) while the events it
	// handed over are still judged (the drain): the finished updates are
	// removed together, once none is open any more, or by drainBatch. An
	// update whose events are never judged (the drain cut short) holds the
	// last ones back: they stay in the inbox, and a next poller hands them
	// on, dropped there as duplicates.
	if inbox == nil || len(done) == 0 || len(done) < drainBatch && len(j.open) > j.parked {
		j.mu.Unlock()
		return
	}
	j.done = nil
	j.mu.Unlock()
	// The poller stopped (a shutdown, the lease lost) while the events it
	// handed over are still judged: each finished update is removed here.
	// One whose removal fails is kept for the next removal, here or by the
	// next poller of this process.
	ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
	defer cancel()
	err := inbox.Finished(ctx, done)
	dropped := 0
	if err != nil {
		dropped = j.notRemoved(done)
	}
	j.mu.Lock()
	was := j.directFailing
	j.directFailing = err != nil
	j.mu.Unlock()
	switch {
	case err != nil && !was:
		j.log.Warn("updates judged after the poller stopped not removed from the poller's inbox: the store does not answer; tried again with the next ones, or handed on by a next poller and dropped there as duplicates",
			"updates", len(done), "err", err)
	case err == nil && was:
		j.log.Info("updates judged removed from the poller's inbox again")
	}
	if dropped > 0 {
		j.log.Warn("updates judged left in the poller's inbox: too many to remember; a next poller hands them on again, and they are dropped there as duplicates unless judged while Redis was away",
			"updates", dropped)
	}
}

// hold keeps update id open until release is called: the desk's work it
// brought (a button pressed, a command) is under way, and a poller killed
// meanwhile leaves the update in the inbox, for the next poller to hand on
// and the work to be done there. An update not kept in an inbox (webhook
// mode, a poller without one) is not held: release does nothing.
func (j *judging) hold(id int) (release func()) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o, ok := j.open[id]
	if !ok || !o.kept && o.raw == nil {
		return func() {}
	}
	o.waiting++
	var once sync.Once
	return func() {
		once.Do(func() {
			j.mu.Lock()
			j.releaseLocked(id)
			j.flushDirectUnlock()
		})
	}
}

// drainBatch is how many updates finished during the drain are removed
// from the inbox in one call at most: a batch of getUpdates.
const drainBatch = 100

// dispatched ends the dispatch of update id: it was handed over whole.
func (j *judging) dispatched(id int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.releaseLocked(id)
}

// cut ends the dispatch of update id, cut short (a shutdown, the lease
// lost, Telegram giving up on the delivery) with the events of rest not
// handed over: it stays in the inbox for the next poller, and in webhook
// mode Telegram sends it again. It stays open here with rest, for the one
// that takes it over in this process, until the events handed over before
// and rest are judged.
func (j *judging) cut(id int, rest []bot.Event) {
	j.mu.Lock()
	defer j.mu.Unlock()
	o, ok := j.open[id]
	if !ok || o.cut {
		return
	}
	for i := range rest {
		k := rest[i].Key()
		ids := j.events[k]
		if n := slices.Index(ids, id); n >= 0 {
			ids = slices.Delete(ids, n, n+1)
		}
		if len(ids) == 0 {
			delete(j.events, k)
		} else {
			j.events[k] = ids
		}
	}
	o.waiting -= len(rest) + 1 // and the dispatch
	o.lessUnjudgedLocked(len(rest))
	o.cut, o.rest = true, slices.Clone(rest)
	if o.cutShort != nil {
		close(o.cutShort)
	}
	if o.waiting <= 0 {
		j.parkLocked(id)
	}
}

// parkLocked counts update id, cut short, as parked: none of its events
// wait to be judged, its rest waits to be taken over. Past maxParked, the
// one parked first is forgotten: its update never came again (Telegram
// gave up on it, another process finished it), and taken again its events
// are made anew.
func (j *judging) parkLocked(id int) {
	j.parked++
	j.cuts = append(j.cuts, id)
	for len(j.cuts) > maxParked {
		old := j.cuts[0]
		j.cuts = j.cuts[1:]
		if o, ok := j.open[old]; ok && o.cut && o.waiting <= 0 {
			j.parked--
			j.closeLocked(old, o)
		}
	}
}

// letGo forgets the updates of ids cut short here, let go unjudged (handed
// on too often, too old): the events they handed over, judged, finish
// nothing.
func (j *judging) letGo(ids []int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, id := range ids {
		if o, ok := j.open[id]; ok && o.cut {
			if o.waiting <= 0 {
				j.parked--
			}
			j.closeLocked(id, o)
		}
	}
}

// maxParked bounds the updates cut short that are remembered for their
// rest.
const maxParked = 1000

// closeLocked forgets the open update id.
func (j *judging) closeLocked(id int, o *openUpdate) {
	delete(j.open, id)
	o.lessUnjudgedLocked(o.unjudged)
	if o.raw != nil {
		j.unkeptN--
	}
}

func (j *judging) releaseLocked(id int) {
	o, ok := j.open[id]
	if !ok {
		return
	}
	if o.waiting--; o.waiting > 0 {
		return
	}
	if o.cut {
		j.parkLocked(id) // not finished: its rest waits to be taken over
		return
	}
	j.closeLocked(id, o)
	if o.finished != nil {
		close(o.finished)
	}
	// One not kept was taken while the store did not answer, or was late:
	// a write it did not answer in time may still have kept it.
	if o.kept || o.raw != nil {
		j.done = append(j.done, id)
		select {
		case j.wake <- struct{}{}:
		default:
		}
	}
}

// unkept returns the open updates not in the inbox yet (taken while the
// store did not answer), by update id.
func (j *judging) unkept() []Taken {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.unkeptN == 0 {
		return nil
	}
	var out []Taken
	for id, o := range j.open {
		if !o.kept && o.raw != nil {
			out = append(out, Taken{ID: id, Raw: o.raw})
		}
	}
	slices.SortFunc(out, func(a, b Taken) int { return a.ID - b.ID })
	return out
}

// markKept notes that the updates of taken are in the inbox now; those
// finished meanwhile are to be removed from it again.
func (j *judging) markKept(taken []Taken) {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, t := range taken {
		if o, ok := j.open[t.ID]; ok {
			if o.raw != nil {
				j.unkeptN--
			}
			o.kept, o.raw = true, nil
			continue
		}
		j.done = append(j.done, t.ID)
	}
	if len(j.done) > 0 {
		select {
		case j.wake <- struct{}{}:
		default:
		}
	}
}

// retry wakes the inbox's flusher when finished updates wait for their
// removal: one that failed is tried again though no other update is
// finished (a quiet group), once the store answers again.
func (j *judging) retry() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if len(j.done) == 0 {
		return
	}
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// takeDone returns the finished updates to remove from the inbox.
func (j *judging) takeDone() []int {
	j.mu.Lock()
	defer j.mu.Unlock()
	d := j.done
	j.done = nil
	return d
}

// notRemoved gives back ids, whose removal from the inbox failed, for the
// next removal, up to MaxInbox in all: an update judged while Redis was
// away may have been judged from memory, which Redis's dedupe of event ids
// does not know, so that handed on again it would be judged again.
func (j *judging) notRemoved(ids []int) (dropped int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	room := max(MaxInbox-len(j.done), 0)
	if len(ids) > room {
		dropped = len(ids) - room
		ids = ids[dropped:]
	}
	j.done = append(ids, j.done...)
	return dropped
}

// MaxInbox is how many updates an Inbox is to keep at most: more than the
// daemon's queues hold (64 events, then 256 for each of 32 evaluators on
// Redis) and a batch of 100. Past it the oldest are let go, logged and
// counted.
const MaxInbox = 10_000

// finishTimeout bounds a removal from the inbox.
const finishTimeout = 5 * time.Second

// finishing removes the finished updates from inbox as they come, until
// stop is closed, then once more; after, the updates finished are removed
// as they are (judged), until a next poller runs here.
func (c *Client) finishing(inbox Inbox, stop <-chan struct{}) {
	c.judging.mu.Lock()
	c.judging.direct = nil
	c.judging.mu.Unlock()
	failing := false
	flush := func() {
		ids := c.judging.takeDone()
		if len(ids) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), finishTimeout)
		defer cancel()
		if err := inbox.Finished(ctx, ids); err != nil {
			if !failing {
				c.log.Warn("updates judged but not removed from the poller's inbox: the store does not answer; tried again with the next ones",
					"updates", len(ids), "err", err)
			}
			failing = true
			if n := c.judging.notRemoved(ids); n > 0 {
				c.log.Warn("updates judged left in the poller's inbox: too many to remember; a next poller hands them on again, and they are dropped there as duplicates unless judged while Redis was away",
					"updates", n)
			}
			return
		}
		if failing {
			c.log.Info("updates judged removed from the poller's inbox again")
		}
		failing = false
	}
	for {
		select {
		case <-c.judging.wake:
			flush()
		case <-stop:
			flush()
			c.judging.mu.Lock()
			c.judging.direct = inbox
			c.judging.mu.Unlock()
			flush()
			return
		}
	}
}
