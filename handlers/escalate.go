package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/internal/clockwait"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Case priorities. Normal is the empty string, so that cases stored before
// priorities existed read as normal.
const (
	PriorityHigh   = "high"
	PriorityNormal = ""
	PriorityLow    = "low"
)

// repeatCases is how many earlier cases about one author or one thread, within
// repeatWindow, make the next one high priority: someone who keeps at it, a
// thread that is going bad.
const (
	repeatCases  = 2
	repeatWindow = 24 * time.Hour
)

// ParseDuration reads 10m, 1h30m and 7d, as CMs write them.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }

// prioritise sets a new case's priority: the rule's, raised to high when the
// author or the thread already had repeatCases cases within repeatWindow. The
// cases are counted with the store's sliding-window counters, one call whatever
// the number of open cases, so a raid that opens hundreds of cases does not make
// each new one slower. It only reads them: countCase counts a case once it
// is opened, so the hits grouped into a case and the cases dropped at the cap
// cost no counter (a raid from a million authors would otherwise leave a
// million counters for a day).
func (m *Moderator) prioritise(ctx context.Context, rs *rules.Ruleset, c *store.Case) {
	if c.Priority == PriorityNormal && m.priority != nil && c.Rule != "" {
		c.Priority = m.priority(rs, c.Rule)
	}
	if c.Priority == PriorityHigh {
		return
	}
	ops := caseCounters(*c, false)
	res, err := m.store.Observe(ctx, store.Observation{At: c.Opened, Wall: true, Platform: c.Event.Platform,
		Space: c.Event.Space, Author: c.Event.Author.ID, Counters: ops})
	if err != nil || len(res.Counts) != len(ops) {
		return // the case opens at its rule's priority
	}
	author, thread := res.Counts[0], int64(0)
	if len(ops) > 1 {
		thread = res.Counts[1]
	}
	switch {
	case c.Event.Author.ID != "" && author >= repeatCases:
		c.Priority = PriorityHigh
		c.Reason = fmt.Sprintf("high priority, %d other cases for this author in 24h: %s", author, c.Reason)
	case thread >= repeatCases:
		c.Priority = PriorityHigh
		c.Reason = fmt.Sprintf("high priority, %d other cases in this thread in 24h: %s", thread, c.Reason)
	}
}

// countCase counts a case just opened for its author and thread, which
// prioritise reads. One message counts once, however many cases it opens (two
// rules that forward it, an action on it that failed): "cases for this
// author" are the author's other messages, not one message's cases. The cases
// of one message are opened by the process that judges it, within moments, so
// the events this process counted last are enough to tell.
func (m *Moderator) countCase(ctx context.Context, c store.Case) {
	if c.Event.ID != "" && !m.counted.add(c.Event.Key()) {
		return
	}
	ops := caseCounters(c, true)
	if _, err := m.store.Observe(ctx, store.Observation{At: c.Opened, Wall: true, Platform: c.Event.Platform,
		Space: c.Event.Space, Author: c.Event.Author.ID, Counters: ops}); err != nil {
		m.log.Warn("case not counted for its author's priority", "case", c.ID, "err", err)
	}
}

// recentEventsKept is how many events recentEvents remembers: far more than
// the cases a process opens while one message's actions are carried out.
const recentEventsKept = 4096

// recentEvents remembers the last recentEventsKept event keys added; its zero
// value is ready.
type recentEvents struct {
	mu   sync.Mutex
	ring [recentEventsKept]string
	next int
	set  map[string]struct{}
}

// add remembers key and reports whether it was new.
func (r *recentEvents) add(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.set[key]; ok {
		return false
	}
	if r.set == nil {
		r.set = make(map[string]struct{}, recentEventsKept)
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = key
	r.set[key] = struct{}{}
	r.next = (r.next + 1) % recentEventsKept
	return true
}

// caseCounters are the counters of c's author and thread, counting it or not.
func caseCounters(c store.Case, incr bool) []store.CounterOp {
	ops := []store.CounterOp{{Name: "~cases:author", Key: c.Event.Author.ID, Window: repeatWindow, Incr: incr && c.Event.Author.ID != ""}}
	if t := threadOf(c.Event); t != "" {
		ops = append(ops, store.CounterOp{Name: "~cases:thread", Key: t, Window: repeatWindow, Incr: incr})
	}
	return ops
}

// threadOf names the conversation an event belongs to: its thread, or the post
// a comment answers; empty when it has none.
func threadOf(ev bot.Event) string {
	t := cmp.Or(ev.Thread, ev.ReplyTo)
	if t == "" {
		return ""
	}
	return ev.Space + "/" + ev.Channel + "/" + t
}

// EscalationOptions tune the reminders of old cases.
type EscalationOptions struct {
	// Age is how long a case waits before it is announced again (default 2h);
	// high priority cases wait a quarter of it, low priority ones four times.
	Age time.Duration
	// Interval is the time between two announcements of one case (default
	// 1h), whichever instance makes them.
	Interval time.Duration
	// TTL is how long a case may stay open (default DefaultCaseTTL): past it,
	// nobody decided it, it is closed as expired (store.OutcomeExpired), so
	// that the open cases, and the cap on them, are not held by the forgotten.
	TTL        time.Duration
	Registerer prometheus.Registerer
}

// DefaultCaseTTL is how long a case stays open by default: a long weekend
// and a day to catch up.
const DefaultCaseTTL = 72 * time.Hour

// Escalation announces again on the desk the cases left open too long,
// closes those open past their TTL, keeps the metrics of the open cases, and
// lifts the lockdowns and the timed bans whose time is up (Moderator.LiftLocks,
// Moderator.LiftBans).
type Escalation struct {
	m           *Moderator
	o           EscalationOptions
	oldest      prometheus.Gauge
	byPriority  *prometheus.GaugeVec
	reannounced prometheus.Counter
	expired     prometheus.Counter

	// mu keeps checks one at a time; last is when the previous one ran
	// (zero before the first): a check announces the reminders that fell due
	// since.
	mu   sync.Mutex
	last time.Time
	// undelivered are the reminders this instance claimed that the desk did
	// not take for a reason that may pass (deskMayTakeLater), by
	// case id: the next check tries them again,
	// unless the case was decided since or its next reminder fell due.
	undelivered map[string]reminder
}

// NewEscalation returns the reminders of m's cases and registers their metrics.
func NewEscalation(m *Moderator, o EscalationOptions) (*Escalation, error) {
	if o.Age <= 0 {
		o.Age = 2 * time.Hour
	}
	if o.Interval <= 0 {
		o.Interval = time.Hour
	}
	if o.TTL <= 0 {
		o.TTL = DefaultCaseTTL
	}
	e := &Escalation{m: m, o: o,
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_cases_oldest_open_seconds",
			Help: "Age of the oldest case waiting for a decision (0 without one).",
		}),
		byPriority: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_cases_open_by_priority",
			Help: "Cases waiting for a decision, by priority (high, normal, low).",
		}, []string{"priority"}),
		reannounced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_cases_reannounced_total",
			Help: "Open cases announced again on the desk because they waited too long.",
		}),
		expired: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_cases_expired_total",
			Help: "Cases nobody decided within their time to live (VIGIE_CASE_TTL), closed as expired.",
		}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{e.oldest, e.byPriority, e.reannounced, e.expired} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("escalation: register metrics: %w", err)
			}
		}
	}
	return e, nil
}

// checkEvery is how often Run looks at the open cases.
const checkEvery = time.Minute

// maxExpiredShown bounds the cases closed as expired in one check whose
// cards are edited to say so: after a long stop, thousands may expire at
// once, and the desks' rate limits would hold the check for an hour. A card
// left with its buttons says it was decided when one is pressed.
const maxExpiredShown = 50

// Run checks the open cases until ctx ends, a minute after each check
// ended, on the moderator's clock (Options.AfterFunc). Of the checks that
// fail in a row (a desk down all night, its reminder tried each minute), the
// first is logged as a warning, the others at debug level, and one line sums
// them up once a check passes again.
func (e *Escalation) Run(ctx context.Context) error {
	var failed failureRun
	for {
		_, err := e.Check(ctx)
		switch now := e.m.now(); {
		case ctx.Err() != nil:
		case err != nil:
			if failed.fail(now, err) {
				e.m.log.Warn("open cases not checked; tried again each minute, said again once a check passes", "err", err)
			} else {
				e.m.log.Debug("open cases not checked, again", "failed_checks", failed.n, "err", err)
			}
		default:
			if run, ok := failed.pass(); ok {
				e.m.log.Info("open cases checked again after failed checks", run.attrs(now, "failed_checks")...)
			}
		}
		if !clockwait.Sleep(ctx, e.m.afterFunc, checkEvery) {
			return nil
		}
	}
}

// due is how long a case of priority p waits before its first reminder.
func (e *Escalation) due(p string) time.Duration {
	switch p {
	case PriorityHigh:
		return e.o.Age / 4
	case PriorityLow:
		return e.o.Age * 4
	}
	return e.o.Age
}

// reminder is one announcement of a case: its k-th, due at Opened + due +
// k*Interval.
type reminder struct {
	c store.Case
	k int64
	// claimed: this instance claimed it already (a reminder the desk did
	// not take, tried again).
	claimed bool
}

// Check closes the cases open past their TTL, updates the metrics and
// announces again the cases that waited too long, high priority first; it
// returns how many it announced. Case k of a case's reminders falls due at
// Opened + due + k*Interval; a check announces those that fell due since the
// previous one (the first check, all that are due). With a store that keeps
// an index of its open cases (store.CaseIndex) it reads only those cases, so
// a check costs the same with ten open cases or ten thousand.
func (e *Escalation) Check(ctx context.Context) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.m.now()
	last := e.last
	if !last.Before(now) {
		last = time.Time{} // the clock went back: as a first check
	}
	var (
		due             []reminder
		expired, trying []store.Case
		counts          store.OpenCounts
		err             error
	)
	if idx, ok := e.m.store.(store.CaseIndex); ok {
		due, expired, trying, counts, err = e.indexed(ctx, idx, last, now)
	} else {
		due, expired, trying, counts, err = e.scan(ctx, last, now)
	}
	if err != nil {
		return 0, fmt.Errorf("escalation: %w", err)
	}
	e.last = now
	var errs []error
	// The lockdowns whose time is up are lifted here: the check runs every
	// minute in one of the processes sharing the store.
	if _, err := e.m.LiftLocks(ctx); err != nil {
		errs = append(errs, err)
	}
	// So are the timed bans whose end is past, on the platforms whose bans
	// do not end by themselves.
	if _, err := e.m.LiftBans(ctx); err != nil {
		errs = append(errs, err)
	}
	// A case still being tried long after its actions' time was left so
	// by a vigie that stopped while acting on it: the CMs are told.
	for _, c := range trying {
		if err := e.m.stoppedTrying(ctx, c); err != nil {
			errs = append(errs, err)
		}
	}
	closed := 0
	for _, c := range expired {
		sctx, cancel := e.m.storeContext(ctx)
		decided, err := e.m.store.DecideCase(sctx, c.ID, store.OutcomeExpired, "vigie", "", now)
		cancel()
		switch {
		case err == nil:
			closed++
			if closed <= maxExpiredShown {
				e.m.ShowDecision(ctx, decided, "")
			}
		case !errors.Is(err, store.ErrDecided):
			errs = append(errs, fmt.Errorf("expire case %s: %w", c.ID, err))
		}
	}
	if closed > 0 {
		e.expired.Add(float64(closed))
		e.m.log.Info("cases open past their time to live closed as expired", "cases", closed, "ttl", e.o.TTL)
		if idx, ok := e.m.store.(store.CaseIndex); ok {
			if c, err := idx.OpenCounts(ctx); err == nil {
				counts = c
			}
		}
	}
	// A store answering from memory (Redis away) listed only the cases held
	// there: the gauges keep what they had.
	if !degraded(e.m.store) {
		e.setGauges(counts, now)
	}
	if e.m.desk == nil {
		return 0, errors.Join(errs...)
	}
	due, err = e.retried(ctx, due)
	if err != nil {
		errs = append(errs, err)
	}
	// high priority first, then oldest first
	slices.SortStableFunc(due, func(a, b reminder) int {
		if c := cmp.Compare(priorityRank(a.c.Priority), priorityRank(b.c.Priority)); c != 0 {
			return c
		}
		return cmp.Or(a.c.Opened.Compare(b.c.Opened), cmp.Compare(a.c.ID, b.c.ID))
	})
	n := 0
	for i, r := range due {
		c := r.c
		if ctx.Err() != nil {
			// A stop: the reminders not claimed yet are due at the next
			// start's first check; those claimed already are kept for it.
			for _, r := range due[i:] {
				if r.claimed {
					e.keep(ctx, r.c.ID, r.k)
				}
			}
			break
		}
		if !r.claimed && !e.claim(ctx, c, r.k, now) {
			continue
		}
		age := now.Sub(c.Opened)
		card := c
		card.Reason = fmt.Sprintf("⏰ waiting for %s: %s", bot.FormatDuration(age.Truncate(time.Minute)), c.Reason)
		// A reminder under way at a stop goes on for the post's grace,
		// as a case's card does (postCase): one whose answer was not read
		// would be kept, and posted again at the next start.
		if err := e.m.withPostGrace(ctx, func(ctx context.Context) error { return e.m.desk.PostCase(ctx, card) }); err != nil {
			errs = append(errs, fmt.Errorf("case %s: %w", c.ID, err))
			if !deskMayTakeLater(err) {
				continue // refused for good: it would be each minute
			}
			// Claimed, it would not be announced again before its next
			// reminder: the next check tries it again, any process's if
			// the store keeps it (a stop of this one does not lose it).
			if e.keep(ctx, c.ID, r.k) {
				continue
			}
			if e.undelivered == nil {
				e.undelivered = map[string]reminder{}
			}
			e.undelivered[c.ID] = reminder{c: c, k: r.k, claimed: true}
			continue
		}
		e.reannounced.Inc()
		n++
	}
	return n, errors.Join(errs...)
}

// deskMayTakeLater says a card the desk did not take may be taken at a
// later try: an outage (bot.Retryable), or a desk chat that refuses vigie
// itself or a token refused, which a member or the operator mends, and then
// every card is taken (ErrDeskChatRefused, ErrDeskTokenRefused).
func deskMayTakeLater(err error) bool {
	return bot.Retryable(err) || errors.Is(err, ErrDeskChatRefused) || errors.Is(err, ErrDeskTokenRefused)
}

// retried adds to due the reminders the desk did not take at an earlier
// check (this process's, or those the store keeps: any process's), read
// again from the store: a case decided since is dropped, and so is a
// reminder whose case has a later one in due (claimed like any other). A
// case the store could not read is kept for the next check.
func (e *Escalation) retried(ctx context.Context, due []reminder) ([]reminder, error) {
	var errs []error
	pending := e.undelivered
	e.undelivered = nil
	if rk, ok := e.m.store.(store.ReminderKeeper); ok {
		sctx, cancel := e.m.storeContext(ctx)
		kept, err := rk.TakeReminders(sctx)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("reminders not delivered, kept in the store: %w", err))
		}
		for id, k := range kept {
			if r, ok := pending[id]; ok && r.k >= k {
				continue
			}
			if pending == nil {
				pending = map[string]reminder{}
			}
			pending[id] = reminder{k: k, claimed: true}
		}
	}
	if len(pending) == 0 {
		return due, errors.Join(errs...)
	}
	later := make(map[string]int, len(due))
	for i, r := range due {
		later[r.c.ID] = i
	}
	for id, r := range pending {
		if i, ok := later[id]; ok {
			// The same reminder, due in this check's window (the first
			// check after a start reads all that are due): claimed already.
			if due[i].k == r.k {
				due[i].claimed = true
			}
			continue
		}
		sctx, cancel := e.m.storeContext(ctx)
		c, err := e.m.store.Case(sctx, id)
		cancel()
		switch {
		case errors.Is(err, store.ErrNotFound):
			continue
		case err != nil:
			if e.undelivered == nil {
				e.undelivered = map[string]reminder{}
			}
			e.undelivered[id] = r
			errs = append(errs, fmt.Errorf("case %s, its reminder not delivered: %w", id, err))
			continue
		case c.Status != store.CaseOpen:
			continue
		}
		r.c = c
		due = append(due, r)
	}
	return due, errors.Join(errs...)
}

func priorityRank(p string) int {
	if p == PriorityHigh {
		return 0
	}
	return 1
}

// setGauges sets the open cases' gauges, and the moderator's.
func (e *Escalation) setGauges(counts store.OpenCounts, now time.Time) {
	for _, p := range []string{PriorityHigh, PriorityNormal, PriorityLow} {
		e.byPriority.WithLabelValues(cmp.Or(p, "normal")).Set(float64(counts.ByPriority[p]))
	}
	var oldest time.Duration
	if !counts.Oldest.IsZero() {
		oldest = max(now.Sub(counts.Oldest), 0)
	}
	e.oldest.Set(oldest.Seconds())
	e.m.casesOpen.Set(float64(counts.Total()))
}

// indexed reads from the store's index the cases expired, the cases still
// being tried that reached tryingTooLong in [last, now) (on the first
// check, all of them), and the reminders due in [last, now): for each
// priority and each k, the cases opened in [last-due-k*Interval,
// now-due-k*Interval), k from 0 until the TTL.
func (e *Escalation) indexed(ctx context.Context, idx store.CaseIndex, last, now time.Time) ([]reminder, []store.Case, []store.Case, store.OpenCounts, error) {
	counts, err := idx.OpenCounts(ctx)
	if err != nil {
		return nil, nil, nil, counts, err
	}
	expiry := now.Add(-e.o.TTL)
	expired, err := idx.OpenedWithin(ctx, time.Time{}, expiry)
	if err != nil {
		return nil, nil, nil, counts, err
	}
	var trying []store.Case
	if !counts.Oldest.IsZero() {
		// the cases the previous check read end at last-tryingTooLong, included
		from := last.Add(-tryingTooLong).Add(1)
		if last.IsZero() || from.Before(expiry) {
			from = expiry
		}
		cs, err := idx.OpenedWithin(ctx, from, now.Add(-tryingTooLong).Add(1))
		if err != nil {
			return nil, nil, nil, counts, err
		}
		for _, c := range cs {
			if len(c.Trying) > 0 {
				trying = append(trying, c)
			}
		}
	}
	if e.m.desk == nil || counts.Oldest.IsZero() {
		return nil, expired, trying, counts, nil
	}
	var due []reminder
	seen := map[string]bool{}
	for _, p := range []string{PriorityHigh, PriorityNormal, PriorityLow} {
		d := e.due(p)
		for k := int64(0); ; k++ {
			shift := d + time.Duration(k)*e.o.Interval
			to := now.Add(-shift)
			if to.Before(counts.Oldest) || to.Before(expiry) {
				break
			}
			from := last.Add(-shift)
			if last.IsZero() {
				from = time.Time{} // the first check: every case due, at its latest reminder
			}
			if from.Before(expiry) {
				from = expiry
			}
			cs, err := idx.OpenedWithin(ctx, from, to)
			if err != nil {
				return nil, nil, nil, counts, err
			}
			for _, c := range cs {
				if c.Priority != p || seen[c.ID] {
					continue
				}
				seen[c.ID] = true
				nth := k
				if last.IsZero() {
					nth = e.lastReminder(c, now)
				}
				due = append(due, reminder{c: c, k: nth})
			}
			if last.IsZero() {
				break
			}
		}
	}
	slices.SortStableFunc(due, func(a, b reminder) int { return a.c.Opened.Compare(b.c.Opened) })
	return due, expired, trying, counts, nil
}

// lastReminder is the number of c's last reminder due before now, -1 for none.
func (e *Escalation) lastReminder(c store.Case, now time.Time) int64 {
	late := now.Sub(c.Opened) - e.due(c.Priority)
	if late <= 0 {
		return -1
	}
	return int64((late - 1) / e.o.Interval)
}

// scan is indexed for a store without an index: it reads every open case,
// and returns every case still being tried tryingTooLong after it opened
// (one not amended by a check is by the next).
func (e *Escalation) scan(ctx context.Context, last, now time.Time) ([]reminder, []store.Case, []store.Case, store.OpenCounts, error) {
	open, err := e.m.store.Cases(ctx, store.CaseOpen)
	counts := store.OpenCounts{ByPriority: map[string]int{}}
	if err != nil {
		return nil, nil, nil, counts, err
	}
	expiry := now.Add(-e.o.TTL)
	var due []reminder
	var expired, trying []store.Case
	for _, c := range open {
		if c.Opened.Before(expiry) {
			expired = append(expired, c)
			continue
		}
		if len(c.Trying) > 0 && !c.Opened.After(now.Add(-tryingTooLong)) {
			trying = append(trying, c)
		}
		counts.ByPriority[c.Priority]++
		if counts.Oldest.IsZero() || c.Opened.Before(counts.Oldest) {
			counts.Oldest = c.Opened
		}
		// as the index reads it: the last reminder due before now, and
		// since the last check
		k := e.lastReminder(c, now)
		if k < 0 {
			continue
		}
		if last.IsZero() || !c.Opened.Add(e.due(c.Priority)+time.Duration(k)*e.o.Interval).Before(last) {
			due = append(due, reminder{c: c, k: k})
		}
	}
	return due, expired, trying, counts, nil
}

// claim makes sure a case's k-th reminder is announced once, whichever of
// the instances sharing the store does it: the store's dedupe remembers it
// for an interval.
func (e *Escalation) claim(ctx context.Context, c store.Case, k int64, now time.Time) bool {
	res, err := e.m.store.Observe(ctx, store.Observation{At: now, Wall: true, Platform: "vigie", Space: "cases", Author: "escalation",
		EventID: fmt.Sprintf("remind:%s:%d", c.ID, k), DedupeTTL: e.o.Interval})
	if err != nil {
		return false // the next check tries again
	}
	return !res.Duplicate
}

// keep has the store keep the k-th reminder of case id, which the desk did
// not take, for the next check of any process (store.ReminderKeeper). It
// reports whether the store took it.
func (e *Escalation) keep(ctx context.Context, id string, k int64) bool {
	rk, ok := e.m.store.(store.ReminderKeeper)
	if !ok {
		return false
	}
	sctx, cancel := e.m.storeContext(ctx)
	defer cancel()
	return rk.KeepReminder(sctx, id, k) == nil
}
