package daemon

import (
	"context"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
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

// maxMemberJobs bounds the verdicts waiting in members' own lanes.
const maxMemberJobs = 1024

type memberLanes struct {
	run func(*job)
	// overflow makes a case of a verdict of a member whose lane is there
	// when the bound is reached: carried out in the place's lane, it would
	// pass the member's earlier ones.
	overflow func(*job)
	// hold tries the member's lock once (handlers.Moderator.HoldMember).
	hold func(ctx context.Context, ev bot.Event) (context.Context, func(), bool)
	log  *slog.Logger
	ctx  context.Context
	// guard recovers a panic in a verdict's carrying out, as the place's
	// lanes do: the member's lane goes on, the verdict kept in the journal.
	guard *guard.Guard

	mu      sync.Mutex
	lanes   map[string][]*job // by member (bot.MemberKey), the first one running
	jobs    int
	closed  bool
	full    bool // the bound was reached and said so, not yet left
	wg      sync.WaitGroup
	counted *prometheus.CounterVec
}

func newMemberLanes(ctx context.Context, run, overflow func(*job), hold func(context.Context, bot.Event) (context.Context, func(), bool), log *slog.Logger, g *guard.Guard) *memberLanes {
	ml := &memberLanes{run: run, overflow: overflow, hold: hold, log: log, guard: g, ctx: ctx, lanes: map[string][]*job{},
		counted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_busy_member_verdicts_total",
			Help: "Verdicts banning, kicking or timing out a member whose lock was held (another action of theirs under way), by where they were carried out: apart (in the member's own lane, the place's going on) or place (in the place's lane, waiting for the lock, because 1,024 such verdicts were waiting already), desk (made a case: the member's lane was there and full).",
		}, []string{"where"})}
	ml.counted.WithLabelValues("apart")
	ml.counted.WithLabelValues("place")
	ml.counted.WithLabelValues("desk")
	return ml
}

// take carries j out apart when its member is busy, or has a lane already,
// and reports whether it did (apart): the caller then leaves it, finished
// or not. Otherwise the caller carries it out in held, the work context
// holding the member's lock, taken here for its first action that asks for
// it (handlers.Moderator.HoldMember), and calls release once done. The
// lock is tried at once, not looked at first: a verdict of a member not
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
	if ml.queue(key, j) {
		return nil, nil, true
	}
	ml.mu.Unlock()
	held, release, busy := ml.hold(ml.ctx, j.ev)
	if !busy {
		// A lane made for the member while the lock was tried (another
		// place's verdict of theirs found it held) has its verdicts waiting
		// for it: this one goes behind them rather than before.
		ml.mu.Lock()
		if !ml.closed && ml.queue(key, j) {
			release() // for the lane's first verdict, which waits for it
			return nil, nil, true
		}
		ml.mu.Unlock()
		return held, release, false
	}
	ml.mu.Lock()
	if ml.closed || ml.jobs >= maxMemberJobs {
		ml.mu.Unlock()
		return nil, nil, ml.place(j)
	}
	c := *j
	if q, ok := ml.lanes[key]; ok {
		ml.lanes[key] = append(q, &c)
		ml.jobs++
		ml.mu.Unlock()
		ml.counted.WithLabelValues("apart").Inc()
		return nil, nil, true
	}
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
// has one, and then reports true with mu let go: the verdict is carried out
// apart, or made a case when the lanes are full. Without a lane it reports
// false, mu still held.
func (ml *memberLanes) queue(key string, j *job) bool {
	q, ok := ml.lanes[key]
	if !ok {
		return false
	}
	if ml.jobs >= maxMemberJobs {
		ml.mu.Unlock()
		// Carried out in the place's lane, it would pass the member's
		// verdicts before it: the CMs decide it from its case.
		ml.counted.WithLabelValues("desk").Inc()
		c := *j
		ml.overflow(&c)
		return true
	}
	c := *j
	ml.lanes[key] = append(q, &c)
	ml.jobs++
	ml.mu.Unlock()
	ml.counted.WithLabelValues("apart").Inc()
	return true
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
		ml.mu.Unlock()
	}
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
