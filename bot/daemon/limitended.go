package daemon

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// When a platform asks vigie to wait longer than the retry stage waits, each
// action behind the limit is left as a case at once (failureCause), and the
// cases of one place share a card; on Meta, whose actions wait out the limit
// (handlers.Options.LimitWaits), their cards are held, and the desk is told
// of the limit once. When the limit ends (its time is past, or an action on
// the platform was carried out, or the first one after vigie started), vigie
// carries out those cases' actions that are still right late, in the order
// the messages came, as a decision of its own (handlers.LateDecider), the
// way a CM's press would: a message's delete or hide, a member's ban or
// kick, what a scam wave's verdicts ask, and a public answer (a rule's, the
// FAQ's) within handlers.LateBound of its question. Decided so, a case is
// carried out once whoever comes first (a CM's press, another instance whose
// limit ended too: the case's decision and the claim of its carrying out are
// the store's), and its cards say how it ended. A timeout or a warning
// carried out an hour after the message would punish out of its moment:
// those cases stay open for a CM, and so does a case whose actions are more
// than one (a decision is one action), or that a CM decided. The cases
// Meta's refused page token left (handlers.PageTokenCause) are carried out
// the same way once Meta takes a token again (tokenTaken; those left
// before vigie started, as a limit's are: resumeLimits).

// limitRuns tracks the carryings out of what long rate limits left
// (limitEnded), which run on the daemon's timers: the stop waits for those
// under way, and none starts once it began.
type limitRuns struct {
	mu      sync.Mutex
	stopped bool
	wg      sync.WaitGroup
}

// start counts one run in; false once the stop began.
func (r *limitRuns) start() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return false
	}
	r.wg.Add(1)
	return true
}

func (r *limitRuns) stopping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// stopLimits ends the carryings out of what long rate limits left: none
// starts any more, and those under way stop before their next case; it
// waits for them until ctx ends, and reports whether they ended. The limits
// not over yet are logged with the cases they left, which stay open for a
// CM, or for the next start to carry out (resumeLimits).
func (d *daemon) stopLimits(ctx context.Context) bool {
	d.limits.mu.Lock()
	d.limits.stopped = true
	d.limits.mu.Unlock()
	done := make(chan struct{})
	go func() { d.limits.wg.Wait(); close(done) }()
	ended := true
	select {
	case <-done:
	case <-ctx.Done():
		ended = false
	}
	if d.actions != nil {
		for _, l := range d.actions.limitsLeft() {
			d.log.Warn("stopping while rate limited: the actions the limit left as cases stay open; the next start carries out those still right late once the platform takes actions again, or a CM decides them",
				"platform", l.name, "cases", l.left, "until", l.until.UTC().Format(time.RFC3339))
		}
	}
	return ended
}

// limitEnded carries out the actions that the long rate limit of connector
// name left as cases, where still right (handlers.LateOutcome), once it
// ended, and those Meta's page token refused left (handlers.LateCause),
// which an action carried out shows taken again. A limit found
// on again (the platform asked to wait again, at the first of them) stops
// it: the rest stay open, for the limit's next end, rather than each
// become a new case. It does nothing once the stop began, and stops before
// its next case when it begins.
func (d *daemon) limitEnded(name string) { d.lateRun(name, "rate limit ended") }

// tokenTaken is limitEnded when Meta takes the page token again
// (meta.Connector.OnTokenTaken): a token renewed in the night, the cases
// its expiry left are carried out then, not each left to a CM.
func (d *daemon) tokenTaken(name string) { d.lateRun(name, "page token taken again") }

// lateRun carries out what limitEnded does; ended says, in the log, what
// ended.
func (d *daemon) lateRun(name, ended string) {
	ctx := d.workCtx
	if ctx == nil || ctx.Err() != nil || !d.limits.start() {
		return
	}
	// One at a time: a limit's end and the first action carried out after
	// it may both say it ended, and the second must find the cases decided,
	// not carry them out beside the first, out of their order.
	d.limitEndMu.Lock()
	defer d.limitEndMu.Unlock()
	defer d.limits.wg.Done()
	// The run's decisions are told from new actions (bot.LateRun): on a
	// platform that holds its calls for a limit known (Meta), the first
	// asks whether the limit is over, and new actions wait for the run's
	// end, which carries them out after those that waited, if they came
	// while it ran.
	run := bot.NewLateRun()
	defer run.Finish()
	ctx = bot.WithLateRun(ctx, run)
	tried := map[string]bool{}
	carried, left, again := 0, 0, 0
	// held is when the platform says it still holds the run's calls (a
	// limit known not over, another instance asking whether it is, or
	// carrying out what it left): the rest wait for then, not each tried
	// and left as a case again.
	var held time.Time
	slow, refused := false, false
	for pass := true; pass; {
		pass = false
		open, err := d.store.Cases(ctx, store.CaseOpen)
		if err != nil {
			d.log.Warn(ended+", but the cases left were not read: a CM decides them from the queue", "platform", name, "err", err)
			return
		}
		// In the order the messages came: an answer after the question's
		// hide, a wave's scams in turn.
		slices.SortStableFunc(open, func(a, b store.Case) int {
			return cmp.Or(a.Event.At.Compare(b.Event.At), a.Opened.Compare(b.Opened))
		})
		for _, c := range open {
			if tried[c.ID] || !handlers.LateCause(c.Cause) || d.actions.connector[c.Event.Platform] != name || c.Outcome != "" {
				continue
			}
			tried[c.ID] = true
			outcome, ok := handlers.LateOutcome(c, d.now())
			if !ok {
				left++
				continue
			}
			if slow || again > 0 || run.Limited() || d.actions.limited(name) {
				again++
				continue
			}
			if until := d.limitUntil(ctx, name); d.now().Before(until) {
				held = until
				again++
				continue
			}
			if ctx.Err() != nil || d.limits.stopping() {
				d.log.Info("stopping: the cases a rate limit left that are not carried out yet stay open", "platform", name)
				return
			}
			// Cases opened while this pass ran (new actions held for
			// it) are read again once it is done.
			pass = true
			if _, err := d.mod.Decide(ctx, c.ID, outcome, handlers.LateDecider); err != nil {
				if errors.Is(err, store.ErrDecided) {
					continue // a CM, or another instance, came first
				}
				if errors.Is(err, bot.ErrStillTrying) {
					// The platform is slow to answer: the rest wait for
					// its answer (carried out, it ends the limit again).
					slow = true
					again++
					continue
				}
				if tokenRefused(err) {
					// Refused again: the rest wait for the platform to
					// take a token (tokenTaken), not each tried and left
					// as a case again.
					refused = true
					again++
					continue
				}
				d.log.Warn(ended+": a case left not carried out", "platform", name, "case", c.ID, "outcome", outcome, "err", err)
				continue
			}
			if !run.Limited() {
				carried++
			}
		}
	}
	if !held.IsZero() {
		d.log.Info("rate limit not over, as the platform knows it: the cases it left wait for its end",
			"platform", name, "carried_out", carried, "waiting", again, "until", held.UTC().Format(time.RFC3339))
		d.actions.leftOver(name, again, held.Sub(d.now()), held)
	} else if slow {
		d.log.Warn("rate limit ended, but the platform is slow to answer: the cases it left wait for its answer",
			"platform", name, "carried_out", carried, "waiting", again)
		d.actions.leftOver(name, again, limitResumeWait, time.Time{})
	} else if refused {
		d.log.Warn(ended+", but the platform refuses vigie's token again: the cases left wait for it to take one",
			"platform", name, "carried_out", carried, "waiting", again)
	} else if again > 0 || run.Limited() {
		d.log.Warn("rate limit not over: the platform asked to wait again; the cases it left wait for its next end",
			"platform", name, "carried_out", carried, "waiting", again)
	}
	if carried > 0 || left > 0 {
		d.log.Info(ended+": the actions it left as cases carried out, those still right late; the rest wait for a CM",
			"platform", name, "carried_out", carried, "left_to_cms", left)
	}
}

// limitResumeWait is how long after its start a vigie carries out what a
// long rate limit left as cases before it started (resumeLimits), unless
// an action carried out on the platform tells sooner that it takes them.
const limitResumeWait = time.Minute

// resumeLimits finds, once at start, the cases a long rate limit left open
// before this process started (a stop during the limit's wait, or the
// process that saw it killed), and arms their carrying out as that
// process's timer would have (limitEnded): limitResumeWait after the start,
// or at the first action the platform carries out. A limit still on makes
// the first of them a case again, and the rest wait for its end.
func (d *daemon) resumeLimits(ctx context.Context) {
	open, err := d.store.Cases(ctx, store.CaseOpen)
	if err != nil {
		if ctx.Err() == nil {
			d.log.Warn("the cases a rate limit left before the start were not read: a CM decides them from the queue", "err", err)
		}
		return
	}
	left := map[string]int{}
	for _, c := range open {
		if !handlers.LateCause(c.Cause) || c.Outcome != "" {
			continue
		}
		if _, ok := handlers.LateOutcome(c, d.now()); !ok {
			continue
		}
		if name, ok := d.actions.connector[c.Event.Platform]; ok {
			left[name]++
		}
	}
	for _, name := range d.actions.names {
		n := left[name]
		if n == 0 {
			continue
		}
		// A platform that knows the limit still (Meta's, kept in the
		// store) is asked nothing before its end: a call during it
		// would keep it on.
		wait, until := limitResumeWait, d.limitUntil(ctx, name)
		if !until.IsZero() {
			wait = max(until.Sub(d.now()), 0)
		}
		d.log.Info("cases a rate limit left before the start: carried out once the platform takes actions again, those still right late",
			"platform", name, "cases", n, "within", bot.FormatDuration(wait))
		d.actions.leftOver(name, n, wait, until)
	}
}

// limitUntil is the end of the long rate limit the connector name's
// platforms know (bot.LimitKnower), zero when none is known.
func (d *daemon) limitUntil(ctx context.Context, name string) time.Time {
	for _, c := range d.conns {
		if c.Name != name {
			continue
		}
		for _, p := range c.Platforms {
			if lk, ok := p.(bot.LimitKnower); ok {
				if until, ok := lk.LimitUntil(ctx); ok {
					return until
				}
			}
		}
	}
	return time.Time{}
}
