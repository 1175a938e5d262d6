package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/handlers"
)

// failingAfter is how many actions in a row must fail, on one platform, for
// it to be said failing: one failed action is a case for the desk, not an
// outage; one that failed for want of an answer (a 5xx, the network) was
// already tried four times by the retry stage, so three in a row are a
// dozen calls over several seconds. The first action carried out clears it.
const failingAfter = 3

// actionWatch follows, for each platform that carries out actions (the
// connector's name: meta for Facebook and Instagram), whether its actions
// keep failing, or are left as cases while the platform asks vigie to wait
// longer than the retry stage waits: the Health page, /-/ready's reasons and
// vigie_source_up say it.
type actionWatch struct {
	log *slog.Logger
	now func() time.Time
	// after is the timer of now's clock (Config.AfterFunc), set at the end
	// of each long rate limit.
	after func(time.Duration, func()) func() bool
	// ended is told, in a goroutine of its own, that the long rate limit of
	// a connector ended (its time is past, or an action was carried out):
	// the actions it left as cases are carried out then (limitEnded).
	ended func(name string)
	// connector names each platform's connector ("facebook": "meta").
	connector map[string]string
	// names are the connectors that act, sorted.
	names []string

	mu    sync.Mutex
	state map[string]*actionState
	// carried are the connectors that carried an action out since vigie
	// started: the first one tells ended too, for the cases a limit left
	// before a restart, or on an instance that stopped.
	carried map[string]bool
	// timers numbers the timers set (setTimer).
	timers uint64
}

// actionState is one platform's run of failed actions.
type actionState struct {
	failed int       // in a row
	since  time.Time // when the first of them failed
	err    error     // the last one's error
	// failing: failingAfter actions in a row failed, and none was carried
	// out since.
	failing bool
	// limitedUntil is when the platform's rate limit ends, as it last said,
	// when it asked to wait longer than the retry stage waits
	// (handlers.DefaultMaxWait): each action until then becomes a case at
	// once, and left counts them. An action carried out ends it sooner.
	limitedUntil time.Time
	left         int
	// answeredUntil is limitedUntil as the platform last answered it,
	// not counting the actions vigie held itself for a limit known
	// (meta.LimitHeld): whether the platform limits still.
	answeredUntil time.Time
	// stopTimer stops the timer set at limitedUntil; nil when none is set.
	// timer numbers it (actionWatch.timers): a timer that fires once
	// another replaced it does nothing.
	stopTimer func() bool
	timer     uint64
}

func newActionWatch(log *slog.Logger, now func() time.Time, after func(time.Duration, func()) func() bool, ended func(string), conns []Connector) *actionWatch {
	w := &actionWatch{log: log, now: now, after: after, ended: ended, connector: map[string]string{}, state: map[string]*actionState{}}
	for _, c := range conns {
		for _, p := range c.Platforms {
			w.connector[p.Name()] = c.Name
			if !slices.Contains(w.names, c.Name) {
				w.names = append(w.names, c.Name)
			}
		}
	}
	slices.Sort(w.names)
	return w
}

// record keeps the outcome of one action tried on platform (after its
// retries), as handlers.Options.Acted is told. As for a desk, only a failure
// that says the platform cannot be reached counts: the network, a 5xx, a
// refused token. Any other answer of the platform (the message is gone, no
// right to act in that channel, slow down) is the platform working, and
// clears the run as a success does. An action cut short by vigie itself
// (shutdown) says nothing.
func (w *actionWatch) record(ctx context.Context, platform string, err error) {
	name, ok := w.connector[platform]
	if !ok {
		return
	}
	if err != nil && ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stateOf(name)
	if wait, ok := longRateLimit(err); ok {
		now := w.now()
		if !now.Before(st.limitedUntil) {
			st.left = 0
			w.log.Warn("rate limited for longer than vigie waits: actions are left as cases until the limit ends",
				"platform", name, "until", now.Add(wait).UTC().Format(time.RFC3339), "err", err)
		}
		if until := now.Add(wait); until.After(st.limitedUntil) {
			st.limitedUntil = until
			w.setTimer(name, st, wait)
		}
		if until := now.Add(wait); !meta.LimitHeld(err) && until.After(st.answeredUntil) {
			st.answeredUntil = until
		}
		st.left++
		var he *meta.LimitHeldError
		if errors.As(err, &he) && !he.Until.IsZero() && !now.Before(he.Until) && w.ended != nil {
			// Held while the limit's time is past, which no one has
			// asked about yet (a vigie started after it): what it left
			// is carried out now, this action after it.
			go w.ended(name)
		}
	}
	if !unreachable(err) {
		if st.failing {
			w.log.Info("actions carried out again", "platform", name,
				"failing_since", st.since.UTC().Format(time.RFC3339), "failed_in_a_row", st.failed)
		}
		kept := *st
		*st = actionState{}
		if err != nil {
			// The platform answered, but did not carry the action out:
			// only a success, or the time, ends the rate limit.
			st.limitedUntil, st.left, st.stopTimer, st.timer = kept.limitedUntil, kept.left, kept.stopTimer, kept.timer
			st.answeredUntil = kept.answeredUntil
			return
		}
		left, stopTimer := kept.left, kept.stopTimer
		if stopTimer != nil {
			stopTimer()
		}
		first := !w.carried[name]
		if w.carried == nil {
			w.carried = map[string]bool{}
		}
		w.carried[name] = true
		if (left > 0 || first) && w.ended != nil {
			// Carried out before the limit's time is past: it ended.
			// The first since vigie started also ends a limit that
			// left cases before (a restart, another instance stopped).
			go w.ended(name)
		}
		return
	}
	if st.failed == 0 {
		st.since = w.now()
	}
	st.failed++
	st.err = err
	if st.failed >= failingAfter && !st.failing {
		st.failing = true
		w.log.Error("actions keep failing: nothing is removed on this platform until it answers again",
			"platform", name, "since", st.since.UTC().Format(time.RFC3339), "failed_in_a_row", st.failed, "err", err)
	}
}

// unreachable reports whether err says that a platform could not be reached:
// no answer, an answer worth retrying without a hint of when (a 5xx), or its
// token refused. A rate limit is the platform answering, with or without a
// hint.
func unreachable(err error) bool {
	if err == nil || rateLimited(err) {
		return false
	}
	if tokenRefused(err) {
		return true
	}
	var ae *bot.ActionError
	return !errors.As(err, &ae) || ae.Retryable && ae.RetryAfter == 0
}

// longRateLimit reports whether err is the platform asking vigie to wait
// longer than the retry stage waits (handlers.DefaultMaxWait), and how long:
// a Graph rate limit's Retry-After, a Telegram 429's retry_after, Discord's
// rate limit (whose error is not a discord.APIError).
func longRateLimit(err error) (time.Duration, bool) {
	var ae *bot.ActionError
	if err == nil || !errors.As(err, &ae) || !ae.Retryable || ae.RetryAfter <= handlers.DefaultMaxWait {
		return 0, false
	}
	return ae.RetryAfter, true
}

// setTimer sets, with w.mu held, the timer that ends st's long rate limit
// (of connector name) in wait, in place of the one set before: the actions
// it left as cases are carried out then, once, unless an action carried out
// ended it sooner.
func (w *actionWatch) setTimer(name string, st *actionState, wait time.Duration) {
	if w.after == nil || w.ended == nil {
		return
	}
	if st.stopTimer != nil {
		st.stopTimer()
	}
	w.timers++
	n := w.timers
	st.timer = n
	st.stopTimer = w.after(wait, func() {
		w.mu.Lock()
		if w.state[name] != st || st.timer != n {
			w.mu.Unlock()
			return
		}
		left := st.left
		st.limitedUntil, st.left, st.stopTimer, st.timer = time.Time{}, 0, nil, 0
		st.answeredUntil = time.Time{}
		w.mu.Unlock()
		if left > 0 {
			w.ended(name)
		}
	})
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// rateLimited reports whether err is a platform asking vigie to slow down (a
// 429, Graph's rate limit codes), or vigie holding a Telegram send back to
// keep within Telegram's limits.
func rateLimited(err error) bool {
	if telegram.Throttled(err) {
		return true
	}
	var te *telegram.APIError
	if errors.As(err, &te) {
		return te.Code == http.StatusTooManyRequests
	}
	var de *discord.APIError
	if errors.As(err, &de) {
		return de.Status == http.StatusTooManyRequests
	}
	var ge *meta.GraphError
	if errors.As(err, &ge) {
		return ge.RateLimited() || ge.Status == http.StatusTooManyRequests
	}
	return false
}

// stateOf is the connector name's state, made at its first use; w.mu is
// held.
func (w *actionWatch) stateOf(name string) *actionState {
	st := w.state[name]
	if st == nil {
		st = &actionState{}
		w.state[name] = st
	}
	return st
}

// limited reports whether the connector name is under a long rate limit
// now, as the platform answered it: its time not past, and no action
// carried out since. The actions vigie held itself for a limit known do
// not make it so: they wait for what the limit left.
func (w *actionWatch) limited(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state[name]
	return st != nil && w.now().Before(st.answeredUntil)
}

// limitsLeft are the connectors under a long rate limit now that left
// actions as cases, with how many and until when.
func (w *actionWatch) limitsLeft() []limitLeft {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []limitLeft
	now := w.now()
	for _, name := range w.names {
		if st := w.state[name]; st != nil && st.left > 0 && now.Before(st.limitedUntil) {
			out = append(out, limitLeft{name: name, left: st.left, until: st.limitedUntil})
		}
	}
	return out
}

// leftOver arms, for the connector name, the carrying out of n actions a
// long rate limit left as cases before this process started: in wait, or
// at the first action carried out there, whichever comes first. until,
// when not zero, is the limit's end as the platform knows it still
// (bot.LimitKnower): the limit is said until then, as it was before.
func (w *actionWatch) leftOver(name string, n int, wait time.Duration, until time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stateOf(name)
	if st.stopTimer != nil {
		return // a limit of this run's own: its end carries them out
	}
	st.left += n
	if until.After(st.limitedUntil) {
		st.limitedUntil, st.answeredUntil = until, until
	}
	if wait <= 0 && w.ended != nil {
		// The limit's end is past already: carried out now.
		go w.ended(name)
		return
	}
	w.setTimer(name, st, wait)
}

// limitLeft is a connector's long rate limit, and the actions it left as
// cases.
type limitLeft struct {
	name  string
	left  int
	until time.Time
}

// platformFailing reports whether the actions of the event platform (its
// connector's) keep failing.
func (w *actionWatch) platformFailing(platform string) bool {
	name, ok := w.connector[platform]
	return ok && w.failing(name)
}

// failing reports whether the actions of the connector name keep failing,
// or are left as cases for a rate limit that has not ended.
func (w *actionWatch) failing(name string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.state[name]
	return st != nil && (st.failing || w.now().Before(st.limitedUntil))
}

// problems are the platforms whose actions keep failing, sorted:
// "meta actions: failing since …, 3 in a row: …".
//
// They are reasons on /-/ready without making it answer 503. What a failing
// platform's actions would need is the platform back, not another instance:
// every instance calls the same API with the same token, so an outage of the
// Graph API (or Discord's, or Telegram's) fails them all alike, and a 503
// from each would only make the load balancer refuse Meta's deliveries (and
// Telegram's webhook updates), which vigie would then neither judge nor
// count, nor turn into cases for the desk to act on once the platform is
// back, while Meta retries them with a growing delay and may turn the
// subscription off. Trouble of one instance's own (its network) shows on
// that instance's vigie_source_up{part="actions"}.
func (w *actionWatch) problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	now := w.now()
	for name, st := range w.state {
		if st.failing {
			out = append(out, fmt.Sprintf("%s actions: failing since %s, %d in a row: %v",
				name, st.since.UTC().Format(time.RFC3339), st.failed, st.err))
		}
		if now.Before(st.limitedUntil) {
			cases := "actions left as cases"
			if st.left == 1 {
				cases = "action left as a case"
			}
			out = append(out, fmt.Sprintf("%s actions: rate limited until %s, %d %s",
				name, st.limitedUntil.UTC().Format("15:04 UTC"), st.left, cases))
		}
	}
	slices.Sort(out)
	return out
}
