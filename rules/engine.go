package rules

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/rules/text"
	"github.com/vigie-bot/vigie/store"
)

// engineState holds what an Engine reuses between events.
type engineState struct {
	scratch sync.Pool // *scratch
	log     *slog.Logger
	// failing marks the rules and counters whose expression failed once: a rule
	// that fails on every event (links[3] on a message without links) is logged
	// once, not once per message.
	failing []atomic.Bool
	// sums: the store keys counters by hash (store.SumKeyed), and the
	// counters' keys are sent as their sums, not as text
	sums bool
}

// scratch is one evaluation's working memory, pooled so that an event costs few
// allocations.
type scratch struct {
	st  evalState
	env exprEnv
	// analysis is the event's text analysed, reused from one event to the
	// next: nothing of it outlives an evaluation (what reaches the verdict or
	// the store is copied or, for the fingerprint, its own string)
	analysis text.Analysis
	counts   []int
	machine  vm.VM
	// keys is the buffer the counters' glued keys are written to, and
	// keySpans where each counter's is in it (engine.go).
	keys     []byte
	keySpans []keySpan
	ops      []store.CounterOp
	// matched marks the rules that matched, for the alerts' hit counters.
	matched []bool
	// matches gathers the verdict's matches before they are copied out, with
	// their actions and reasons, which spans place in actions and reasons.
	matches []bot.Match
	actions []bot.Action
	reasons []byte
	spans   []matchSpan
	// hits, base and buckets are the alerts' working memory (alerts.go).
	hits    []int
	base    []float64
	buckets bucketNames
	// alertEnv is what the alerts' conditions read for the event.
	alertEnv alertEnv
	// incr and incrIndex are the hit counters an event adds to (alerts.go);
	// alertMsgs the last message of each alert, written again only when it
	// reads otherwise (another space).
	incr      []store.CounterOp
	incrIndex []int
	// hitSpace is the key of the event's hit counters (alerts.go).
	hitSpace hitSpace
	// kept is the platform the event's counts, strikes and id are kept
	// under in the store: its own, or AssessApart's.
	kept      string
	alertMsgs []string
	// into lends the store the slices of the last event's counts and
	// strikes (store.Observation.Into).
	into store.Result
	// strikeRules are the rules whose strikes an event records.
	strikeRules []int
	// countMaps are the verdict's counter maps of the last few sets of
	// values, countNext the one to replace next (countersMap).
	countMaps [4]countMap
	countNext int
	// the last minute whose office hours were computed
	hoursMinute int64
	hoursAfter  bool
	hoursKnown  bool
}

func newEngine(rs *Ruleset, st store.Store, opts Options) *Engine {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	state := &engineState{log: log.With("rules", rs.File), failing: make([]atomic.Bool, len(rs.counters)+len(rs.rules)),
		sums: store.TakesSums(st)}
	state.scratch.New = func() any {
		return &scratch{
			machine: vm.VM{MemoryBudget: exprMemoryLimit},
			ops:     make([]store.CounterOp, len(rs.counters), len(rs.counters)+rs.alerts.opCount()),
			matched: make([]bool, len(rs.rules)),
		}
	}
	return &Engine{rs: rs, store: st, opts: opts, impl: state}
}

// Defaults of Options.Skew and Options.MaxAge.
const (
	DefaultSkew   = time.Minute
	DefaultMaxAge = 72 * time.Hour
)

// now is the time ev is judged at: its own, bounded by the clock when there is
// one; and seen, when the clock saw it (zero without a clock: a replay's clock
// is the events' own). The store remembers the event's id from seen: an event
// dated weeks ago is judged at the clock less MaxAge, which is as long ago as
// the store remembers ids, and from then its id would be forgotten at once.
func (e *Engine) now(ev *bot.Event) (now, seen time.Time) {
	if e.opts.Clock == nil {
		if !ev.At.IsZero() {
			return ev.At, time.Time{}
		}
		// Without a clock given (the daemon gives its own), the wall clock.
		return time.Now(), time.Time{}
	}
	seen = e.opts.Clock()
	return JudgedAt(ev.At, seen, e.opts.Skew, e.opts.MaxAge), seen
}

// JudgedAt is the time an event stamped at is judged at when the wall clock says
// now: at itself, unless it is missing or more than skew in the future (now), or
// more than maxAge in the past (now-maxAge). Zero skew and maxAge take the defaults.
func JudgedAt(at, now time.Time, skew, maxAge time.Duration) time.Time {
	if skew <= 0 {
		skew = DefaultSkew
	}
	if maxAge <= 0 {
		maxAge = DefaultMaxAge
	}
	switch {
	case at.IsZero() || at.After(now.Add(skew)):
		return now
	case at.Before(now.Add(-maxAge)):
		return now.Add(-maxAge)
	}
	return at
}

func (e *Engine) evaluate(ctx context.Context, ev bot.Event) (bot.Verdict, error) {
	a, err := e.assess(ctx, &ev)
	return a.Verdict, err
}

// Assess evaluates ev like Evaluate and also checks the alerts: section's
// conditions in the event's space: Alerts lists those that held. The hits the
// alerts count are recorded in the store whichever of the two is called.
func (e *Engine) Assess(ctx context.Context, ev bot.Event) (Assessment, error) {
	return e.assess(ctx, &ev)
}

// AssessApart is Assess for an event that may not speak for the members of
// its platform: one posted over HTTP about a platform whose own connector is
// on, which whoever holds the secret could have written in any member's
// name. What it counts (its counters, the strikes its rules give, its id
// for the duplicates, the alerts' hits) is kept in the store under apart
// instead of its platform, so that it neither adds to a member's strikes
// and counters nor sees them: a forged insult does not make the member's
// next real message a third strike. The rules still read its platform.
func (e *Engine) AssessApart(ctx context.Context, ev bot.Event, apart string) (Assessment, error) {
	return e.assessIn(ctx, &ev, apart)
}

// assess is Assess of *ev, which it reads and does not change: the event is
// not copied again for it.
func (e *Engine) assess(ctx context.Context, ev *bot.Event) (Assessment, error) {
	return e.assessIn(ctx, ev, ev.Platform)
}

// assessIn is assess, with what the event counts kept under the platform
// kept in the store.
func (e *Engine) assessIn(ctx context.Context, ev *bot.Event, kept string) (Assessment, error) {
	rs := e.rs
	now, seen := e.now(ev)
	s := e.impl.scratch.Get().(*scratch)
	defer e.impl.scratch.Put(s)
	s.kept = kept
	st := &s.st
	// office hours change on the minute: most events of a busy minute skip the
	// timezone arithmetic; a manual override is asked every time
	comm := rs.CommunityOf(ev.Platform, ev.Space)
	off := rs.offOutside
	if comm != nil {
		off = comm.off
	}
	if comm != nil && comm.ownHours {
		// a community's own office hours, unless the desk forced a mode; not
		// cached: the cache is the file's
		s.hoursAfter, s.hoursKnown = comm.schedule.afterHours(now), false
		if e.opts.Forced != nil {
			if after, forced := e.opts.Forced(now); forced {
				s.hoursAfter = after
			}
		}
	} else if e.opts.AfterHours != nil {
		s.hoursAfter, s.hoursKnown = e.opts.AfterHours(now), false
	} else if minute := now.Unix() / 60; !s.hoursKnown || s.hoursMinute != minute || now.Unix() < 0 {
		// the scratch keeps the minute: the schedule's own answer is for
		// the callers without one
		s.hoursAfter = rs.schedule.reckon(now.In(rs.schedule.loc))
		s.hoursMinute, s.hoursKnown = minute, true
	}
	if cap(s.counts) < len(rs.counters) {
		s.counts = make([]int, len(rs.counters))
	}
	counts := s.counts[:len(rs.counters)]
	clear(counts)
	// The closures read the environment in place. For the machine it is boxed,
	// once per event and only when an expression or a reason needs it, and
	// passed by value: the VM then reads its fields without copying each one to
	// the heap, as it must for an addressable struct. Counts and State are
	// shared with the box, so what is filled in later (counters, strikes, hits)
	// is seen through it.
	content := ev.Content()
	text.AnalyzeOwnedInto(&s.analysis, content, rs.owners)
	newEnv(&s.env, ev, content, &s.analysis, now, st, counts, s.hoursAfter)
	st.owners = rs.owners
	s.env.Community = rs.envDefault
	if comm != nil {
		s.env.Community = comm.env
	}
	defer func() { s.env = exprEnv{} }()
	var boxed any
	box := func() any {
		if boxed == nil {
			boxed = s.env
		}
		return boxed
	}

	var errs []RuleError // rare: allocated on the first failure
	ops := s.ops[:len(rs.counters)]
	keys, spans := s.keys[:0], s.keySpans[:0]
	sums := e.impl.sums
	if sums && rs.sumsNative {
		rs.sumOps(ops, &s.env)
	} else {
		for i := range rs.counters {
			c := &rs.counters[i] // not a copy of its dozen fields
			ops[i] = store.CounterOp{Name: c.name, Window: c.window}
			if c.key == nil {
				continue
			}
			switch {
			case sums && c.keySum != nil:
				ops[i].Sum, ops[i].Incr = c.keySum(&s.env, c.nameSum)
				ops[i].ByAuthor = c.byAuthor
			case c.keyApp != nil:
				// written into the buffer; the key string is made below, once
				// for all the counters
				lo := len(keys)
				keys = c.keyApp(&s.env, keys)
				spans = append(spans, keySpan{counter: i, lo: lo, hi: len(keys)})
				ops[i].Incr = len(keys) > lo
			case c.keyFn != nil:
				ops[i].Key = c.keyFn(&s.env)
				ops[i].Incr = ops[i].Key != ""
			default:
				st.built, st.turns = 0, 0
				key, err := s.machine.Run(c.key, box())
				if err != nil {
					errs = e.failed(errs, i, "counters."+c.name, c.keyAt, ev.ID, err)
					continue
				}
				ops[i].Key, _ = key.(string)
				ops[i].Incr = ops[i].Key != ""
			}
			if c.when != nil && ops[i].Incr {
				if c.whenFn != nil {
					ops[i].Incr = c.whenFn(&s.env)
					continue
				}
				st.built, st.turns = 0, 0
				ok, err := s.machine.Run(c.when, box())
				if err != nil {
					errs = e.failed(errs, i, "counters."+c.name, c.whenAt, ev.ID, err)
				}
				ops[i].Incr = err == nil && ok == true
			}
		}
	}
	if len(keys) > 0 {
		// One string holds all the glued keys of the event, each a slice of
		// it: one allocation instead of one per key. A store that keeps a
		// key (a new window) keeps the event's few hundred bytes of keys.
		all := string(keys)
		for _, sp := range spans {
			ops[sp.counter].Key = all[sp.lo:sp.hi]
		}
	}
	if cap(keys) > maxKeptKeys {
		keys = nil // a key glued from a long text is not kept for every event
	}
	s.keys, s.keySpans = keys, spans
	if rs.alerts != nil {
		var early []bool
		if rs.alerts.anyEarly {
			// the rules the early hit counters count, decided now: they read
			// neither counters nor strikes, and decide the same again below
			early = s.matched
			clear(early)
			for _, i := range rs.alerts.earlyRules {
				if rs.rules[i].applies(s.hoursAfter) && !off[i] {
					early[i] = rs.rules[i].whenFn(&s.env)
				}
			}
			st.hits = st.hits[:0]
		}
		s.hitSpace = e.alertSpace(st, ev.Space)
		ops = rs.alerts.alertOps(ops, s.hitSpace, now, &s.buckets, early)
	}
	obs := store.Observation{
		At: now, Platform: kept, Space: ev.Space, Author: ev.Author.ID,
		DedupeTTL: dedupeTTL, SeenAt: seen, Counters: ops, StrikeWindow: rs.strikeWindow,
		Pending: e.opts.Pending,
	}
	// the store dedupes on (Platform, EventID), which is Event.Key
	obs.EventID = ev.ID
	// the counts and strikes are read during the event only: the store
	// may write them into the last event's slices
	obs.Into = &s.into
	res, err := e.store.Observe(ctx, obs)
	if cap(res.Counts) > cap(s.into.Counts) {
		s.into.Counts = res.Counts[:0]
	}
	if cap(res.Strikes) > cap(s.into.Strikes) && cap(res.Strikes) <= maxKeptStrikes {
		s.into.Strikes = res.Strikes[:0]
	}
	if err != nil {
		st.reset()
		return Assessment{}, fmt.Errorf("observe event %s: %w", ev.ID, err)
	}
	v := bot.Verdict{EventID: ev.ID, Platform: ev.Platform, At: now, Matches: []bot.Match{}, Again: res.Again}
	if res.Duplicate {
		st.reset()
		v.Duplicate = true
		return Assessment{Verdict: v, Errors: errs}, nil
	}
	if len(rs.counters) > 0 {
		for i := range rs.counters {
			var n int64
			if i < len(res.Counts) {
				n = res.Counts[i]
			}
			counts[i] = int(n)
		}
		if !e.opts.NoCounterValues {
			v.Counters = s.countersMap(rs, counts)
		}
	}
	st.strikes = res.Strikes

	// the rules whose strikes are recorded after the verdict, in the
	// scratch: most events that match one match two
	strikeRules := s.strikeRules[:0]
	clear(s.matched)
	// empty already, unless a rule panicked half-way through the last event
	s.matches, s.actions, s.reasons, s.spans = s.matches[:0], s.actions[:0], s.reasons[:0], s.spans[:0]
	on := &rs.onOutside
	if comm != nil {
		on = &comm.on
	}
	after := 0
	if s.hoursAfter {
		after = 1
	}
	run := &on[after]
	for j := run.next(0, &s.env, st); j < len(run.rules); j = run.next(j+1, &s.env, st) {
		i := int(run.rules[j])
		r := &rs.rules[i]
		if run.when[j] == nil {
			st.hits = st.hits[:0]
			st.built, st.turns = 0, 0
			out, err := s.machine.Run(r.when, box())
			if err != nil {
				errs = e.failed(errs, len(rs.counters)+i, r.name, r.whenAt, ev.ID, err)
				continue
			}
			if out != true {
				continue
			}
		}
		// The actions and reasons of all the matches are gathered in the
		// scratch and copied out once, below: one allocation each for the
		// verdict instead of two per match.
		m := bot.Match{Rule: r.name, Category: r.category, Shadow: r.mode == ModeShadow}
		span := matchSpan{acts: len(s.actions), reason: len(s.reasons)}
		for _, a := range r.actions {
			act := a.expand(ev, r.name, e.opts.PlaceName)
			if act.Kind == bot.ActDelete && rs.hideComments && pageComment(ev) {
				act.Kind = bot.ActHide
			}
			s.actions = append(s.actions, act)
		}
		if !e.opts.NoReasons {
			s.reasons = explain(s.reasons, r, &s.env, box, st, &s.machine)
		}
		span.actsEnd, span.reasonEnd = len(s.actions), len(s.reasons)
		s.matched[i] = true
		office := r.officeForward && !s.hoursAfter && r.mode == ModeEnforce
		if office {
			m.Actions = officeActions(s.actions[span.acts:])
			s.actions = s.actions[:span.acts]
			span.acts, span.actsEnd = -1, -1
		}
		s.matches = append(s.matches, m)
		s.spans = append(s.spans, span)
		if r.strike && !office {
			// strikes() in later rules still counts the strikes from before this
			// event: a rule reads the store as it was when the event came in
			strikeRules = append(strikeRules, i)
		}
	}
	if len(s.matches) > 0 {
		// one allocation of the right size, not the doublings of append
		v.Matches = append(make([]bot.Match, 0, len(s.matches)), s.matches...)
		acts := append(make([]bot.Action, 0, len(s.actions)), s.actions...)
		reasons := string(s.reasons)
		for k, sp := range s.spans {
			if sp.acts >= 0 {
				// capped: a caller that appends to one match's actions
				// does not write over the next match's
				v.Matches[k].Actions = acts[sp.acts:sp.actsEnd:sp.actsEnd]
			}
			v.Matches[k].Reason = reasons[sp.reason:sp.reasonEnd]
		}
		clear(s.matches)
		clear(s.actions)
		s.matches, s.actions, s.reasons, s.spans = s.matches[:0], s.actions[:0], s.reasons[:0], s.spans[:0]
		if cap(s.reasons) > maxKeptKeys {
			s.reasons = nil // reasons quoting long words are not kept for every event
		}
	}
	st.reset()
	a := Assessment{Verdict: v, Errors: errs}
	if ev.ID != "" {
		a.Seen = store.SeenMark{Platform: kept, Space: ev.Space, Author: ev.Author.ID, ID: ev.ID, At: seen, TTL: dedupeTTL}
		if a.Seen.At.IsZero() {
			a.Seen.At = now
		}
	}
	if rs.alerts != nil {
		var read []int64
		if len(res.Counts) > len(rs.counters) {
			read = res.Counts[len(rs.counters):]
		}
		a.Alerts, a.Message = e.checkAlerts(ctx, s, ev, now, read, counts)
		if len(a.Alerts) > 0 && e.opts.NoAlertMessages {
			a.alerts, a.names = rs.alerts, e.opts.PlaceName
		}
		if len(a.Alerts) > 0 {
			a.Verdict.Matches = append(a.Verdict.Matches, rs.alerts.placeMatches(a.Alerts, ev, !e.opts.NoReasons, e.opts.PlaceName)...)
		}
	}
	s.strikeRules = strikeRules
	for _, i := range strikeRules {
		name := rs.rules[i].name
		if e.struckAlready(ctx, kept, *ev, name, now) {
			continue
		}
		err := e.store.AddStrike(ctx, store.Strike{
			Platform: kept, Space: ev.Space, Author: ev.Author.ID,
			At: now, Rule: name, TTL: rs.strikeTTL,
		})
		if err != nil {
			return a, fmt.Errorf("record strike of rule %s for event %s: %w", name, ev.ID, err)
		}
	}
	return a, nil
}

// countersMap returns a new map of the counters' values, counts, by name,
// for the verdict. Most events see one of a few sets of values (a first
// message: ones and zeros): the scratch keeps the maps of the last few
// sets, and a set seen again is a copy of its map (one copy of the map's
// slots), where filling a map hashes each name again.
func (s *scratch) countersMap(rs *Ruleset, counts []int) map[string]int64 {
	for k := range s.countMaps {
		c := &s.countMaps[k]
		if c.m != nil && slices.Equal(c.counts, counts) {
			return maps.Clone(c.m)
		}
	}
	m := make(map[string]int64, len(rs.counters))
	for i := range rs.counters {
		m[rs.counters[i].name] = int64(counts[i])
	}
	c := &s.countMaps[s.countNext]
	s.countNext = (s.countNext + 1) % len(s.countMaps)
	c.counts = append(c.counts[:0], counts...)
	c.m = maps.Clone(m)
	return m
}

// sumOps fills the counters' operations of the event in env, for a store
// that takes sums, when every key can be summed and every when: is a closure
// (sumsNative): the loop of assess does the same, with the other cases, but
// keeps more of its values to save and load again around each call.
func (rs *Ruleset) sumOps(ops []store.CounterOp, env *exprEnv) {
	for i := range rs.counters {
		c := &rs.counters[i]
		op := &ops[i]
		*op = store.CounterOp{Name: c.name, Window: c.window, ByAuthor: c.byAuthor}
		if c.key == nil {
			continue
		}
		op.Sum, op.Incr = c.keySum(env, c.nameSum)
		if op.Incr && c.whenFn != nil {
			op.Incr = c.whenFn(env)
		}
	}
}

// applies reports whether r applies at this hour (hours: after or office).
func (r *rule) applies(afterHours bool) bool {
	switch r.hours {
	case HoursAfter:
		return afterHours
	case HoursOffice:
		return !afterHours
	}
	return true
}

// failed records a run-time failure of counter or rule i (named name, its
// expression written at at): in the assessment's errors, to the RuleError
// hook, and in the log the first time only. The expression is then skipped for
// that event, the others still run.
func (e *Engine) failed(errs []RuleError, i int, name string, at pos, event string, err error) []RuleError {
	re := RuleError{Rule: name, Line: at.Line, Col: at.Col, Err: err}
	if e.opts.RuleError != nil {
		e.opts.RuleError(re)
	}
	// read before it is written: a rule that fails on every event would
	// otherwise write the flags' cache line from every core at every event
	if f := &e.impl.failing[i]; !f.Load() && !f.Swap(true) {
		e.impl.log.Warn("rule failed (logged once)", "rule", name, "event", event, "err", err)
	}
	return append(errs, re)
}

// maxKeptKeys is the largest key or reason buffer a scratch keeps for the
// next event.
const maxKeptKeys = 4 << 10

// maxKeptStrikes is the most strikes a scratch keeps room for: a repeat
// offender's hundred strikes are not kept for every event.
const maxKeptStrikes = 16

// matchSpan is where a match's actions and reason are in the scratch; acts
// is -1 when the match has actions of its own (office hours).
type matchSpan struct {
	acts, actsEnd     int
	reason, reasonEnd int
}

// countMap is a verdict's map of counter values kept for the next events
// that see the same values.
type countMap struct {
	counts []int
	m      map[string]int64
}

// keySpan is where counter's key is in the event's key buffer.
type keySpan struct {
	counter int
	lo, hi  int
}

// newEnv fills the environment from the event and the analysis of its
// content (ev.Content()).
func newEnv(env *exprEnv, ev *bot.Event, content string, a *text.Analysis, now time.Time, st *evalState, counts []int, afterHours bool) {
	st.text, st.analysis, st.now = content, a, now
	*env = exprEnv{
		Text:        ev.Text,
		Content:     content,
		Platform:    ev.Platform,
		Kind:        string(ev.Kind),
		Space:       ev.Space,
		Channel:     ev.Channel,
		Thread:      ev.Thread,
		ReplyTo:     ev.ReplyTo,
		Attachments: ev.Attachments,
		Files:       ev.Files,
		HiddenLinks: ev.HiddenLinks,
		Author: authorEnv{
			ID:         ev.Author.ID,
			Name:       ev.Author.Name,
			Username:   ev.Author.Username,
			Roles:      ev.Author.Roles,
			Staff:      ev.Author.Staff,
			Bot:        ev.Author.Bot,
			AccountAge: age(now, ev.Author.CreatedAt),
			MemberAge:  age(now, ev.Author.JoinedAt),
			Verified:   !ev.Author.Unverified,
		},
		Links:      a.Links,
		Domains:    a.Domains,
		Mentions:   a.Mentions,
		Emojis:     a.Emojis,
		Caps:       a.Caps,
		Counters:   counts,
		AfterHours: afterHours,
		State:      st,
		signalEnv:  signalsOf(a),
	}
	if f := ev.Forward; f != nil {
		env.Forwarded, env.Forward = true, forwardEnv{From: f.From, Text: f.Text}
	}
}

// reset drops the event's references, keeping the buffers for the next one.
func (st *evalState) reset() {
	clear(st.matched)
	*st = evalState{hits: st.hits[:0], matched: st.matched[:0], reason: st.reason[:0], spans: st.spans[:0],
		starts: st.starts[:0], scores: st.scores[:0], grams: st.grams,
		features: classify.Features{Words: st.features.Words[:0], Grams: st.features.Grams[:0], Whole: st.features.Whole[:0], Shape: st.features.Shape[:0]}}
}

// age is how long ago t was; zero when t is unknown. A t in the future (clocks
// disagree) counts as a brand new account, not an unknown one.
func age(now, t time.Time) time.Duration {
	if t.IsZero() {
		return 0
	}
	return max(now.Sub(t), time.Nanosecond)
}

// pageComment reports whether ev is a page comment or the edit of one: an
// edited comment is hidden as the comment would be, not deleted for good,
// while an edited Messenger or Instagram message is no comment.
func pageComment(ev *bot.Event) bool {
	switch ev.Kind {
	case bot.KindComment:
		return true
	case bot.KindEdit:
		// A message's edit is in its conversation, named by the sender
		// (bot/meta's InConversation).
		inConversation := ev.Channel != "" && ev.Channel == ev.Author.ID
		return (ev.Platform == "facebook" || ev.Platform == "instagram") && !inConversation
	}
	return false
}

// struckAlready claims the strike of rule for ev's message, and reports
// whether it was claimed already: the message was struck by the rule when
// it was first judged, or for an earlier edit. A store that keeps no calls,
// or does not answer, leaves the strike to be counted.
func (e *Engine) struckAlready(ctx context.Context, platform string, ev bot.Event, rule string, now time.Time) bool {
	if e.opts.MessageOf == nil {
		return false
	}
	ck, ok := e.store.(store.CallKeeper)
	if !ok {
		return false
	}
	msg := e.opts.MessageOf(ev)
	if msg == "" {
		return false
	}
	key := "struck " + platform + "|" + ev.Space + "|" + msg + " " + rule
	_, claimed, err := ck.ClaimCall(ctx, key, store.CallRecord{At: now, Done: true}, store.MessageCallKeep)
	if err != nil {
		switch {
		case e.opts.ClaimFailed != nil:
			e.opts.ClaimFailed("struck", ev.Key(), err)
		case e.opts.Logger != nil:
			e.opts.Logger.Warn("the store did not say whether the message was struck already: struck", "event", ev.Key(), "rule", rule, "err", err)
		}
		return false
	}
	return !claimed
}
