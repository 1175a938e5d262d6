package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Meta counts every call made while it limits the Page or the app, and
// answers each with the limit again, which keeps it on: once a limit is
// known (a rate-limit answer whose wait is longer than the retry stage
// waits, or usage headers that say the next call would be refused), vigie
// sends nothing until its end. The actions meanwhile are held: each fails
// at once with a LimitHeldError, not sent, and becomes a case of the limit
// (handlers.LongLimitCause), carried out when it ends. Then one call, the
// first of the run that carries out what the limit left (bot.LateRun), asks
// Meta whether it is over (the probe): answered, that run goes first, in
// the order the comments came, and new actions wait as cases until it has
// finished, carried out after it. The limit, the probe and the run are
// kept in the store (Config.Answers): every instance on it knows the limit,
// one probes, and the next start finds it.

// longLimit is the longest wait of a rate limit that the retry stage waits
// out (handlers.DefaultMaxWait): an action Meta asks to wait longer is left
// as a case at once, which vigie carries out once the limit ends.
const longLimit = 30 * time.Second

// probeWait is how long one probe may be out before another may be sent,
// and how long an action waits, as a case, once the limit's time is past
// while the probe is out or what the limit left is being carried out (the
// run that does it carries it out too, if it is still running).
const probeWait = time.Minute

// unknownLimitWait is how long vigie waits before it asks again when Meta
// limits its calls without saying for how long: X-App-Usage at 100% (the
// app's calls are counted over a rolling hour) with neither Retry-After nor
// estimated_time_to_regain_access.
const unknownLimitWait = 10 * time.Minute

// limitKeep is how long the store keeps a limit past its end: the actions
// it left are not carried out later than handlers.LateBound.
const limitKeep = time.Hour

// The store's records of the limit (Config.Answers). limitKey's At is the
// limit's end; or, By limitDraining, when the run carrying out what it left
// last said it goes on (valid for probeWait); or, Done, when the limit was
// found over.
const (
	limitKey      = "limit"
	limitProbeKey = "limit probe"
	limitToldKey  = "limit told"
	limitDraining = "draining"
)

// LimitHeldError is an action vigie did not send because Meta limits its
// calls until Until: a call during the limit would make Meta keep it on.
type LimitHeldError struct {
	Until time.Time
	// Why is Meta's answer that started the limit, or what said it.
	Why string
}

func (e *LimitHeldError) Error() string {
	if e.Until.IsZero() {
		return "rate limited: not sent to Meta while the actions the limit left are carried out first"
	}
	s := "rate limited: not sent to Meta, which limits vigie's calls until " + e.Until.UTC().Format("15:04 UTC")
	if e.Why != "" {
		s += " (" + e.Why + ")"
	}
	return s + ", and would keep the limit on for a call sent during it"
}

// LimitHeld reports whether err is an action vigie held, unsent, for a
// limit known (LimitHeldError), rather than Meta's answer.
func LimitHeld(err error) bool {
	var he *LimitHeldError
	return errors.As(err, &he)
}

// limitView is what is known of the limit, here and in the store.
type limitView struct {
	until time.Time // its end; zero when none is known
	why   string
	// drain is this process's run carrying out what it left, once the
	// probe was answered; shared, another instance's (or this one's
	// before a restart) that said it goes on less than probeWait ago.
	drain  *bot.LateRun
	shared bool
}

// limitNow reads the limit known, merging the store's record into this
// process's: the later end wins; an end found over clears one not later.
func (g *graph) limitNow(ctx context.Context) limitView {
	var rec store.CallRecord
	var ok bool
	if g.answers != nil {
		sctx, cancel := context.WithTimeout(ctx, answersWait)
		var err error
		rec, ok, err = g.answers.Call(sctx, limitKey)
		cancel()
		if err != nil {
			g.answersFailed("read", err)
			ok = false
		}
	}
	now := g.now()
	g.limitMu.Lock()
	defer g.limitMu.Unlock()
	v := limitView{drain: g.draining}
	switch {
	case !ok:
	case rec.Done || rec.By == limitDraining:
		if !g.limitUntil.IsZero() && !g.limitUntil.After(rec.At) {
			g.limitUntil, g.limitWhy = time.Time{}, ""
		}
		v.shared = rec.By == limitDraining && now.Sub(rec.At) < probeWait
	default:
		g.limitUntil = later(g.limitUntil, rec.At)
	}
	v.until, v.why = g.limitUntil, g.limitWhy
	return v
}

// gate decides whether a call may be sent (nil), or is held for the limit
// known (a LimitHeldError, nothing sent). probe is true for the one call,
// of a run carrying out what the limit left, that asks whether it is over
// once its time is past; probed must follow it.
func (g *graph) gate(ctx context.Context, op bot.ActionKind) (probe bool, err error) {
	run := bot.LateRunOf(ctx)
	v := g.limitNow(ctx)
	now := g.now()
	switch {
	case run != nil && run == v.drain:
		g.keepDraining(ctx, now)
		return false, nil
	case v.until.IsZero():
		if v.drain != nil || v.shared {
			// What the limit left goes first.
			return false, g.hold(run, op, probeWait, limitView{})
		}
		return false, nil
	case now.Before(v.until):
		return false, g.hold(run, op, v.until.Sub(now), v)
	case run == nil || v.shared:
		// The limit's time is past: what it left asks, and goes first.
		return false, g.hold(run, op, probeWait, v)
	}
	if !g.claimProbe(ctx, run, now) {
		return false, g.hold(run, op, probeWait, v) // another call asks
	}
	g.limitMu.Lock()
	out := g.probeSent
	g.probeSent = true
	g.limitMu.Unlock()
	if out {
		// The run's probe is out still (Meta slow to answer it): its
		// next action waits for the answer, not sent beside it.
		return false, g.hold(run, op, probeWait, v)
	}
	return true, nil
}

// claimProbe claims for run the one call that asks Meta whether the limit
// is over, once its time is past: here, and in the store for the other
// instances. True when run holds it (already, or now).
func (g *graph) claimProbe(ctx context.Context, run *bot.LateRun, now time.Time) bool {
	g.limitMu.Lock()
	if g.probeRun == run {
		g.limitMu.Unlock()
		return true
	}
	if g.probeRun != nil || g.draining != nil {
		g.limitMu.Unlock()
		return false
	}
	g.probeRun = run
	until := g.limitUntil
	g.limitMu.Unlock()
	// A run whose decisions asked nothing of Meta (the comments removed
	// meanwhile) leaves the probe to the next.
	run.AfterFinish(func() {
		g.limitMu.Lock()
		if g.probeRun == run {
			g.probeRun = nil
		}
		g.limitMu.Unlock()
	})
	if g.answers != nil {
		sctx, cancel := context.WithTimeout(ctx, answersWait)
		// By names this claim alone: a claimer the store knows is given
		// the record again, and this process's probe of the limit's
		// last end is not this one.
		by := g.id + "-" + strconv.FormatInt(now.UnixMilli(), 36)
		_, first, err := g.answers.ClaimCall(sctx, limitProbeKey, store.CallRecord{At: now, By: by}, probeWait)
		cancel()
		if err != nil {
			g.answersFailed("write", err)
		} else if !first {
			g.probed(ctx)
			return false // another instance asks
		}
	}
	g.log.Info("the rate limit's time is past: one call asks Meta whether it is over", "until", until.UTC().Format(time.RFC3339))
	return true
}

// probed ends the probe sent (gate), or claimed and not sent.
func (g *graph) probed(context.Context) {
	g.limitMu.Lock()
	g.probeRun, g.probeSent = nil, false
	g.limitMu.Unlock()
}

// hold is the error of a call held for the limit v (for wait), which
// stops run (it carries out what the limit left) before its next action.
func (g *graph) hold(run *bot.LateRun, op bot.ActionKind, wait time.Duration, v limitView) error {
	if run != nil {
		run.MarkLimited()
	}
	// In whole seconds, up: the case says how long, as Meta's answer did.
	wait = (wait + time.Second - 1).Truncate(time.Second)
	return &bot.ActionError{Op: op, Retryable: true, RetryAfter: wait, Err: &LimitHeldError{Until: v.until, Why: v.why}}
}

// keepDraining tells the store, at most every half probeWait, that this
// process's run still carries out what the limit left: the others' new
// actions wait for it meanwhile, and not longer if this process stops.
func (g *graph) keepDraining(ctx context.Context, now time.Time) {
	if g.answers == nil {
		return
	}
	g.limitMu.Lock()
	due := now.Sub(g.drainSaid) >= probeWait/2
	if due {
		g.drainSaid = now
	}
	g.limitMu.Unlock()
	if due {
		g.keepLimit(ctx, store.CallRecord{At: now, By: limitDraining}, probeWait)
	}
}

// keepLimit writes the store's record of the limit.
func (g *graph) keepLimit(ctx context.Context, r store.CallRecord, ttl time.Duration) {
	if g.answers == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), answersWait)
	defer cancel()
	if err := g.answers.KeepCall(sctx, limitKey, r, ttl); err != nil {
		g.answersFailed("write", err)
	}
}

// limitLifted records that Meta answered the probe, not with a limit: the
// limit is over. The run that sent it carries out what the limit left;
// new actions wait for its end.
func (g *graph) limitLifted(ctx context.Context) {
	run := bot.LateRunOf(ctx)
	now := g.now()
	g.limitMu.Lock()
	until := g.limitUntil
	g.limitUntil, g.limitWhy = time.Time{}, ""
	if run != nil {
		g.draining, g.drainSaid = run, now
	}
	g.limitMu.Unlock()
	g.log.Info("Meta takes vigie's calls again: the rate limit is over; what it left is carried out first, in order", "until", until.UTC().Format(time.RFC3339))
	if run == nil {
		g.keepLimit(ctx, store.CallRecord{At: now, Done: true}, limitKeep)
		return
	}
	g.keepLimit(ctx, store.CallRecord{At: now, By: limitDraining}, probeWait)
	run.AfterFinish(func() { g.drained(run) })
}

// drained records that run, which carried out what the limit left, has
// finished: new actions are sent again, on every instance.
func (g *graph) drained(run *bot.LateRun) {
	now := g.now()
	g.limitMu.Lock()
	if g.draining == run {
		g.draining = nil
	}
	over := g.limitUntil.IsZero()
	g.limitMu.Unlock()
	if over {
		g.keepLimit(context.Background(), store.CallRecord{At: now, Done: true}, limitKeep)
	}
}

// limitSeen records that Meta limits vigie's calls, as err (classify's)
// says: a wait longer than the retry stage waits makes it a limit known
// (limitKnown). probe: the call asked whether a limit known was over.
func (g *graph) limitSeen(ctx context.Context, err error, ge *GraphError, probe bool) {
	var ae *bot.ActionError
	if !errors.As(err, &ae) || ae.RetryAfter <= longLimit {
		return
	}
	if run := bot.LateRunOf(ctx); run != nil {
		run.MarkLimited()
	}
	g.limitKnown(ctx, ae.RetryAfter, fmt.Sprintf("code %d: %s", ge.Code, ge.Message), probe)
}

// limitKnown records that Meta limits vigie's calls for wait (why says
// what said so), here and in the store, and tells of it (limited) when no
// limit was known that lasts still: once a limit, for the instances on the
// store. A limit found on by its probe goes on: it is not told again.
func (g *graph) limitKnown(ctx context.Context, wait time.Duration, why string, probe bool) {
	now := g.now()
	until := now.Add(wait)
	g.limitNow(ctx) // the store's limit, known to this process too
	g.limitMu.Lock()
	lasting := now.Before(g.limitUntil)
	g.limitUntil = later(g.limitUntil, until)
	if !lasting || g.limitWhy == "" {
		g.limitWhy = why
	}
	until = g.limitUntil
	g.limitMu.Unlock()
	g.keepLimit(ctx, store.CallRecord{At: until}, until.Sub(now)+limitKeep)
	if lasting || probe || g.limited == nil {
		return
	}
	if g.answers != nil {
		sctx, cancel := context.WithTimeout(context.Background(), answersWait)
		_, first, err := g.answers.ClaimCall(sctx, limitToldKey, store.CallRecord{At: now}, wait)
		cancel()
		if err == nil && !first {
			return // another instance told it
		}
	}
	g.log.Warn("Meta limits vigie's calls for longer than vigie waits: nothing is sent until the limit ends; the actions wait, and are carried out then, in order",
		"until", until.UTC().Format(time.RFC3339), "wait", wait.String(), "why", why)
	g.limited(until, wait, why)
}

// LimitUntil is bot.LimitKnower's: until when the run carrying out what
// the limit left (ctx's, if any) should not start, as this process or the
// store knows it, and false when nothing holds it: the end of the limit;
// or, while another call asks Meta whether it is over, or another instance
// carries out what it left, probeWait from now. Without a run, the end
// may be past: a vigie started after it carries out what it left at once.
// With one, once the end is past, the run is given the call that asks
// (the probe), unless another has it.
func (g *graph) LimitUntil(ctx context.Context) (time.Time, bool) {
	run := bot.LateRunOf(ctx)
	v := g.limitNow(ctx)
	now := g.now()
	switch {
	case run != nil && run == v.drain:
		return time.Time{}, false
	case !v.until.IsZero() && now.Before(v.until):
		return v.until, true
	case v.shared:
		return now.Add(probeWait), true
	case v.until.IsZero():
		return time.Time{}, false
	case run == nil:
		return v.until, true
	case !g.claimProbe(ctx, run, now):
		return now.Add(probeWait), true
	}
	return time.Time{}, false
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// usageLimit is how long the usage headers of an answer Meta carried out
// say the next calls would be refused: the largest
// estimated_time_to_regain_access of a use case at 100%, or
// unknownLimitWait for X-App-Usage or X-Page-Usage at 100%; zero when they
// are below.
func usageLimit(h http.Header) time.Duration {
	var wait time.Duration
	for _, u := range bucUsage(h) {
		if d := time.Duration(u.Regain) * time.Minute; u.peak() >= 100 && d > wait {
			wait = d
		}
	}
	if wait == 0 && platformUsageFull(h) {
		wait = unknownLimitWait
	}
	return wait
}

// platformUsageHeaders are Meta's platform rate limits' headers: the app's
// calls (X-App-Usage), and the Page's, for calls made with its token
// (X-Page-Usage), each {"call_count", "total_cputime", "total_time"} in
// percent of the limit, counted over a rolling window Meta does not say the
// end of.
var platformUsageHeaders = [...]string{"X-App-Usage", "X-Page-Usage"}

// platformUsageFull reports whether X-App-Usage or X-Page-Usage says the
// calls are at their limit: a percentage at 100.
func platformUsageFull(h http.Header) bool {
	for _, name := range platformUsageHeaders {
		if u, ok := platformUsage(h, name); ok && u.peak() >= 100 {
			return true
		}
	}
	return false
}

// platformUsage reads the platform usage header name.
func platformUsage(h http.Header, name string) (usage, bool) {
	v := h.Get(name)
	if v == "" {
		return usage{}, false
	}
	var u usage
	return u, json.Unmarshal([]byte(v), &u) == nil
}

// usageText is what the usage headers said, for the desk and the log.
func usageText(h http.Header) string {
	if v := h.Get("X-Business-Use-Case-Usage"); v != "" {
		return "X-Business-Use-Case-Usage " + v
	}
	for _, name := range platformUsageHeaders {
		if u, ok := platformUsage(h, name); ok && u.peak() >= 100 {
			return name + " " + h.Get(name)
		}
	}
	return "X-App-Usage " + h.Get("X-App-Usage")
}

var (
	_ bot.LimitKnower = (*FacebookPage)(nil)
	_ bot.LimitKnower = (*InstagramAccount)(nil)
)

// LimitUntil is bot.LimitKnower's: the Page and the Instagram account share
// the app's calls, and their limit.
func (p *FacebookPage) LimitUntil(ctx context.Context) (time.Time, bool) { return p.g.LimitUntil(ctx) }

// LimitUntil is bot.LimitKnower's.
func (a *InstagramAccount) LimitUntil(ctx context.Context) (time.Time, bool) {
	return a.g.LimitUntil(ctx)
}
