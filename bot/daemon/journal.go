package daemon

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Actions are carried out at least once. An event is marked seen when it is
// judged (a retry of it is dropped as a duplicate), so a verdict whose actions
// are still to be done is first written to the store's journal, and removed
// from it once its lane carried it out (actions done, or failed and made a
// case). What a process leaves there when it stops (a crash, a kill, a drain
// that ran out of time) is taken by the next vigie that looks: at start, and
// every recoverAfter/4 while running, so that a process restarted at once
// finds its own verdicts too, and a live instance those of one that died.
// A process renews the entries it still holds, so that a slow lane's verdict
// is not taken by another instance sharing the store.
//
// Between the two, the event's id is marked pending (Config.PendingHold),
// and the journal entry settles it in the same write: a process killed
// after the mark and before the entry leaves a mark never settled, and the
// event's retry, past the hold, is judged again and carried out (a retry
// within it is a duplicate, as while its judge is still at work, which
// renews the mark if it is slow). A verdict with nothing to journal leaves
// its mark pending: its retry, judged again, has nothing to carry out
// either, and is a duplicate.

const (
	// defaultRecoverAfter is how long a journal entry nobody renewed waits
	// before it is taken.
	defaultRecoverAfter = 2 * time.Minute
	// maxTries is how many times a verdict may be left unfinished (the first
	// time included) before it is left to the CMs as a case: one that stops the process each time
	// (a panic in a platform's client) must not do so forever.
	maxTries = 3
	// journalTimeout bounds a journal write, which must not hold up a lane.
	journalTimeout = 10 * time.Second
)

// needsJournal reports whether a verdict has something to lose in a crash:
// a platform action, a case or an alert. Strikes are recorded by the engine
// before it answers; an event that matches nothing needs nothing.
func needsJournal(ev *bot.Event, v *bot.Verdict) bool {
	if v.Duplicate || ev.ID == "" {
		return false
	}
	for _, m := range v.Matches {
		if m.Shadow {
			continue
		}
		for _, a := range m.Actions {
			if a.Kind != bot.ActStrike {
				return true
			}
		}
	}
	return false
}

// held are the journal entries this process is carrying out.
type held struct {
	mu sync.Mutex
	m  map[string]store.JournalEntry
	// apart are the keys of the entries carried out in their member's own
	// lane (memberLanes): their actions done are written through (carried).
	apart map[string]bool
}

// setApart says the entry of key is carried out in its member's own lane,
// where its ban waits for the member's lock after its delete was done.
func (h *held) setApart(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.m[key]; !ok {
		return
	}
	if h.apart == nil {
		h.apart = map[string]bool{}
	}
	h.apart[key] = true
}

func (h *held) add(e *store.JournalEntry) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]store.JournalEntry{}
	}
	c := *e
	// Clipped: the Done a store answered may be the one it keeps, which
	// carried must not append to.
	c.Done = slices.Clip(c.Done)
	h.m[e.Key] = c
}

func (h *held) remove(key string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.m, key)
	delete(h.apart, key)
}

func (h *held) has(key string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.m[key]
	return ok
}

// entry returns the entry of key as this process holds it; false when it
// does not hold it.
func (h *held) entry(key string) (store.JournalEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[key]
	return e, ok
}

// setCaseOrigin keeps in the entry of key the origin of the case being
// opened for its verdict, and returns the entry; false when this process
// does not hold it.
func (h *held) setCaseOrigin(key, origin string) (store.JournalEntry, bool) {
	return h.update(key, func(e *store.JournalEntry) { e.CaseOrigin = origin })
}

// setCase names in the entry of key the case opened for its verdict, and
// returns the entry; false when this process does not hold it.
func (h *held) setCase(key, id string) (store.JournalEntry, bool) {
	return h.update(key, func(e *store.JournalEntry) { e.Case = id })
}

// update changes the entry of key with set, and returns it; false when
// this process does not hold it.
func (h *held) update(key string, set func(*store.JournalEntry)) (store.JournalEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[key]
	if ok {
		set(&e)
		h.m[key] = e
	}
	return e, ok
}

// carried adds a to the actions carried out of the entry of ev, and
// returns the entry, and whether it is carried out apart (setApart); false
// when this process does not hold it. The entry's
// Done is this process's own (add clips one read from the store): a is
// appended in place, and the key is looked up from the stack, for a verdict
// that ends well costs one allocation at most.
func (h *held) carried(ev *bot.Event, a bot.Action) (e store.JournalEntry, apart, ok bool) {
	var room [96]byte
	k := append(append(append(room[:0], ev.Platform...), ':'), ev.ID...)
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok = h.m[string(k)]
	if ok && !slices.Contains(e.Done, a) {
		if e.Done == nil {
			e.Done = make([]bot.Action, 0, 2)
		}
		e.Done = append(e.Done, a)
		h.m[e.Key] = e
	}
	return e, ok && h.apart[string(k)], ok
}

// trying adds a to the actions being asked of the entry of ev, and returns
// the entry; false when this process does not hold it.
func (h *held) trying(ev *bot.Event, a bot.Action) (store.JournalEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[ev.Key()]
	if ok && !slices.Contains(e.Trying, a) {
		e.Trying = append(slices.Clip(e.Trying), a)
		h.m[e.Key] = e
	}
	return e, ok
}

// take removes the entry of key and returns it.
func (h *held) take(key string) (store.JournalEntry, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	e, ok := h.m[key]
	delete(h.m, key)
	delete(h.apart, key)
	return e, ok
}

// stale returns the entries stamped before t, stamped now.
func (h *held) stale(t, now time.Time) []store.JournalEntry {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []store.JournalEntry
	for k, e := range h.m {
		if e.At.Before(t) {
			e.At = now
			h.m[k] = e
			out = append(out, e)
		}
	}
	return out
}

// begin writes j's verdict to the journal when it has actions to lose, and
// marks j journaled. A journal that cannot be written is logged and counted;
// the actions are still carried out.
func (d *daemon) begin(j *job) {
	ev, v := &j.ev, &j.v
	if !needsJournal(ev, v) {
		return
	}
	now := d.now()
	e := store.JournalEntry{Key: ev.Key(), Event: *ev, Verdict: *v, At: now, Begun: now}
	// Held before it is written, so that this process never takes it back.
	d.held.add(&e)
	ctx, cancel := d.journalCtx(d.workCtx)
	first := e // this write settles the event's mark too, not the renewals
	if j.seen.ID != "" {
		first.Settle = &j.seen
	}
	err := d.store.Begin(ctx, first)
	cancel()
	if err != nil {
		if j.seen.ID != "" {
			// A retry is a duplicate all the same: the actions are
			// carried out now.
			ctx, cancel := d.journalCtx(d.workCtx)
			_ = d.store.Settle(ctx, j.seen)
			cancel()
		}
		d.held.remove(e.Key)
		d.metrics.journalErrors.Inc()
		d.log.Warn("verdict not journaled: a crash before its actions are done would lose them", "event", ev.Key(), "err", err)
		return
	}
	j.journaled, j.key = true, e.Key
}

// journalCtx bounds a journal write by journalTimeout. The memory store's
// journal is a map under a mutex, which never waits on anything: it gets
// parent as it is, since a timer per verdict, twice, was about a twentieth of
// the HTTP handler's CPU.
func (d *daemon) journalCtx(parent context.Context) (context.Context, context.CancelFunc) {
	if store.IsLocal(d.store) {
		return parent, func() {}
	}
	return context.WithTimeout(parent, journalTimeout)
}

// finish removes a carried-out verdict from the journal. One whose carrying
// out was cut short (the drain ran out of time, or a panic) stays there for
// the next look.
func (d *daemon) finish(j *job, completed bool) {
	if j.fold != nil && completed && d.workCtx.Err() == nil && d.keepFolded(j) {
		return
	}
	if j.unjournaled {
		j.unjournaled = false
		if completed && d.workCtx.Err() == nil {
			return // nothing was journaled, nothing is left to do
		}
		// Cut short (a panic, a shutdown): journaled now, as begin would
		// have before, and left there as any journaled verdict.
		d.begin(j)
	}
	if !j.journaled {
		return
	}
	key := j.key
	e, _ := d.held.take(key)
	if !completed || d.workCtx.Err() != nil {
		if d.workCtx.Err() != nil && store.IsLocal(d.store) {
			// Nothing carries it out again: this process is stopping, and
			// the memory store's journal with it.
			d.log.Error("verdict not carried out before shutdown, and lost: the memory store's journal ends with the process", "event", key)
			return
		}
		asked := len(e.Trying) > 0 && d.workCtx.Err() == nil
		if asked {
			// Cut short while the process goes on (a panic in the
			// platform's client): its calls ended here, none is left in
			// flight, and the next carrying out asks them again, as for
			// any verdict left unfinished (up to maxTries). Only a kill, or
			// a stop that cut a call, leaves them unknown.
			e.Trying = nil
		}
		if len(e.Done) > 0 || asked {
			// The actions carried out are kept with it, for its case if it
			// is left unfinished too often.
			ctx, cancel := d.journalCtx(context.WithoutCancel(d.workCtx))
			err := d.store.Begin(ctx, e)
			cancel()
			if err != nil {
				d.metrics.journalErrors.Inc()
				d.log.Warn("journal entry not told of the actions carried out: its case, if it is left unfinished too often, would say they were not",
					"event", key, "err", err)
			}
		}
		d.log.Warn("verdict left in the journal, to be carried out again", "event", key)
		return
	}
	// Not cut short by a shutdown that begins meanwhile; the memory store,
	// which ignores its context, is spared the context made for that.
	parent := d.workCtx
	if !store.IsLocal(d.store) {
		parent = context.WithoutCancel(parent)
	}
	ctx, cancel := d.journalCtx(parent)
	defer cancel()
	if err := d.store.Done(ctx, key); err != nil {
		d.metrics.journalErrors.Inc()
		d.log.Warn("verdict carried out but still journaled: it may be carried out again", "event", key, "err", err)
	}
}

// keepFolded keeps the journal entry of j, a verdict folded into a ban
// waiting in its member's lane whose rest was carried out, while that ban
// has not ended: written again, it holds only the ban, kick or timeout
// the fold dropped, so that a process killed before the ban's end leaves
// them to the next one rather than lose them, and the delete or warning
// carried out already is not carried out again. The ban's end finishes it
// (foldCovered) or makes it a case (unfolded). It reports whether it kept
// the entry; false once the ban ended, the entry finished as any other.
func (d *daemon) keepFolded(j *job) bool {
	l := j.fold
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.settled {
		return false
	}
	l.kept = true
	dr := l.dropped
	if !j.journaled {
		// Carried out inline without an entry, or its entry not written:
		// what the fold dropped is journaled now, alone.
		j.unjournaled = false
		d.begin(dr)
		return true
	}
	e, ok := d.held.entry(j.key)
	if !ok {
		return true
	}
	e.Verdict, e.Done, e.Trying = dr.v, nil, nil
	d.held.add(&e)
	dr.journaled, dr.key, dr.earlyCase = true, j.key, e.Case
	d.amend(d.workCtx, e, "journal entry of a folded verdict not narrowed to what the fold dropped: carried out again after a crash, its other actions would be too")
	return true
}

// foldCovered finishes the entry keepFolded kept for j, the actions a
// fold dropped: the ban that covers them was carried out.
func (d *daemon) foldCovered(j *job) { d.finish(j, true) }

// earlyOpening writes in the journal entry of ev's verdict the origin of
// the case about to be opened for it while its actions are being tried,
// and waits for the store to take it: a process killed after the case
// opened, before earlyOpened's write reached the store, leaves the next
// one to find that case by its origin (resume), rather than open another
// for the message. Not written, the case is not opened now (it opens once
// the actions end). A verdict not journaled has nothing to write it in.
func (d *daemon) earlyOpening(ctx context.Context, ev bot.Event, origin string) error {
	e, ok := d.held.setCaseOrigin(ev.Key(), origin)
	if !ok {
		return nil
	}
	jctx, cancel := d.journalCtx(context.WithoutCancel(ctx))
	defer cancel()
	if err := d.store.Begin(store.WithAnswer(jctx), e); err != nil {
		d.metrics.journalErrors.Inc()
		return fmt.Errorf("journal entry %s: %w", e.Key, err)
	}
	return nil
}

// earlyOpened writes in the journal entry of ev's verdict the case opened
// for it while its actions were being tried, so that a vigie that carries
// the verdict out again after a crash amends that case with how they end
// (HandleAgain), rather than open a second case for the message and leave
// this one being tried for good. A verdict not journaled has nothing to
// write it in.
func (d *daemon) earlyOpened(ctx context.Context, ev bot.Event, id string) {
	e, ok := d.held.setCase(ev.Key(), id)
	if !ok {
		return
	}
	d.amend(ctx, e, "journal entry not told of the case opened while the actions are tried: carried out again after a crash, the verdict would open another",
		"case", id)
}

// carried keeps a, carried out for ev's verdict, in its journal entry (for
// the case of a verdict left unfinished too often: DeferAgain; and so that
// a verdict carried out again after a kill does not ask it of the platform
// twice). It is written there at once only while the verdict's case is open
// being tried (earlyOpened named it), or while the verdict is carried out in
// its member's own lane (setApart): those actions are slow or failing, or
// the ban after them waits for the member's lock, and a kill would cut them
// short; otherwise finish writes it if the carrying out is cut short while
// the process lives on. A ban tells the members' lanes
// too: the verdicts folded into it are covered.
func (d *daemon) carried(ctx context.Context, ev bot.Event, a bot.Action) {
	if a.Kind == bot.ActBan {
		d.members.banned(&ev)
	}
	e, apart, ok := d.held.carried(&ev, a)
	if !ok || e.Case == "" && !apart {
		return
	}
	d.amend(ctx, e, "journal entry not told of an action carried out: its case, if it is left unfinished too often, would say it was not",
		"action", a.String())
}

// trying writes a, a timeout or a kick of ev's verdict about to be asked of
// the platform (handlers.NotTwice), to its journal entry, before it is
// asked: a process killed during the call leaves the next one to know it
// may have been done (resume). An entry not written is logged and counted;
// the action is still carried out, as a verdict whose entry was not written.
func (d *daemon) trying(ctx context.Context, ev bot.Event, a bot.Action) {
	e, ok := d.held.trying(&ev, a)
	if !ok {
		return
	}
	// Taken by the store before the platform is asked, not queued for it.
	d.amend(store.WithAnswer(ctx), e, "journal entry not told of an action being asked: a crash in the middle of it would ask it again",
		"action", a.String())
}

// amend writes e, a verdict's journal entry with something more to tell,
// over the one written before its lane, within the journal's time, whether
// or not ctx ends meanwhile. Not written, it is counted and logged with
// what the entry does not say (lost) and attrs.
func (d *daemon) amend(ctx context.Context, e store.JournalEntry, lost string, attrs ...any) {
	ctx, cancel := d.journalCtx(context.WithoutCancel(ctx))
	defer cancel()
	if err := d.store.Begin(ctx, e); err != nil {
		d.metrics.journalErrors.Inc()
		d.log.Warn(lost, append(append([]any{"event", e.Key}, attrs...), "err", err)...)
	}
}

// defaultPendingHold is Config.PendingHold's longest default.
const defaultPendingHold = 5 * time.Second

// pendingHold is how long an event's id is marked pending while it is
// judged (Config.PendingHold): by default a third of a lease's TTL (5s of
// 15s), no more than defaultPendingHold. The next owner of a Telegram
// poller or a Discord shard, which hands on a killed one's events, takes
// the job once its lease ran out, at least two thirds of the TTL after its
// last renewal (renewed every third): the marks its owner left are past
// their hold by then.
func (d *daemon) pendingHold() time.Duration {
	if d.cfg.PendingHold > 0 {
		return d.cfg.PendingHold
	}
	ttl := d.cfg.Leases.TTL
	if ttl <= 0 && d.cfg.Getenv != nil {
		ttl = envDuration(d.cfg.Getenv, "VIGIE_LEASE_TTL", 15*time.Second)
	}
	return min(defaultPendingHold, max(ttl/3, time.Second))
}

// judging are the marks of the events this process is judging, from their
// verdict to the end of their judging, with when each was last stamped.
type judging struct {
	mu   sync.Mutex
	next uint64
	m    map[uint64]judgingMark
}

type judgingMark struct {
	mark store.SeenMark
	at   time.Time
}

// add keeps m, stamped at, and returns its number for remove.
func (g *judging) add(m store.SeenMark, at time.Time) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = map[uint64]judgingMark{}
	}
	g.next++
	g.m[g.next] = judgingMark{m, at}
	return g.next
}

func (g *judging) remove(n uint64) {
	g.mu.Lock()
	delete(g.m, n)
	g.mu.Unlock()
}

// stale returns the marks stamped before t, stamped now, with their
// numbers and when they were stamped before, for unstamp.
func (g *judging) stale(t, now time.Time) []staleMark {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []staleMark
	for k, j := range g.m {
		if j.at.Before(t) {
			out = append(out, staleMark{n: k, mark: j.mark, was: j.at})
			j.at = now
			g.m[k] = j
		}
	}
	return out
}

// staleMark is a mark stale returned: its number, and when it was stamped
// before.
type staleMark struct {
	n    uint64
	mark store.SeenMark
	was  time.Time
}

// unstamp gives mark s back the stamp it had before stale, its renewal
// having failed: the next round tries it again rather than half a hold
// later, past its hold.
func (g *judging) unstamp(s staleMark) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if j, ok := g.m[s.n]; ok {
		j.at = s.was
		g.m[s.n] = j
	}
}

// renewSeen renews the pending marks of the events judged for longer than
// half the hold: a slow judge (a platform slow to say who is staff, the
// FAQ's store) is not taken for a dead one by a retry on another instance.
// A renewal that fails (Redis away is no failure: the mark is renewed in
// memory) is counted in vigie_journal_errors_total, logged, and tried
// again on the next round, a quarter of the hold later.
func (d *daemon) renewSeen(ctx context.Context) {
	hold := d.pendingHold()
	now := d.now()
	for _, s := range d.judging.stale(now.Add(-hold/2), now) {
		if err := d.store.Renew(ctx, s.mark, now, hold); err != nil {
			d.judging.unstamp(s)
			if ctx.Err() != nil {
				return // stopping: nothing is judged any more
			}
			d.metrics.journalErrors.Inc()
			d.log.Warn("pending mark of an event being judged not renewed (tried again in a quarter of the hold): a retry on another instance may judge it too", "event", s.mark.Platform+":"+s.mark.ID, "err", err)
		}
	}
}

// runRenewSeen renews the marks of the events being judged every hold/4,
// on the daemon's clock, until ctx ends.
func (d *daemon) runRenewSeen(ctx context.Context, wg *sync.WaitGroup) {
	every := d.pendingHold() / 4
	wg.Go(func() { d.cfg.every(ctx, every, func() { d.renewSeen(ctx) }) })
}

// recoverAfter is the grace period of journal entries.
func (d *daemon) recoverAfter() time.Duration {
	if d.cfg.RecoverAfter > 0 {
		return d.cfg.RecoverAfter
	}
	return defaultRecoverAfter
}

// resume renews the entries this process holds for long, then takes the
// entries nobody renewed and hands them to their lanes. It returns how many
// it took.
func (d *daemon) resume(ctx context.Context) int {
	grace := d.recoverAfter()
	now := d.now()
	for _, e := range d.held.stale(now.Add(-grace/2), now) {
		if err := d.store.Begin(ctx, e); err != nil {
			d.metrics.journalErrors.Inc()
			d.log.Warn("journal entry not renewed: another instance may carry it out too", "event", e.Key, "err", err)
			continue
		}
		cur, ok := d.held.entry(e.Key)
		if !ok {
			// Finished meanwhile, perhaps before the renewal was written.
			_ = d.store.Done(ctx, e.Key)
			continue
		}
		if cur.Case != e.Case || cur.CaseOrigin != e.CaseOrigin || len(cur.Done) != len(e.Done) {
			// earlyOpened named a case, or carried an action, meanwhile,
			// perhaps before the renewal, a copy taken earlier, was
			// written over it: written again, with the case and the
			// actions carried out (Done only grows). (What is named after
			// this look is written after the renewal.)
			e.Case, e.CaseOrigin, e.Done = cur.Case, cur.CaseOrigin, cur.Done
			if err := d.store.Begin(ctx, e); err != nil {
				d.metrics.journalErrors.Inc()
				d.log.Warn("journal entry not told of the case opened or the actions carried out while the actions are tried: carried out again after a crash, the verdict would open another case or say they were not",
					"event", e.Key, "case", cur.Case, "err", err)
			}
		}
	}
	entries, err := d.store.Unfinished(ctx, now.Add(-grace), now)
	if err != nil {
		d.metrics.journalErrors.Inc()
		d.log.Warn("journal not read: verdicts left unfinished wait for the next look", "err", err)
		return 0
	}
	n := 0
	for _, e := range entries {
		if d.held.has(e.Key) {
			continue // ours, in a lane: the take renewed it
		}
		if e.Case == "" && e.CaseOrigin != "" {
			e.Case = d.caseOfOrigin(ctx, &e)
		}
		j := job{ev: e.Event, v: e.Verdict, journaled: true, key: e.Event.Key(), earlyCase: e.Case, done: e.Done, takenAgain: true}
		e.At = now // as the take stamped it
		if e.Tries >= maxTries {
			d.metrics.recovered.WithLabelValues("deferred").Inc()
			d.log.Error("verdict left unfinished too many times: the desk decides", "event", e.Key, "tries", e.Tries)
			d.held.add(&e)
			d.overflow(&j, "not carried out: left unfinished "+strconv.Itoa(e.Tries)+" times")
			continue
		}
		n++
		d.metrics.recovered.WithLabelValues("resumed").Inc()
		d.log.Info("carrying out a verdict left unfinished", "event", e.Key, "begun", e.Begun, "tries", e.Tries)
		d.held.add(&e)
		// What its first carrying out did (a delete before the ban that
		// waited for the member's lock) is not asked of the platform again;
		// nor is what it was asking when it stopped, when asking it again
		// would not leave things as they are (handlers.NotTwice): a case
		// says its end is unknown.
		unknown := slices.DeleteFunc(slices.Clone(e.Trying), func(a bot.Action) bool { return slices.Contains(e.Done, a) })
		j.v = withoutDone(j.v, append(slices.Clip(e.Done), unknown...))
		if len(unknown) > 0 {
			d.endUnknown(ctx, e, unknown)
		}
		d.carryOut(&j)
	}
	if n > 0 {
		d.log.Info("verdicts left unfinished are carried out again", "count", n)
	}
	return n
}

// caseOfOrigin returns the id of the case opened, while its actions were
// being tried, for the verdict of e, an entry taken again that names the
// case's origin and not its id: its process was killed after the case
// opened, before the entry was told its id (earlyOpened). The verdict
// carried out again amends that case, or obeys the CM who decided it,
// rather than open a second one for the message. "" when the store knows
// no case of that origin (the case was not opened: the kill came first),
// or cannot say (a second case may then open, and that is logged).
func (d *daemon) caseOfOrigin(ctx context.Context, e *store.JournalEntry) string {
	co, ok := d.store.(store.CaseOrigins)
	if !ok {
		return ""
	}
	id, err := co.CaseOfOrigin(ctx, e.CaseOrigin)
	if err != nil {
		d.metrics.journalErrors.Inc()
		d.log.Warn("the case opened for a verdict left unfinished not looked up: carried out again, it may open a second case for the message",
			"event", e.Key, "err", err)
		return ""
	}
	if id != "" {
		d.log.Info("the case opened while a verdict left unfinished was being tried, which its journal entry did not name yet, is the one its carrying out amends",
			"event", e.Key, "case", id)
	}
	return id
}

// endUnknown makes a case of the actions of e's verdict that its carrying
// out was asking of the platform when it stopped (unknown), and are not
// asked again: their end is unknown, and a CM checks on the platform.
func (d *daemon) endUnknown(ctx context.Context, e store.JournalEntry, unknown []bot.Action) {
	d.log.Error("a verdict's action was being asked of the platform when its process stopped: not asked again; a case asks a CM to check", "audit", true,
		"event", e.Key, "actions", actionsText(unknown))
	v := e.Verdict
	v.Matches = make([]bot.Match, 0, len(e.Verdict.Matches))
	for _, m := range e.Verdict.Matches {
		if m.Shadow {
			continue
		}
		m.Actions = slices.DeleteFunc(slices.Clone(m.Actions), func(a bot.Action) bool { return !slices.Contains(unknown, a) })
		if len(m.Actions) > 0 {
			v.Matches = append(v.Matches, m)
		}
	}
	why := "end unknown: " + actionsText(unknown) + " was being asked of " + e.Event.Platform +
		" when vigie stopped, and may have been done: not asked again; check on " + e.Event.Platform
	if err := d.mod.DeferAgain(ctx, nil, e.Event, v, why, "", nil); err != nil {
		d.log.Error("the case of an action whose end is unknown not opened", "event", e.Key, "err", err)
	}
}

func actionsText(as []bot.Action) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return strings.Join(s, ", ")
}

// withoutDone is v without the actions done already (a journal entry's
// Done); v itself when there are none.
func withoutDone(v bot.Verdict, done []bot.Action) bot.Verdict {
	if len(done) == 0 {
		return v
	}
	out := v
	out.Matches = make([]bot.Match, len(v.Matches))
	for i, m := range v.Matches {
		m.Actions = slices.DeleteFunc(slices.Clone(m.Actions), func(a bot.Action) bool { return slices.Contains(done, a) })
		out.Matches[i] = m
	}
	return out
}

// now reads the daemon's clock (Config.Now).
func (d *daemon) now() time.Time { return d.cfg.clock()() }

// clock is Now, or time.Now.
func (c Config) clock() func() time.Time {
	if c.Now != nil {
		return c.Now
	}
	return time.Now
}

// timer is AfterFunc, or time.AfterFunc.
func (c Config) timer() func(time.Duration, func()) func() bool {
	if c.AfterFunc != nil {
		return c.AfterFunc
	}
	// Without a clock given, the wall clock's timers.
	return func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
}

// every calls f each wait on the daemon's clock (Config.AfterFunc), a wait
// after the last call ended, until ctx ends; it stops its timer then.
func (c Config) every(ctx context.Context, wait time.Duration, f func()) {
	after := c.timer()
	tick := make(chan struct{}, 1)
	for {
		stop := after(wait, func() {
			select {
			case tick <- struct{}{}:
			default:
			}
		})
		select {
		case <-ctx.Done():
			stop()
			return
		case <-tick:
			f()
		}
	}
}

// runResume looks at the journal every grace/4, on the journal's clock,
// until ctx ends.
func (d *daemon) runResume(ctx context.Context, wg *sync.WaitGroup) {
	// Not more than once a second: a tiny grace period is for tests.
	every := max(d.recoverAfter()/4, time.Second)
	wg.Go(func() { d.cfg.every(ctx, every, func() { d.resume(ctx) }) })
}
