package daemon

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/handlers"
)

// A verdict that bans, kicks or times out a member whose lock is held (a
// ban of theirs whose platform call hangs, a lift tried again while the
// platform is down, another instance's) would hold its place's lane for as
// long as it waits for the lock: up to 30 seconds a try, four tries, while
// the place's next events, a raid's, wait behind it. Such a verdict is
// carried out apart, in the member's own lane, and the place's lane goes
// on. The member's later verdicts that touch them go to the same lane
// while it runs, in their order: a later ban or timeout is never done
// before an earlier one. The verdict stays in the journal until carried
// out (finish), so a stop loses none: the next start carries it out again.
// The lanes are bounded (maxMemberJobs verdicts at once); past it, a
// verdict waits in its place's lane as before, counted and logged.
//
// One raider must not take all the room, nor keep their lane busy for
// hours when the platform's ban endpoint hangs and each verdict waits for
// its own attempt. A verdict of a member whose lane holds a ban already
// (one that lasts at least as long, for a ban) is folded: that ban removes
// them, so its ban, kick or timeout is dropped, and the rest (the
// message's delete, a warning, a strike, a case) is carried out at once in
// the place's lane, nothing of it waiting for the member's lock. And a
// member's lane holds at most maxMemberShare verdicts: past it, those that
// cannot be folded become cases, counted and logged once per lane.
//
// A folded verdict depends on the ban it was folded into: if that ban is
// not carried out in the end (the platform refuses it, its tries run out,
// a CM's decision overrules it), each verdict folded into it becomes a
// case of its own with the ban, kick or timeout it dropped, counted
// (unfolded) and logged, so that the CMs see every message and the member
// does not stay unseen.
//
// A stop must not lose what a fold dropped. A folded verdict's journal
// entry is not finished when the rest is carried out: it is written again
// holding only the ban, kick or timeout dropped (keepFolded), and finished
// once the ban that covers it is carried out, or once it is made a case.
// A process killed in between leaves it in the journal with the covering
// ban's own entry: the next one carries both out (a ban of a member
// banned already is found carried out), or makes cases of them, and does
// not delete or warn again: nor does it the covering ban's own delete,
// which its entry says was done (actApart, withoutDone).

// maxMemberJobs bounds the verdicts waiting in members' own lanes.
const maxMemberJobs = 1024

// maxMemberShare bounds the verdicts waiting in one member's lane.
const maxMemberShare = 16

// laneTold is what a member's lane logged once already.
type laneTold struct{ folded, full bool }

type memberLanes struct {
	run func(*job)
	// overflow makes a case of a verdict of a member whose lane is there
	// when the bound is reached: carried out in the place's lane, it would
	// pass the member's earlier ones.
	overflow func(*job)
	// unfold makes a case of a verdict folded into the ban of cover, which
	// was not carried out: j holds the actions the fold dropped.
	unfold func(j, cover *job)
	// covered finishes the journal entry of j, the actions a fold dropped,
	// kept (keepFolded) until the ban that covers them was carried out.
	covered func(j *job)
	// hold tries the lock of the member of key (bot.MemberKey, which is
	// store.BanKey) once (handlers.Moderator.HoldMemberKey).
	hold func(ctx context.Context, key string) (context.Context, func(), bool)
	log  *slog.Logger
	ctx  context.Context
	// guard recovers a panic in a verdict's carrying out, as the place's
	// lanes do: the member's lane goes on, the verdict kept in the journal.
	guard *guard.Guard

	mu     sync.Mutex
	lanes  map[string][]*job // by member (bot.MemberKey), the first one running
	jobs   int
	closed bool
	full   bool // the bound was reached and said so, not yet left
	// told keeps, by member, what their lane said once already: a fold,
	// its share used up.
	told map[string]laneTold
	// covers are the bans in members' lanes that verdicts were folded
	// into, or that were carried out (banned), by job.
	covers  map[*job]*cover
	wg      sync.WaitGroup
	counted *prometheus.CounterVec
}

// cover is what a ban waiting in a member's lane covers: the verdicts
// folded into it (their dropped actions), and whether it was carried out.
type cover struct {
	folded []*foldLink
	banned bool
}

// foldLink ties a verdict folded into a ban waiting in its member's lane
// to that ban: the folded verdict's job points to it (job.fold), and so
// does the ban's cover. Its mutex orders the folded verdict's end (its
// rest carried out, its entry kept holding dropped) and the ban's (carried
// out or not): whichever comes second settles the entry.
type foldLink struct {
	// dropped holds the ban, kick or timeout the fold dropped; journaled
	// once kept.
	dropped *job

	mu sync.Mutex
	// kept: the folded verdict's rest was carried out, and its journal
	// entry holds dropped now, for the ban's end to finish or make a case.
	kept bool
	// settled: the ban's end came (carried out or not).
	settled bool
}

func newMemberLanes(ctx context.Context, run, overflow func(*job), unfold func(j, cover *job), covered func(*job), hold func(context.Context, string) (context.Context, func(), bool), log *slog.Logger, g *guard.Guard) *memberLanes {
	ml := &memberLanes{run: run, overflow: overflow, unfold: unfold, covered: covered, hold: hold, log: log, guard: g, ctx: ctx, lanes: map[string][]*job{}, told: map[string]laneTold{},
		covers: map[*job]*cover{},
		counted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_busy_member_verdicts_total",
			Help: "Verdicts banning, kicking or timing out a member whose lock was held (another action of theirs under way), by where they were carried out: apart (in the member's own lane, the place's going on) or place (in the place's lane, waiting for the lock, because 1,024 such verdicts were waiting already), desk (made a case: the member's lane was there and full, all lanes' 1,024 or its own 16), folded (a ban waiting in the member's lane covers it: its ban, kick or timeout dropped, the rest carried out at once in the place's lane), unfolded (folded, and the ban that covered it was not carried out: its ban, kick or timeout made a case).",
		}, []string{"where"})}
	for _, where := range []string{"apart", "place", "desk", "folded", "unfolded"} {
		ml.counted.WithLabelValues(where)
	}
	return ml
}

// take carries j out apart when its member is busy, or has a lane already,
// and reports whether it did (apart): the caller then leaves it, finished
// or not. Otherwise the caller carries it out in held, the work context
// holding the member's lock, taken here for its first action that asks for
// it (handlers.Moderator.HoldMember), and calls release once done; or, when
// held is nil, as it is (a verdict folded into a ban waiting in the
// member's lane has its ban, kick and timeout dropped, and needs no lock).
// The lock is tried at once, not looked at first: a verdict of a member not
// busy costs the store one round trip for its lock, not two.
func (ml *memberLanes) take(j *job, locks bool) (held context.Context, release func(), apart bool) {
	if ml == nil || !locks {
		return nil, nil, false
	}
	key := bot.MemberKey(j.ev)
	ml.mu.Lock()
	if ml.closed {
		ml.mu.Unlock()
		return nil, nil, false
	}
	if apart, ok := ml.queue(key, j); ok {
		return nil, nil, apart
	}
	ml.mu.Unlock()
	held, release, busy := ml.hold(ml.ctx, key)
	if !busy {
		// A lane made for the member while the lock was tried (another
		// place's verdict of theirs found it held) has its verdicts waiting
		// for it: this one goes behind them rather than before, or is
		// folded into a ban waiting there.
		ml.mu.Lock()
		if !ml.closed {
			if apart, ok := ml.queue(key, j); ok {
				release() // for the lane's first verdict, which waits for it
				return nil, nil, apart
			}
		}
		ml.mu.Unlock()
		return held, release, false
	}
	ml.mu.Lock()
	if ml.closed || ml.jobs >= maxMemberJobs {
		ml.mu.Unlock()
		return nil, nil, ml.place(j)
	}
	if apart, ok := ml.queue(key, j); ok {
		return nil, nil, apart
	}
	c := *j
	ml.lanes[key] = []*job{&c}
	ml.jobs++
	if ml.jobs < maxMemberJobs/2 {
		ml.full = false
	}
	ml.wg.Add(1)
	ml.mu.Unlock()
	ml.counted.WithLabelValues("apart").Inc()
	ml.log.Info("the member is busy (another ban, kick or lift of theirs under way): their actions wait apart, the place's go on",
		"event", j.ev.Key(), "platform", j.ev.Platform, "space", j.ev.Space, "author", j.ev.Author.ID)
	go ml.serve(key)
	return nil, nil, true
}

// queue, called with mu held, puts j in its member's lane when the member
// has one, and then reports ok with mu let go: apart when j is carried out
// there, or made a case because the lanes or the member's share are full;
// not apart when a ban waiting there covers it (folded: the caller carries
// out the rest). Without a lane it reports not ok, mu still held.
func (ml *memberLanes) queue(key string, j *job) (apart, ok bool) {
	q, ok := ml.lanes[key]
	if !ok {
		return false, false
	}
	if c := covering(q, j); c != nil {
		return ml.fold(key, j, c), true
	}
	if ml.jobs >= maxMemberJobs || len(q) >= maxMemberShare {
		ml.shareFull(key, j, len(q) >= maxMemberShare)
		// Carried out in the place's lane, it would pass the member's
		// verdicts before it: the CMs decide it from its case.
		ml.counted.WithLabelValues("desk").Inc()
		c := *j
		ml.overflow(&c)
		return true, true
	}
	c := *j
	ml.lanes[key] = append(q, &c)
	ml.jobs++
	ml.mu.Unlock()
	ml.counted.WithLabelValues("apart").Inc()
	return true, true
}

// fold drops j's ban, kick and timeout, which the ban waiting in the
// member's lane in job c covers, and has the caller carry out the rest at
// once in the place's lane; what it dropped waits with c, to be made a
// case if c's ban is not carried out. Called with ml.mu held, which it
// lets go.
func (ml *memberLanes) fold(key string, j, c *job) bool {
	t := ml.told[key]
	first := !t.folded
	t.folded = true
	ml.told[key] = t
	cv := ml.covers[c]
	if cv == nil {
		cv = &cover{}
		ml.covers[c] = cv
	}
	if !cv.banned {
		// The verdict's own entry, once the rest is carried out, holds
		// dropped (keepFolded) until the ban's end settles it.
		l := &foldLink{dropped: &job{ev: j.ev, v: onlyMemberActions(j.v), queued: j.queued, rules: j.rules}}
		cv.folded = append(cv.folded, l)
		j.fold = l
	}
	ml.mu.Unlock()
	j.v = withoutMemberActions(j.v)
	ml.counted.WithLabelValues("folded").Inc()
	if first {
		ml.log.Info("the member's ban waits in their lane already: their next verdicts' bans, kicks and timeouts are folded into it, the rest carried out at once",
			"event", j.ev.Key(), "platform", j.ev.Platform, "space", j.ev.Space, "author", j.ev.Author.ID)
	}
	return false
}

// shareFull says once per lane that the member's share is used up (or
// all the lanes' room, when share is false). Called with ml.mu held,
// which it lets go.
func (ml *memberLanes) shareFull(key string, j *job, share bool) {
	t := ml.told[key]
	first := !t.full
	t.full = true
	ml.told[key] = t
	ml.mu.Unlock()
	if !first {
		return
	}
	if share {
		ml.log.Warn("too many verdicts wait in the busy member's lane: those no ban of theirs covers become cases",
			"event", j.ev.Key(), "platform", j.ev.Platform, "space", j.ev.Space, "author", j.ev.Author.ID, "waiting", maxMemberShare)
		return
	}
	ml.log.Warn("too many verdicts wait for busy members: this member's next ones become cases",
		"event", j.ev.Key(), "platform", j.ev.Platform, "space", j.ev.Space, "author", j.ev.Author.ID, "waiting", maxMemberJobs)
}

// covering returns the job whose ban, waiting (or under way) in the
// member's lane q, covers everything j would do to the member: a ban for
// good covers any ban, a timed ban a shorter one; any ban covers a kick
// or a timeout (a member banned is out; a timeout of theirs would find
// nobody). Nil when none does.
func covering(q []*job, j *job) *job {
	later, ok := memberActions(j.v)
	if !ok {
		return nil
	}
	for _, e := range q {
		if e == nil {
			continue
		}
		for _, a := range e.v.Actions() {
			if a.Kind != bot.ActBan {
				continue
			}
			if !later.ban || a.Duration == 0 || later.banFor != 0 && later.banFor <= a.Duration {
				return e
			}
		}
	}
	return nil
}

// banned tells the lanes that ev's verdict's ban was carried out (or
// found carried out already): when that verdict is the one running in its
// member's lane, the verdicts folded into its ban are covered for good.
func (ml *memberLanes) banned(ev *bot.Event) {
	if ml == nil {
		return
	}
	key := bot.MemberKey(*ev)
	ml.mu.Lock()
	defer ml.mu.Unlock()
	q := ml.lanes[key]
	if len(q) == 0 || q[0] == nil || q[0].ev.ID != ev.ID || q[0].ev.Platform != ev.Platform {
		return
	}
	cv := ml.covers[q[0]]
	if cv == nil {
		cv = &cover{}
		ml.covers[q[0]] = cv
	}
	cv.banned = true
}

// memberDo is what a verdict does to its member: whether it bans (and for
// how long at most, 0 for good).
type memberDo struct {
	ban    bool
	banFor time.Duration
}

// memberActions is what v does to its member; ok is false when it does
// nothing to them.
func memberActions(v bot.Verdict) (do memberDo, ok bool) {
	for _, a := range v.Actions() {
		switch {
		case a.Kind == bot.ActBan:
			ok = true
			if !do.ban || a.Duration == 0 || do.banFor != 0 && a.Duration > do.banFor {
				do.banFor = a.Duration
			}
			do.ban = true
		case handlers.LocksMember(bot.Verdict{Matches: []bot.Match{{Actions: []bot.Action{a}}}}):
			ok = true
		}
	}
	return do, ok
}

// onlyMemberActions is v with only its enforced actions that lock its
// member (ban, kick, timeout): what a fold drops of it.
func onlyMemberActions(v bot.Verdict) bot.Verdict {
	out := v
	out.Matches = make([]bot.Match, 0, len(v.Matches))
	for _, m := range v.Matches {
		if m.Shadow {
			continue
		}
		m.Actions = slices.DeleteFunc(slices.Clone(m.Actions), func(a bot.Action) bool {
			return !handlers.LocksMember(bot.Verdict{Matches: []bot.Match{{Actions: []bot.Action{a}}}})
		})
		if len(m.Actions) > 0 {
			out.Matches = append(out.Matches, m)
		}
	}
	return out
}

// withoutMemberActions is v without the enforced actions that lock its
// member (ban, kick, timeout).
func withoutMemberActions(v bot.Verdict) bot.Verdict {
	out := v
	out.Matches = make([]bot.Match, len(v.Matches))
	for i, m := range v.Matches {
		if !m.Shadow {
			m.Actions = slices.DeleteFunc(slices.Clone(m.Actions), func(a bot.Action) bool {
				return handlers.LocksMember(bot.Verdict{Matches: []bot.Match{{Actions: []bot.Action{a}}}})
			})
		}
		out.Matches[i] = m
	}
	return out
}

// place counts j carried out in its place's lane for the bound, and says
// so once until the lanes have room again. It returns false: the caller
// carries it out.
func (ml *memberLanes) place(j *job) bool {
	ml.counted.WithLabelValues("place").Inc()
	ml.mu.Lock()
	first := !ml.full
	ml.full = true
	ml.mu.Unlock()
	if first {
		ml.log.Warn("too many verdicts wait for busy members: this one waits in its place's lane, holding the place's next events",
			"event", j.ev.Key(), "waiting", maxMemberJobs)
	}
	return false
}

// serve carries out the member's verdicts in order, until none is left.
func (ml *memberLanes) serve(key string) {
	defer ml.wg.Done()
	for {
		ml.mu.Lock()
		q := ml.lanes[key]
		if len(q) == 0 {
			delete(ml.lanes, key)
			delete(ml.told, key)
			ml.mu.Unlock()
			return
		}
		j := q[0]
		ml.mu.Unlock()
		if !ml.guard.Do("member lane", func() { ml.run(j) }) {
			ml.log.Error("verdict not fully carried out after a panic; the member's lane goes on", "event", j.ev.Key())
		}
		ml.mu.Lock()
		q = ml.lanes[key]
		q[0] = nil
		ml.lanes[key] = q[1:]
		ml.jobs--
		cv := ml.covers[j]
		delete(ml.covers, j)
		ml.mu.Unlock()
		if cv != nil {
			for _, l := range cv.folded {
				ml.settle(l, j, cv.banned)
			}
		}
	}
}

// settle ends the fold of l into the ban of cover, once that ban's verdict
// ended: banned, the entry kept for l (if it was kept yet) is finished;
// otherwise what l dropped is made a case (and its entry finished with it).
// A verdict whose rest is not carried out yet finds l settled, and
// finishes its entry as any other.
func (ml *memberLanes) settle(l *foldLink, cover *job, banned bool) {
	l.mu.Lock()
	l.settled = true
	kept := l.kept
	l.mu.Unlock()
	if banned {
		if kept {
			ml.covered(l.dropped)
		}
		return
	}
	ml.counted.WithLabelValues("unfolded").Inc()
	ml.unfold(l.dropped, cover)
}

// close takes no more verdicts and waits, until ctx ends, for those taken.
// It reports whether they were all carried out; those left stay in the
// journal for the next start.
func (ml *memberLanes) close(ctx context.Context) bool {
	if ml == nil {
		return true
	}
	ml.mu.Lock()
	ml.closed = true
	ml.mu.Unlock()
	return wait(ctx, &ml.wg)
}
