package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// ErrUnavailable is returned for what only Redis knows (a case opened before it
// went away) while it is unreachable.
var ErrUnavailable = errors.New("redis unavailable")

// FallbackOptions tune a Fallback; zero values take the defaults.
type FallbackOptions struct {
	Logger *slog.Logger
	// MaxAudit and MaxCases bound what is buffered while Redis is away (as
	// many cases as the open cases' cap of primary, WithOpenCaseCap, 10,000
	// by default; twice that of audit entries and journal removals, 10,000
	// at least); beyond, new entries are
	// dropped and counted, and a new case is refused with store.ErrCaseCap.
	MaxAudit int
	MaxCases int
	// RetryEvery is how often Redis is pinged while it is away (1s).
	RetryEvery time.Duration
	// EventTimeout bounds how long an event waits for Redis (1s): its
	// observation (dedupe, counters, strikes), the cases it opens and the
	// Telegram poller's offset (AdvanceFenced). A call
	// not answered by then is taken for an outage: the event is judged from
	// memory, and so are the next ones until Redis answers a ping again.
	EventTimeout time.Duration
	// OnPanic is told of a panic recovered in the background loop that pings
	// Redis and writes back what waited for it; the loop goes on at the next
	// ping. Nil logs it with its stack.
	OnPanic func(where string, v any, stack []byte)
	// Spool, when set, keeps on disk what waits for Redis, and holds what
	// the processes before left: NewFallback takes it back first, and
	// Close closes it. Nil keeps it in memory only.
	Spool *Spool
	// Now is vigie's clock (time.Now): the date a case Redis refused for
	// the open cases' cap is closed at in memory (dropped), and that of a
	// decision the spool held without one.
	Now func() time.Time
}

// Fallback is the Redis store that keeps vigie moderating when Redis is
// unreachable: counters, dedupe and strikes go to a memory store (they start
// from zero there, and are forgotten when Redis returns), cases and audit
// entries are kept in memory and written to Redis once it answers again. The
// switch is logged once each way; Degraded reports it for a gauge.
//
// Cases opened while Redis is away get ids starting with "l-"; they can be
// posted, acknowledged and decided under that id, and keep working under it
// once they were written to Redis under a c- id, for as long as the local id
// is remembered (the newest maxMapped). Once a case is in Redis, the memory
// forgets its copy: the lists show it once, from Redis, and a decision goes
// where the case is. One Redis refuses for the open cases' cap when it is
// written back is closed in memory too (outcome "dropped", by vigie): the open
// cases stay within the cap once Redis is back. A local id no longer
// remembered is store.ErrNotFound, saying so, whether Redis answers or not.
type Fallback struct {
	primary *Store
	local   *memory.Store
	log     *slog.Logger
	opts    FallbackOptions

	degraded atomic.Bool
	dropped  atomic.Int64
	// stallLogged spaces silent's log line of a stall.
	stallLogged bot.Turn
	// sharedLogged space inMemory's lines saying that the cause cards,
	// and the answers given, were kept in memory.
	sharedLogged [2]bot.Turn
	// droppedBy splits dropped by kind, for the log (dropAudit, dropDone,
	// dropCase).
	droppedBy [3]atomic.Int64
	flushed   atomic.Int64
	// marked: the data marker was seen or set in Redis; dataLost counts
	// the times it was found gone since (Redis lost its data).
	marked   bool
	dataLost atomic.Int64
	// evicts is what INFO said of a Redis that may evict vigie's keys
	// when full ("maxmemory-policy allkeys-lru, maxmemory 2097152"), nil
	// for one that does not; evictedLast is Redis's evicted_keys at the
	// last check (-1 before the first), evicted the keys it evicted since
	// this process first looked, evictLogged spaces the line that says
	// so. See checkEvictions.
	evicts      atomic.Pointer[string]
	evictedLast int64
	evicted     atomic.Int64
	evictLogged bot.Turn
	// skewWarned is the clock's skew from Redis's last warned of (ns).
	skewWarned int64
	// infoRefused, timeRefused: Redis refused INFO, TIME (a managed one
	// that forbids them), said once (checkEvictions, checkSkew).
	infoRefused, timeRefused bool
	// locksLost counts the members' locks lost while held, or held in this
	// process only because Redis did not answer their taking (LockMember).
	locksLost atomic.Int64
	// claimsLost counts the claims of decisions' carrying out lost while
	// held; claimsUnanswered, those Redis did not answer (ClaimCarrying).
	claimsLost, claimsUnanswered atomic.Int64

	mu sync.Mutex
	// problem says why the memory stands in for Redis, set when it starts to
	// (see Problem).
	problem string
	queue   []queued // waiting for Redis, in the order they came
	nAudit  int
	nCases  int
	cases   map[string]*localCase // by local id
	mapped  []string              // local ids written to Redis, oldest first, to bound cases
	// memoryOnly: local ids that will never be written to Redis (refused
	// there), oldest first, to bound cases too
	memoryOnly []string
	// maxMapped bounds mapped and memoryOnly (the const maxMapped).
	maxMapped int
	stop      chan struct{}
	done      chan struct{}
	closeMu   sync.Once
	// ctx is cancelled by Close, to stop a flush in progress.
	ctx    context.Context
	cancel context.CancelFunc

	// laterBans are the bans never due given while Redis did not take
	// them, by key (PutBanLater), guarded by banMu; banWrite lets one
	// writer at a time write them (writeBans).
	banMu     sync.Mutex
	laterBans map[string]store.TimedBan
	// members is the members' locks of this process (LockMember).
	members store.KeyedLock

	// sent are the journal keys whose entry was sent to Redis and not yet
	// done; sentLost says that some were not remembered (maxSent). Guarded
	// by sentMu.
	sentMu   sync.Mutex
	sent     map[string]struct{}
	sentLost bool
	// settles are the pending marks settled while Redis was away, to be
	// settled there too once it returns (settleLater); settlesLost counts
	// those past maxSettles. Guarded by sentMu.
	settles     map[store.SeenMark]struct{}
	settlesLost int
	// carried are how decisions of cases in Redis were carried out, told
	// while it was away, by case id (carryLater). Guarded by sentMu.
	carried map[string]string
	// posted are the cards and acknowledgements of cases in Redis posted
	// while it was away, by case id (postLater). Guarded by sentMu.
	posted   map[string]*postedMarks
	banWrite sync.Mutex

	// spool keeps on disk what waits (nil: none); alias names the local ids
	// that cases taken back from it had in the process before (their
	// cards' buttons carry them), by the ids they have now. Guarded by mu.
	spool *Spool
	alias map[string]string
	// raids are the places whose hits Redis grouped lately into a case of
	// another author (a raid's), with when that case opened: a raid going
	// on as Redis goes away joins one case in memory, not GroupAuthors
	// more. Guarded by raidsMu.
	raidsMu sync.Mutex
	raids   map[string]time.Time
	// reminders are the reminders of old cases kept while Redis was away
	// (or for a case opened meanwhile), by case id: KeepReminder. Guarded
	// by mu.
	reminders map[string]int64
}

type queued struct {
	audit  *store.AuditEntry
	caseID string // a local case
	done   string // a journal entry carried out while Redis was away
	// key is an audit entry's or a removal's key in the spool; a case's is
	// spoolCaseKey(caseID).
	key string
}

type localCase struct {
	acked bool
	// amended: AmendCase changed it in memory, which its write-back tells
	// Redis again (the amendment may have come after Redis got the case).
	amended bool
	remote  string // its id in Redis once written
	// merged: written back, it joined a case open in Redis (a raid's
	// group), whose card is that case's own to post: its acknowledgement
	// is not copied there.
	merged bool
	// memoryOnly: Redis refused it when it was written back (neverWritten);
	// it waits for nothing, and the desk's calls on it since (a card
	// posted, acknowledged) do not put it back in the spool.
	memoryOnly bool
	// was are the local ids the case had in the processes before, taken
	// back from the spool.
	was []string
}

// DefaultEventTimeout is FallbackOptions.EventTimeout's default. Redis answers
// an event's script in a millisecond or so, across a data centre in a few: a
// second is hundreds of times that, and still short enough that a scam is
// deleted at once. A Redis that takes longer is as good
// as away for the events (a frozen process, a network that drops packets, a
// fork or an fsync that stalls it), and waiting for go-redis's read timeout (5
// s), once per call and once more for the commands queued behind, is what held
// events 15 s on a frozen Redis.
const DefaultEventTimeout = time.Second

// maxMapped bounds how many local ids are remembered after their case went to
// Redis, and how many of those Redis refused.
const maxMapped = 10_000

// localPrefix starts the ids of the cases opened while Redis is away.
const localPrefix = "l-"

var _ store.Store = (*Fallback)(nil)

// NewFallback wraps primary. It starts one goroutine, which Close stops; Close
// also closes primary.
func NewFallback(primary *Store, opts FallbackOptions) *Fallback {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.MaxCases <= 0 {
		// Every case opened while Redis is away is kept for it up to the
		// cap Redis itself keeps the open cases to: a smaller bound here
		// dropped cases Redis would have taken (1,000 before, a 15 s
		// outage at 80 cases a second).
		opts.MaxCases = primary.cfg.openCap
	}
	if opts.MaxAudit <= 0 {
		// An event that opens a case has its audit entry and its journal
		// removal: room for two a case, so that the audit of the cases
		// kept is kept too.
		opts.MaxAudit = max(10_000, 2*opts.MaxCases)
	}
	if opts.RetryEvery <= 0 {
		opts.RetryEvery = time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.EventTimeout <= 0 {
		opts.EventTimeout = DefaultEventTimeout
	}
	f := &Fallback{
		primary: primary,
		// The memory groups a raid's hits as Redis does: a card per raider
		// held up every other card behind the desk's limit. A case leaves
		// its groups as it is copied to Redis (Ungroup), so that no hit
		// joins it after the copy; Redis groups the copies in turn.
		local:       memory.New(memory.WithCaseIDPrefix(localPrefix), memory.WithOpenCaseCap(opts.MaxCases)),
		log:         opts.Logger,
		opts:        opts,
		cases:       make(map[string]*localCase),
		maxMapped:   maxMapped,
		stop:        make(chan struct{}),
		done:        make(chan struct{}),
		spool:       opts.Spool,
		evictedLast: -1,
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	primary.lost = f.takeOver
	if primary.b != nil {
		primary.b.silent = f.silent
	}
	f.takeBack(f.spool.take())
	f.spool.start()
	go f.retry()
	return f
}

// takeOver is told of a write the Redis store queued (WithAutoPipeline) and
// Redis did not take: when Redis is away, it goes where the same write made
// now would go.
func (f *Fallback) takeOver(w lostWrite, err error) {
	ctx := context.Background()
	if w.settle != nil && unavailable(err) {
		// kept before the outage is told, so that what waits for Redis
		// counts it by then
		f.settleLater(*w.settle)
	}
	if !f.outage(ctx, err) {
		f.log.Error("redis refused a write", "err", err)
		return
	}
	switch {
	case w.strike != nil:
		_ = f.local.AddStrike(ctx, *w.strike)
	case w.audit != nil:
		f.bufferAudit(ctx, *w.audit)
	case w.begin != nil:
		_ = f.local.Begin(ctx, *w.begin)
	case w.done != "":
		f.bufferDone(ctx, w.done)
	case w.settle != nil:
		_ = f.local.Settle(ctx, *w.settle)
	}
}

// Problem says why the memory stands in for Redis ("unreachable, …",
// "refuses writes, …", "refuses vigie's password, …"), or "" while Redis
// takes the calls.
func (f *Fallback) Problem() string {
	if !f.degraded.Load() {
		return ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.problem
}

// Degraded reports whether Redis is away and the memory stands in for it.
func (f *Fallback) Degraded() bool { return f.degraded.Load() }

// DataLost returns how many times this Fallback found that Redis had lost its
// data.
func (f *Fallback) DataLost() int64 { return f.dataLost.Load() }

// The kinds of what is dropped (droppedBy).
const (
	dropAudit = iota
	dropDone
	dropCase
)

// drop counts n of a kind dropped.
func (f *Fallback) drop(kind int, n int64) {
	f.dropped.Add(n)
	f.droppedBy[kind].Add(n)
}

// Dropped returns how many audit entries and cases were not kept for Redis
// because the buffer was full.
func (f *Fallback) Dropped() int64 { return f.dropped.Load() }

// Buffered returns how many audit entries and cases wait for Redis.
func (f *Fallback) Buffered() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.queue)
}

// remindersWaiting is how many reminders are kept here for Redis.
func (f *Fallback) remindersWaiting() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reminders)
}

// Unwritten describes what waits for Redis, oldest first: each case with its
// event and rule, each audit entry and journal removal with its event. It
// does not ask Redis: a shutdown that cannot wait for it any longer says with
// it what is lost.
func (f *Fallback) Unwritten() []string {
	f.mu.Lock()
	queue := slices.Clone(f.queue)
	f.mu.Unlock()
	out := make([]string, 0, len(queue))
	for _, q := range queue {
		switch {
		case q.audit != nil:
			out = append(out, "audit "+q.audit.Event.Key())
		case q.done != "":
			out = append(out, "journal done "+q.done)
		default:
			c, err := f.local.Case(context.Background(), q.caseID)
			if err != nil {
				out = append(out, "case "+q.caseID)
				continue
			}
			out = append(out, "case "+c.ID+" "+c.Event.Key()+" ("+c.Rule+")")
		}
	}
	return out
}

// RoundTrips is the primary store's count.
func (f *Fallback) RoundTrips() int64 { return f.primary.RoundTrips() }

// Ping checks Redis.
func (f *Fallback) Ping(ctx context.Context) error { return f.primary.Ping(ctx) }

// Probe pings Redis as an event's call does: within EventTimeout, and a Redis
// that does not answer (or refuses) is taken for away, as by such a call. A
// process that judges no events (one standing by behind a load balancer)
// learns of an outage from its health checks too, says so in
// vigie_store_degraded, and answers the next checks at once.
//
// A ping not answered within EventTimeout while Redis answered the shared
// pipelines meanwhile is no outage: this process was late to read the
// ping's answer (CPU load), not Redis to give it.
func (f *Fallback) Probe(ctx context.Context) error {
	// On the wall clock: the deadline of a call to Redis.
	asked := time.Now()
	bctx, cancel := f.bounded(ctx)
	err := f.late(ctx, bctx, f.primary.Ping(bctx))
	cancel()
	if f.readLate(ctx, bctx, err, asked) {
		return nil
	}
	f.outage(ctx, err)
	return err
}

// readLate says that a call asked at asked and cut by its EventTimeout
// (bctx) on a connection of its own was read late rather than not answered:
// Redis answered the shared pipelines since it was asked.
func (f *Fallback) readLate(ctx, bctx context.Context, err error, asked time.Time) bool {
	return err != nil && ctx.Err() == nil && errors.Is(bctx.Err(), context.DeadlineExceeded) && f.primary.answeredSince(asked)
}

// Register adds vigie_store_degraded, vigie_store_buffered (what Buffered
// counts, and the bans that wait for Redis too: PutBanLater),
// vigie_store_dropped_total, vigie_store_data_lost_total,
// vigie_store_spool_errors_total and vigie_store_member_locks_lost_total to
// reg.
func (f *Fallback) Register(reg prometheus.Registerer) error {
	for _, c := range []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigie_store_degraded",
			Help: "1 while Redis is unreachable and vigie counts in memory."},
			func() float64 {
				if f.Degraded() {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "vigie_store_buffered",
			Help: "Cases, audit entries, bans, events' pending marks settled, decisions' ends and cases' cards posted waiting for Redis to return."},
			func() float64 {
				return float64(f.Buffered() + f.bansWaiting() + f.settlesWaiting() + f.carriedWaiting() + f.postedWaiting())
			}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_dropped_total",
			Help: "Cases and audit entries not kept for Redis because the buffer was full."},
			func() float64 { return float64(f.Dropped()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_data_lost_total",
			Help: "Times this vigie found that Redis had lost its data (restarted without persistence, FLUSHALL, an empty replica promoted): the open cases it held were lost."},
			func() float64 { return float64(f.DataLost()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_evicted_keys_total",
			Help: "Keys Redis evicted to make room (maxmemory under a policy other than noeviction) since this vigie started: vigie's cases, leases, marks or counters may be among them."},
			func() float64 { return float64(f.Evicted()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_spool_errors_total",
			Help: "Times the spool, which keeps on disk what waits for Redis, could not be written (a full or read-only disk): until it is, a stop loses what waits."},
			func() float64 { return float64(f.spool.Errors()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_member_locks_lost_total",
			Help: "Members' locks this vigie lost while it held them (they ran out while Redis did not answer, or Redis lost them), or held in this process only because Redis did not answer their taking: a ban, kick or lift of the member may have been decided beside another instance's."},
			func() float64 { return float64(f.locksLost.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_decision_claims_unanswered_total",
			Help: "Claims of a CM's decision's carrying out that Redis did not answer (it was away): the decision waited, not carried out, for Redis to return or for the next hand-on of its press."},
			func() float64 { return float64(f.claimsUnanswered.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "vigie_store_decision_claims_lost_total",
			Help: "Claims of a CM's decision's carrying out this vigie lost while it held them (they ran out while Redis did not answer their renewals): its tries stopped, for the holder after it to finish the decision."},
			func() float64 { return float64(f.claimsLost.Load()) }),
	} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("store metrics: %w", err)
		}
	}
	return nil
}

// unavailable tells an unreachable Redis from an error Redis answered.
// refused says that Redis answered err, refusing the command itself (an
// unknown or forbidden one), not that it is away.
func refused(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && !unavailable(err)
}

func unavailable(err error) bool {
	// ErrCaseCap: Redis answered, and refuses the case for the open cases'
	// cap; taken for an outage, it switched a busy vigie to memory while
	// Redis answered, and stopped the write-back at the refused case.
	if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrDecided) ||
		errors.Is(err, store.ErrCaseCap) || errors.Is(err, context.Canceled) ||
		// A job's command refused in this process, its lease run out.
		errors.Is(err, bot.ErrLeaseRunOut) {
		return false
	}
	var re goredis.Error
	if errors.As(err, &re) {
		// NOREPLICAS: a master set with min-replicas-to-write refuses writes
		// no replica would have; after a failover, it may be one again.
		// OOM (maxmemory reached under noeviction) and MISCONF (a snapshot
		// that cannot be written, with stop-writes-on-bgsave-error) refuse
		// every write until an operator frees memory or disk: answered at
		// once, they failed every event, unjudged, while Redis "answered".
		// BUSY: another client's script runs past busy-reply-threshold, and
		// every command is refused until it ends or is killed ("BUSY ", not
		// BUSYGROUP nor BUSYKEY, which refuse one command).
		for _, p := range []string{"LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "READONLY", "NOREPLICAS", "OOM", "MISCONF", "BUSY "} {
			if strings.HasPrefix(re.Error(), p) {
				return true
			}
		}
		return AuthRefused(err)
	}
	return true // network errors, timeouts, a closed pool
}

// AuthRefused reports whether Redis refused vigie's password or user (a
// URL without the password Redis requires, a wrong one, an ACL user denied
// the commands vigie sends): no command goes through until the URL is put
// right, so the fallback takes it for an outage, which /-/ready shows.
func AuthRefused(err error) bool {
	var re goredis.Error
	if !errors.As(err, &re) {
		return false
	}
	msg := re.Error()
	// Redis answers a command sent on a connection that did not
	// authenticate NOAUTH, or, for a large one (an event's script), a
	// protocol error, and then closes the connection.
	for _, p := range []string{"NOAUTH", "WRONGPASS", "NOPERM", "ERR Protocol error: unauthenticated"} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// redisAnswered reports whether err is Redis's answer, starting with prefix.
func redisAnswered(err error, prefix string) bool {
	var re goredis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), prefix)
}

// refusesWrites tells a Redis that answers but takes no write (full under
// noeviction, unable to save) from one that is away, for the log.
func refusesWrites(err error) bool {
	var re goredis.Error
	return errors.As(err, &re) && (strings.HasPrefix(re.Error(), "OOM") || strings.HasPrefix(re.Error(), "MISCONF"))
}

// bounded is the context of a call an event waits for: its caller's, cut at
// EventTimeout.
//
// Only the calls whose answer the event needs are bounded: the observation
// and the cases. A call cut there may still run when Redis answers again
// (its command may be on the wire already; one still queued in the shared
// pipeline is not sent), and both may run so: an observation counts the
// event once in Redis (it is never sent again, see noRetries) while the
// memory, which judged it, is forgotten when Redis returns; a case opened in
// Redis as well as in memory is one case when the memory's is written back,
// found by its origin (event, rule and reason). The writes nobody waits for
// (strikes, audit entries, the journal) are queued in the shared pipeline and
// left to it: cut by a deadline of their own, an audit entry that ran all the
// same would be buffered too, and written twice.
func (f *Fallback) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, f.opts.EventTimeout)
}

// patient is bounded for the calls that go in the shared pipelines (the
// observation, the cases): they are given up on once Redis answered neither
// the pipeline ahead of them nor a ping for EventTimeout (see withPatience),
// not once EventTimeout passed since the event queued them. Under CPU load
// the time spent in the queue behind pipelines that Redis answered, or the
// flusher's wait for the CPU, took a second now and then: Redis answered in
// a millisecond, and vigie switched to its memory, counters from zero,
// /-/ready 503 and the audit buffered, for a second or two each time. The
// deadline, backstop times EventTimeout, bounds a wait that never reaches
// Redis (a flusher that does not run at all).
func (f *Fallback) patient(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.primary.b == nil {
		return f.bounded(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, backstop*f.opts.EventTimeout)
	return withPatience(ctx, f.opts.EventTimeout), cancel
}

// backstop is how many EventTimeouts a patient call waits at most.
const backstop = 5

// late says that a call cut by its EventTimeout (bctx), while its caller
// (ctx) still waits, ran out of time on Redis: outage takes it for one.
func (f *Fallback) late(ctx, bctx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && errors.Is(bctx.Err(), context.DeadlineExceeded) {
		d := f.opts.EventTimeout
		if _, patient := bctx.Value(patienceKey{}).(time.Duration); patient {
			d = backstop * d
		}
		return fmt.Errorf("redis did not answer within %s: %w", d, err)
	}
	return err
}

// stalled says that err cut a call on a Redis that answered nothing for
// EventTimeout, not yet taken for away: the call's event is judged from
// memory, and the switch waits for silent.
func stalled(err error) bool {
	var se *SilentError
	return errors.As(err, &se) && !se.Confirmed
}

// silent is told by the shared pipelines whether a stall that cut events
// (stalled) was an outage: Redis answered nothing for twice EventTimeout,
// or refused the ping. Such a stall switches over as a refused call does;
// one that ended sooner is logged, once a minute at most.
func (f *Fallback) silent(err error, confirmed bool) {
	if confirmed {
		f.outage(context.Background(), err)
		return
	}
	// On the wall clock: log lines spaced in real time.
	if f.stallLogged.Take(time.Now(), time.Minute) {
		f.log.Warn("redis answered late: the events of that second were judged from memory, not taken for an outage",
			"event_timeout", f.opts.EventTimeout)
	}
}

// outage reports whether err means Redis is away, and if so switches over.
func (f *Fallback) outage(ctx context.Context, err error) bool {
	if ctx.Err() != nil || !unavailable(err) {
		return false
	}
	f.mu.Lock()
	if !f.degraded.Swap(true) {
		switch {
		case refusesWrites(err):
			f.problem = "refuses writes, moderating from memory until it takes them: " + err.Error()
			f.log.Warn("redis refuses writes: moderating with in-memory counters, keeping cases and audit until it takes them again", "err", err)
		case redisAnswered(err, "READONLY"):
			f.problem = "is a read-only replica, moderating from memory until it takes writes (a failover under way, or --redis names a replica): " + err.Error()
			f.log.Warn("redis is a read-only replica: moderating with in-memory counters, keeping cases and audit until it takes writes; a failover under way ends on its own, else point --redis (or VIGIE_REDIS_URL) at the master, or at the sentinels", "err", err)
		case redisAnswered(err, "LOADING"):
			f.problem = "is loading its data (restarted), moderating from memory until it has: " + err.Error()
			f.log.Warn("redis is loading its data (restarted, reading its append-only file or snapshot): moderating with in-memory counters, keeping cases and audit until it has", "err", err)
		case redisAnswered(err, "BUSY "):
			f.problem = "is busy running a script, moderating from memory until it ends: " + err.Error()
			f.log.Warn("redis is busy running another client's script (past its busy-reply-threshold): moderating with in-memory counters, keeping cases and audit until it ends, or until someone sends SCRIPT KILL", "err", err)
		case AuthRefused(err):
			f.problem = "refuses vigie's password, moderating from memory until it takes it: check the password of --redis (or VIGIE_REDIS_URL)"
			f.log.Warn("redis refuses vigie's password: moderating with in-memory counters, keeping cases and audit until it takes it; check the password of --redis (or VIGIE_REDIS_URL)", "err", err)
		default:
			f.problem = "unreachable, moderating from memory until it returns"
			f.log.Warn("redis unreachable: moderating with in-memory counters, keeping cases and audit until it returns", "err", err)
		}
	}
	f.mu.Unlock()
	return true
}

// Observe counts in Redis, or in memory while it is away.
func (f *Fallback) Observe(ctx context.Context, o store.Observation) (store.Result, error) {
	if !f.degraded.Load() {
		bctx, cancel := f.patient(ctx)
		res, err := f.primary.Observe(bctx, o)
		err = f.late(ctx, bctx, err)
		cancel()
		if !stalled(err) && !f.outage(ctx, err) {
			return res, err
		}
	}
	return f.local.Observe(ctx, o)
}

// AddStrike records in Redis, or in memory while it is away.
func (f *Fallback) AddStrike(ctx context.Context, s store.Strike) error {
	if !f.degraded.Load() {
		err := f.primary.AddStrike(ctx, s)
		if !f.outage(ctx, err) {
			return err
		}
	}
	return f.local.AddStrike(ctx, s)
}

// AppendAudit writes to Redis, or keeps the entry until it returns.
func (f *Fallback) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if !f.degraded.Load() {
		err := f.primary.AppendAudit(ctx, e)
		if !f.outage(ctx, err) {
			return err
		}
	}
	f.bufferAudit(ctx, e)
	return nil
}

// bufferAudit keeps an audit entry until Redis returns.
func (f *Fallback) bufferAudit(ctx context.Context, e store.AuditEntry) {
	_ = f.local.AppendAudit(ctx, e)
	// The line is written out of f.mu, which every event buffered takes,
	// and pushed under it: the spool drops it only after.
	key := f.spool.next("a")
	line, spooled := f.spool.encode(key, spoolRecord{Audit: &e})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nAudit >= f.opts.MaxAudit {
		f.drop(dropAudit, 1)
		return
	}
	f.queue = append(f.queue, queued{audit: &e, key: key})
	f.nAudit++
	if spooled {
		f.spool.push(line)
	}
}

// Audit reads Redis and adds what waits for it; while Redis is away, only the
// entries recorded since are known.
func (f *Fallback) Audit(ctx context.Context, since time.Time) ([]store.AuditEntry, error) {
	if !f.degraded.Load() {
		out, seen, err := f.primary.audit(ctx, since)
		if !f.outage(ctx, err) {
			if err != nil {
				return nil, err
			}
			f.mu.Lock()
			for _, q := range f.queue {
				if q.audit == nil || q.audit.At.Before(since) {
					continue
				}
				// Redis may have run it already (see Store.audit):
				// then it waits for a write-back that adds a copy.
				if raw, err := encodeAudit(q.audit); err == nil {
					if _, dup := seen[string(raw)]; dup {
						continue
					}
				}
				out = append(out, *q.audit)
			}
			f.mu.Unlock()
			return out, nil
		}
	}
	return f.local.Audit(ctx, since)
}

// OpenCase opens in Redis, or in memory with an l- id until Redis returns.
func (f *Fallback) OpenCase(ctx context.Context, c store.Case) (store.Case, error) {
	if !f.degraded.Load() {
		bctx, cancel := f.patient(ctx)
		out, err := f.primary.OpenCase(bctx, c)
		err = f.late(ctx, bctx, err)
		cancel()
		if !stalled(err) && !f.outage(ctx, err) {
			if err == nil && out.Hits() > 1 && out.Event.Author.ID != c.Event.Author.ID {
				f.noteRaid(c.PlaceGroup(), out.Opened)
			}
			return out, err
		}
	}
	f.raidsMu.Lock()
	if start, ok := f.raids[c.PlaceGroup()]; ok {
		f.local.PlaceGrouped(c.PlaceGroup(), start)
	}
	f.raidsMu.Unlock()
	// Past MaxCases a case is refused as at the open cases' cap: Redis
	// would never get it, and kept open in memory for good, outage after
	// outage, such cases went past the cap (the open cases are Redis's and
	// those waiting for it). The place is taken before the case is opened,
	// so that concurrent events do not take more.
	f.mu.Lock()
	if f.nCases >= f.opts.MaxCases {
		f.mu.Unlock()
		f.drop(dropCase, 1)
		return store.Case{}, fmt.Errorf("case for %s: %d waiting for redis: %w", c.Event.Key(), f.opts.MaxCases, store.ErrCaseCap)
	}
	f.nCases++
	f.mu.Unlock()
	out, err := f.local.OpenCase(ctx, c)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err != nil {
		f.nCases--
		return out, err
	}
	if f.cases[out.ID] != nil {
		// Grouped into a case waiting for Redis (a raid's, or the
		// author's): no case more, and the spool keeps the hit with it.
		f.nCases--
		f.spoolCase(out.ID)
		return out, nil
	}
	f.cases[out.ID] = &localCase{}
	f.queue = append(f.queue, queued{caseID: out.ID})
	f.spoolCase(out.ID)
	return out, nil
}

// maxRaids bounds the places Fallback.raids remembers.
const maxRaids = 1024

// noteRaid remembers that Redis grouped place's hits into a case opened at
// start. Past maxRaids places, those whose group ended are forgotten, and
// a new place is not remembered while all are within their minute.
func (f *Fallback) noteRaid(place string, start time.Time) {
	if place == "" {
		return
	}
	f.raidsMu.Lock()
	defer f.raidsMu.Unlock()
	if f.raids == nil {
		f.raids = make(map[string]time.Time)
	}
	if _, ok := f.raids[place]; !ok && len(f.raids) >= maxRaids {
		for p, at := range f.raids {
			if start.Sub(at) >= store.GroupWindow {
				delete(f.raids, p)
			}
		}
		if len(f.raids) >= maxRaids {
			return
		}
	}
	f.raids[place] = start
}

// where says whether id is a local case, and its Redis id once written there.
func (f *Fallback) where(id string) (local bool, remote string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	lc, ok := f.cases[f.resolve(id)]
	if !ok {
		return false, ""
	}
	return true, lc.remote
}

func (f *Fallback) unavailableFor(id string) error {
	return fmt.Errorf("case %s: %w", id, ErrUnavailable)
}

// forgotten is the error for a local id no longer remembered (maxMapped): its
// case is in Redis under a c- id, or was never written there and is gone.
// Sent to Redis, it was not found there, or, while Redis was away, said to
// wait for Redis when Redis has nothing to say about it. nil for another id.
func forgotten(id string) error {
	if !strings.HasPrefix(id, localPrefix) {
		return nil
	}
	return fmt.Errorf("case %s: opened while redis was away, and no longer known by this id (the case list has it under its c- id if it reached redis): %w", id, store.ErrNotFound)
}

var _ store.CaseOrigins = (*Fallback)(nil)

// CaseOfOrigin asks Redis, and the memory store while Redis is away.
func (f *Fallback) CaseOfOrigin(ctx context.Context, origin string) (string, error) {
	if f.degraded.Load() {
		return f.local.CaseOfOrigin(ctx, origin)
	}
	return f.primary.CaseOfOrigin(ctx, origin)
}

// KeepsCallsWithCases is store.CallsWithCases's: as Redis does. The memory
// standing in for it keeps them too, as it keeps the calls kept apart.
func (f *Fallback) KeepsCallsWithCases() bool { return f.primary.KeepsCallsWithCases() }

// CaseOfMessage asks Redis, or the memory while it is away: a case opened
// there keeps its message there.
func (f *Fallback) CaseOfMessage(ctx context.Context, message string) (string, error) {
	return shared(ctx, f, answersGiven,
		func(ctx context.Context) (string, error) { return f.primary.CaseOfMessage(ctx, message) },
		func(ctx context.Context) (string, error) { return f.local.CaseOfMessage(ctx, message) })
}

// KeepCaseOfMessage writes to Redis, or the memory while it is away.
func (f *Fallback) KeepCaseOfMessage(ctx context.Context, message, id string, at time.Time) error {
	_, err := shared(ctx, f, answersGiven,
		func(ctx context.Context) (struct{}, error) {
			return struct{}{}, f.primary.KeepCaseOfMessage(ctx, message, id, at)
		},
		func(ctx context.Context) (struct{}, error) {
			return struct{}{}, f.local.KeepCaseOfMessage(ctx, message, id, at)
		})
	return err
}

// Case finds the case where it is.
func (f *Fallback) Case(ctx context.Context, id string) (store.Case, error) {
	id = f.resolveLocked(id)
	local, remote := f.where(id)
	switch {
	case local && remote == "":
		return f.local.Case(ctx, id)
	case local:
		id = remote
	default:
		if err := forgotten(id); err != nil {
			return store.Case{}, err
		}
	}
	if f.degraded.Load() {
		return store.Case{}, f.unavailableFor(id)
	}
	c, err := f.primary.Case(ctx, id)
	f.outage(ctx, err)
	return c, err
}

// Cases lists Redis's cases and those waiting for it; while Redis is away,
// only the latter.
func (f *Fallback) Cases(ctx context.Context, status store.CaseStatus) ([]store.Case, error) {
	var out []store.Case
	if !f.degraded.Load() {
		var err error
		out, err = f.primary.Cases(ctx, status)
		if err != nil && !f.outage(ctx, err) {
			return nil, err
		}
	}
	locals, err := f.local.Cases(ctx, status)
	if err != nil {
		return nil, err
	}
	return append(out, f.unwritten(locals)...), nil
}

// unwritten keeps the local cases known not to be in Redis: waiting for it,
// or refused by it. A case in Redis is listed from there, and one whose
// local id is forgotten is gone from the desk's calls: listed, it would be
// the same case twice, or one that no button can decide.
func (f *Fallback) unwritten(cs []store.Case) []store.Case {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []store.Case
	for _, c := range cs {
		if lc := f.cases[c.ID]; lc != nil && lc.remote == "" {
			out = append(out, c)
		}
	}
	return out
}

// DecideCase decides where the case is.
func (f *Fallback) DecideCase(ctx context.Context, id, outcome, by, byName string, at time.Time) (store.Case, error) {
	// Under f.mu, as AddCard: a write-back that maps the case to Redis between
	// this look and the decision would copy the case without it, and then
	// forget the memory's copy, decision and all.
	f.mu.Lock()
	id = f.resolve(id)
	lc := f.cases[id]
	if lc != nil && lc.remote == "" {
		c, err := f.local.DecideCase(ctx, id, outcome, by, byName, at)
		if err == nil {
			f.spoolCase(id)
		}
		f.mu.Unlock()
		return c, err
	}
	if lc != nil {
		id = lc.remote
	}
	f.mu.Unlock()
	if lc == nil {
		if err := forgotten(id); err != nil {
			return store.Case{}, err
		}
	}
	if f.degraded.Load() {
		return store.Case{}, f.unavailableFor(id)
	}
	c, err := f.primary.DecideCase(ctx, id, outcome, by, byName, at)
	f.outage(ctx, err)
	return c, err
}

// PendingCases returns Redis's pending cases and the local ones not written yet.
func (f *Fallback) PendingCases(ctx context.Context) ([]store.Case, error) {
	var out []store.Case
	if !f.degraded.Load() {
		var err error
		out, err = f.primary.PendingCases(ctx)
		if err != nil && !f.outage(ctx, err) {
			return nil, err
		}
	}
	locals, err := f.local.PendingCases(ctx)
	if err != nil {
		return nil, err
	}
	return append(out, f.unwritten(locals)...), nil
}

// AckCase acknowledges where the case is.
func (f *Fallback) AckCase(ctx context.Context, id string) error {
	later := func(id string) error { return f.postLater(id, func(p *postedMarks) { p.acked = true }) }
	return f.onCaseOr(ctx, id, func(id string, lc *localCase) error {
		lc.acked = true
		return f.local.AckCase(ctx, id)
	}, func(id string) error {
		return f.laterIfAway(ctx, f.primary.AckCase(ctx, id), func() error { return later(id) })
	}, later)
}

// MarkUndeliverable marks where the case is; a local case carries the mark
// to Redis when it is written there.
func (f *Fallback) MarkUndeliverable(ctx context.Context, id, why string) error {
	return f.ack(ctx, id,
		func(ctx context.Context, id string) error { return f.local.MarkUndeliverable(ctx, id, why) },
		func(ctx context.Context, id string) error { return f.primary.MarkUndeliverable(ctx, id, why) })
}

// ack marks the case acknowledged where it is: local carries the mark to
// Redis when the case is written there (the write-back reads what to copy,
// an undeliverable case's reason, once the case is mapped). A case in Redis
// is marked there only: while Redis does not answer, the desk tries it
// again. (AckCase keeps a card posted for Redis: posted again, it would be
// two.)
func (f *Fallback) ack(ctx context.Context, id string, local, primary func(context.Context, string) error) error {
	return f.onCase(ctx, id, func(id string, lc *localCase) error {
		lc.acked = true
		return local(ctx, id)
	}, func(id string) error { return primary(ctx, id) })
}

// AddCard records the card where the case is; a local case carries its
// cards to Redis when it is written there, and a case in Redis whose card
// was posted while Redis was away, or did not answer, gets it there once
// Redis returns (postLater).
func (f *Fallback) AddCard(ctx context.Context, id string, card bot.CardRef) error {
	later := func(id string) error {
		return f.postLater(id, func(p *postedMarks) {
			if !slices.Contains(p.cards, card) {
				p.cards = append(p.cards, card)
			}
		})
	}
	return f.onCaseOr(ctx, id, func(id string, _ *localCase) error { return f.local.AddCard(ctx, id, card) },
		func(id string) error {
			return f.laterIfAway(ctx, f.primary.AddCard(ctx, id, card), func() error { return later(id) })
		}, later)
}

// laterIfAway returns err, the answer of Redis to a write, or, when err
// says Redis is away, what keep says of keeping the write for its return
// (the outage noted, unless the caller's time ran out: the write is kept
// then too, for a Redis slow to answer).
func (f *Fallback) laterIfAway(ctx context.Context, err error, keep func() error) error {
	if !unavailable(err) {
		return err
	}
	kerr := keep()
	if ctx.Err() == nil {
		f.outage(ctx, err)
	}
	return kerr
}

// postedMarks are what the desk did with a case in Redis while Redis was
// away: its cards posted, and whether it was acknowledged.
type postedMarks struct {
	cards []bot.CardRef
	acked bool
}

// postLater keeps what mark records of case id (in Redis), told while Redis
// was away, to write it there once it returns: a card posted just as Redis
// went away is not posted again when it returns (the case would still be
// pending there), and a decision taken on it shows on it. Past maxSettles
// cases waiting it keeps none, and says so.
func (f *Fallback) postLater(id string, mark func(*postedMarks)) error {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	if f.posted == nil {
		f.posted = map[string]*postedMarks{}
	}
	p := f.posted[id]
	if p == nil {
		if len(f.posted) >= maxSettles {
			return fmt.Errorf("case %s: its card not recorded for redis, %d wait already: %w", id, maxSettles, ErrUnavailable)
		}
		p = &postedMarks{}
		f.posted[id] = p
	}
	mark(p)
	return nil
}

// writePosted writes to Redis the cards and acknowledgements kept by
// postLater, the cards first; a case gone there is forgotten. A mark added
// while they were written stays, to be written next.
func (f *Fallback) writePosted(ctx context.Context) error {
	f.sentMu.Lock()
	marks := make(map[string]postedMarks, len(f.posted))
	for id, p := range f.posted {
		marks[id] = postedMarks{cards: slices.Clone(p.cards), acked: p.acked}
	}
	f.sentMu.Unlock()
	for id, m := range marks {
		var err error
		for _, c := range m.cards {
			if err = f.primary.AddCard(ctx, id, c); err != nil {
				break
			}
		}
		if err == nil && m.acked {
			err = f.primary.AckCase(ctx, id)
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		f.sentMu.Lock()
		if p := f.posted[id]; p != nil && len(p.cards) == len(m.cards) && p.acked == m.acked {
			delete(f.posted, id)
		}
		f.sentMu.Unlock()
	}
	return nil
}

// postedWaiting is how many cases' cards and acknowledgements wait to be
// written to Redis.
func (f *Fallback) postedWaiting() int {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	return len(f.posted)
}

// MarkCarried marks the case where it is; a local case carries the mark to
// Redis in its JSON when it is written there.
//
// A case in Redis is marked there once Redis is back when it is away now,
// or was found away already (carryLater): a decision is carried out while
// Redis is away as at any time, and its end must not be lost with the
// outage.
func (f *Fallback) MarkCarried(ctx context.Context, id, result string) error {
	return f.onCaseOr(ctx, id, func(id string, _ *localCase) error { return f.local.MarkCarried(ctx, id, result) },
		func(id string) error {
			return f.laterIfAway(ctx, f.primary.MarkCarried(ctx, id, result), func() error { return f.carryLater(id, result) })
		}, func(id string) error { return f.carryLater(id, result) })
}

// MarkCarrying marks the case where it is. A case in Redis is marked there
// only: while Redis is away, or does not answer, the error says so, and
// nothing is kept for later; the decision waits for Redis, as for its
// claim.
func (f *Fallback) MarkCarrying(ctx context.Context, id, mark string) error {
	return f.onCase(ctx, id, func(id string, _ *localCase) error { return f.local.MarkCarrying(ctx, id, mark) },
		func(id string) error { return f.primary.MarkCarrying(ctx, id, mark) })
}

// carryLater keeps how the decision of case id (in Redis) was carried out,
// told while Redis was away, to write it there once it returns: a press of
// it handed on after the outage (its process killed, or the poller moved to
// another instance) must find it carried out, not carry it out again.
// Past maxSettles waiting it keeps none, and says so: the caller counts it.
func (f *Fallback) carryLater(id, result string) error {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	if f.carried == nil {
		f.carried = map[string]string{}
	}
	if _, ok := f.carried[id]; !ok && len(f.carried) >= maxSettles {
		return fmt.Errorf("case %s: its decision's end not kept for redis, %d wait already: %w", id, maxSettles, ErrUnavailable)
	}
	f.carried[id] = result
	return nil
}

// writeCarried writes to Redis the decisions' ends kept by carryLater; one
// whose case is gone there is forgotten. One told again while it was
// written stays, to be written next.
func (f *Fallback) writeCarried(ctx context.Context) error {
	f.sentMu.Lock()
	marks := maps.Clone(f.carried)
	f.sentMu.Unlock()
	for id, result := range marks {
		err := f.primary.MarkCarried(ctx, id, result)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		// An end told again meanwhile waits for the next round.
		f.sentMu.Lock()
		if f.carried[id] == result {
			delete(f.carried, id)
		}
		f.sentMu.Unlock()
	}
	return nil
}

// carriedWaiting is how many decisions' ends wait to be written to Redis.
func (f *Fallback) carriedWaiting() int {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	return len(f.carried)
}

var _ store.DecisionMarks = (*Fallback)(nil)

// AmendCase amends the case where it is; a local case carries its
// amendment to Redis when it is written there.
func (f *Fallback) AmendCase(ctx context.Context, id string, a store.CaseAmendment) error {
	return f.onCase(ctx, id, func(id string, lc *localCase) error {
		err := f.local.AmendCase(ctx, id, a)
		if err == nil {
			lc.amended = true
		}
		return err
	}, func(id string) error { return f.primary.AmendCase(ctx, id, a) })
}

// onCase writes to the case where it is: local, under f.mu, for a case not
// yet written back, so that a write-back cannot map the case to Redis
// between this look and the write and copy it without what local adds;
// remote, with the case's id in Redis, for the others.
func (f *Fallback) onCase(ctx context.Context, id string, local func(string, *localCase) error, remote func(id string) error) error {
	return f.onCaseOr(ctx, id, local, remote, f.unavailableFor)
}

// onCaseOr is onCase, with away called instead of ErrUnavailable for a
// case in Redis while Redis is away.
func (f *Fallback) onCaseOr(ctx context.Context, id string, local func(string, *localCase) error, remote, away func(id string) error) error {
	f.mu.Lock()
	id = f.resolve(id)
	lc := f.cases[id]
	if lc != nil && lc.remote == "" {
		err := local(id, lc)
		if err == nil {
			f.spoolCase(id)
		}
		f.mu.Unlock()
		return err
	}
	if lc != nil {
		id = lc.remote
	}
	f.mu.Unlock()
	if lc == nil {
		if err := forgotten(id); err != nil {
			return err
		}
	}
	if f.degraded.Load() {
		return away(id)
	}
	err := remote(id)
	f.outage(ctx, err)
	return err
}

// CaseCards reads the cards where the case is.
func (f *Fallback) CaseCards(ctx context.Context, id string) ([]bot.CardRef, error) {
	id = f.resolveLocked(id)
	local, remote := f.where(id)
	switch {
	case local && remote == "":
		return f.local.CaseCards(ctx, id)
	case local:
		id = remote
	default:
		if err := forgotten(id); err != nil {
			return nil, err
		}
	}
	if f.degraded.Load() {
		return nil, f.unavailableFor(id)
	}
	out, err := f.primary.CaseCards(ctx, id)
	f.outage(ctx, err)
	return out, err
}

// Settle settles in Redis, or in memory while it is away (where Observe
// marked the ids then).
func (f *Fallback) Settle(ctx context.Context, m store.SeenMark) error {
	if !f.degraded.Load() {
		err := f.primary.Settle(ctx, m)
		if !f.outage(ctx, err) {
			return err
		}
	}
	f.settleLater(m)
	return f.local.Settle(ctx, m)
}

// maxSettles bounds the marks kept for Redis (settleLater): an outage's
// first, those whose ids were marked in Redis before it, are kept.
const maxSettles = 10_000

// settleLater keeps m, settled while Redis did not take it, to settle it
// there once it returns: its id may have been marked pending there before
// (seen just before the outage), and a mark left pending would have a retry
// of the event after the hold judged again, its actions carried out twice;
// or seen in memory only, and its retry on an instance that asks Redis (an
// inbox handed on after the outage) would be judged as new.
func (f *Fallback) settleLater(m store.SeenMark) {
	if m.ID == "" {
		return
	}
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	if len(f.settles) >= maxSettles {
		f.settlesLost++
		return
	}
	if f.settles == nil {
		f.settles = map[store.SeenMark]struct{}{}
	}
	f.settles[m] = struct{}{}
}

// settlesWaiting is how many marks wait to be settled in Redis.
func (f *Fallback) settlesWaiting() int {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	return len(f.settles)
}

// writeSettles settles in Redis the marks settled while it was away, in
// one round trip; those not written wait for the next try.
func (f *Fallback) writeSettles(ctx context.Context) error {
	f.sentMu.Lock()
	marks := make([]store.SeenMark, 0, len(f.settles))
	for m := range f.settles {
		marks = append(marks, m)
	}
	lost := f.settlesLost
	f.settlesLost = 0
	f.sentMu.Unlock()
	if lost > 0 {
		f.log.Error("pending marks settled while redis was away and not kept for it: past the bound; a retry of those events after the pending hold is judged again",
			"lost", lost, "max", maxSettles)
	}
	if len(marks) == 0 {
		return nil
	}
	if err := f.primary.settleAll(ctx, marks); err != nil {
		return err
	}
	f.sentMu.Lock()
	for _, m := range marks {
		delete(f.settles, m)
	}
	f.sentMu.Unlock()
	return nil
}

// Renew renews in Redis, or in memory while it is away.
func (f *Fallback) Renew(ctx context.Context, m store.SeenMark, now time.Time, pending time.Duration) error {
	if !f.degraded.Load() {
		err := f.primary.Renew(ctx, m, now, pending)
		if !f.outage(ctx, err) {
			return err
		}
	}
	return f.local.Renew(ctx, m, now, pending)
}

// Begin journals in Redis, or in memory while it is away: the process that
// began the entry carries it out either way; only a crash meanwhile loses it.
func (f *Fallback) Begin(ctx context.Context, e store.JournalEntry) error {
	var away error
	if !f.degraded.Load() {
		f.sentToRedis(e.Key)
		err := f.primary.Begin(ctx, e)
		if !f.outage(ctx, err) {
			return err
		}
		away = err
	}
	if e.Settle != nil {
		f.settleLater(*e.Settle)
	}
	if err := f.local.Begin(ctx, e); err != nil {
		return err
	}
	if store.AnswerWanted(ctx) && f.mayHold(e.Key) {
		// Its caller needs it in Redis before it goes on (an action being
		// asked), where an earlier copy of it is: kept in this process
		// only, a kill would leave that copy, which does not say it. (An
		// entry begun while Redis was away is all in this process.)
		return fmt.Errorf("journal entry %s kept in this process only, redis did not take it (%w): %w", e.Key, cmp.Or(away, errors.New(f.Problem())), ErrUnavailable)
	}
	return nil
}

// Done removes the entry from Redis; while Redis is away, it is removed there
// once Redis returns, so that an entry begun before the outage is not carried
// out again. An entry never sent to Redis (begun while it was away) has
// nothing to remove there: its removal is not kept. Kept, the removals took
// half of the buffer's places in an outage, one per event beside its audit
// entry, and the buffer was full after 17 s of an outage at 300 events a
// second rather than 33, the audit entries after it dropped.
func (f *Fallback) Done(ctx context.Context, key string) error {
	inRedis := f.doneInRedis(key)
	if !f.degraded.Load() {
		err := f.primary.Done(ctx, key)
		if !f.outage(ctx, err) {
			return err
		}
	}
	if !inRedis {
		return f.local.Done(ctx, key)
	}
	f.bufferDone(ctx, key)
	return nil
}

// maxSent bounds the journal keys remembered as sent to Redis (sentToRedis):
// past it, every removal is kept for Redis, as if each entry had been sent.
const maxSent = 100_000

// sentToRedis remembers that a journal entry under key was sent to Redis
// (whether Redis took it or not: it may have run it), until its Done.
func (f *Fallback) sentToRedis(key string) {
	f.sentMu.Lock()
	if f.sent == nil {
		f.sent = map[string]struct{}{}
	}
	if len(f.sent) < maxSent {
		f.sent[key] = struct{}{}
	} else {
		f.sentLost = true
	}
	f.sentMu.Unlock()
}

// mayHold says whether Redis may hold a journal entry under key.
func (f *Fallback) mayHold(key string) bool {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	_, ok := f.sent[key]
	return ok || f.sentLost
}

// doneInRedis forgets key, and says whether Redis may hold an entry under it.
func (f *Fallback) doneInRedis(key string) bool {
	f.sentMu.Lock()
	defer f.sentMu.Unlock()
	if _, ok := f.sent[key]; ok {
		delete(f.sent, key)
		return true
	}
	return f.sentLost
}

// bufferDone removes a journal entry from memory, and from Redis once it returns.
func (f *Fallback) bufferDone(ctx context.Context, key string) {
	_ = f.local.Done(ctx, key)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.nAudit >= f.opts.MaxAudit {
		f.drop(dropDone, 1)
		return
	}
	skey := f.spool.next("d")
	f.queue = append(f.queue, queued{done: key, key: skey})
	f.nAudit++
	f.spool.put(skey, spoolRecord{Done: key})
}

// Unfinished takes Redis's entries, or the memory's while Redis is away.
func (f *Fallback) Unfinished(ctx context.Context, olderThan, now time.Time) ([]store.JournalEntry, error) {
	if !f.degraded.Load() {
		out, err := f.primary.Unfinished(ctx, olderThan, now)
		if !f.outage(ctx, err) {
			return out, err
		}
	}
	return f.local.Unfinished(ctx, olderThan, now)
}

// retry pings Redis while it is away and writes what waited once it answers.
func (f *Fallback) retry() {
	defer close(f.done)
	// On the wall clock: how often Redis is pinged while it is away.
	t := time.NewTicker(f.opts.RetryEvery)
	defer t.Stop()
	ticks := 0
	for {
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
		ticks++
		if !f.degraded.Load() && f.Buffered() == 0 && f.bansWaiting() == 0 && f.remindersWaiting() == 0 && f.settlesWaiting() == 0 && f.carriedWaiting() == 0 && f.postedWaiting() == 0 {
			if ticks%markEvery == 0 {
				f.checkData()
				// A process beside this one that stopped or died
				// while Redis was away left its spool: its items are
				// taken over here, and written at the next tick.
				f.adoptSpools()
			}
			continue
		}
		f.retryOnce()
	}
}

// markEvery is how many of retry's ticks (RetryEvery, a second by default)
// come between two checks of the data marker.
const markEvery = 5

// checkData keeps the data marker in Redis, and says, as an error, when it
// finds it gone after it was there: Redis lost its data (restarted without
// persistence, FLUSHALL, a failover to an empty replica) and with it the
// open cases, strikes and counters; it answers, so nothing else says so.
// With several instances, the first to look after the loss tells it, and
// sets the marker again for the others. A Redis that does not answer says
// nothing here: the events see that.
func (f *Fallback) checkData() {
	ctx, cancel := context.WithTimeout(f.ctx, f.opts.RetryEvery)
	defer cancel()
	evicted := f.checkEvictions(ctx)
	f.checkSkew(ctx)
	had, err := f.primary.markData(ctx)
	if err != nil {
		return
	}
	if !had && f.marked && evicted > 0 {
		// Redis evicted the marker itself (checkEvictions said so): no
		// restart, but the same loss, key by key.
		f.log.Error("redis evicted vigie's data marker to make room: vigie's other keys (cases, leases, marks, counters) are being evicted too; set maxmemory-policy noeviction, or give Redis more memory",
			"store", "redis", "policy", f.evictPolicy())
	} else if !had && f.marked {
		f.dataLost.Add(1)
		f.log.Error("redis lost its data (restarted without persistence, FLUSHALL, or a failover to an empty replica): the open cases, strikes and counters it held are gone; run Redis with appendonly yes",
			"store", "redis")
	}
	f.marked = true
}

// checkEvictions reads Redis's eviction policy and evicted keys (INFO), and
// says, as a warning once, that a Redis with a maxmemory under a policy
// other than noeviction may remove vigie's keys when full (a lease, a case,
// a pending mark, a member's lock, a counter: each one lost silently, the
// Redis answering as if nothing happened), and, as an error at most once a
// minute, each time it did evict keys. It returns how many keys Redis
// evicted since the last check. A Redis that refuses INFO (a managed one
// that forbids it) is said once, as a warning: its evictions are not
// watched; one that does not answer says nothing here (the events see it).
func (f *Fallback) checkEvictions(ctx context.Context) int64 {
	m, err := f.primary.memoryInfo(ctx)
	if err != nil {
		if refused(err) && !f.infoRefused {
			f.infoRefused = true
			f.log.Warn("redis evictions not watched: it refuses INFO; if it may evict keys when full (a maxmemory under a policy other than noeviction), vigie's cases, leases, marks and counters would vanish unsaid: check its maxmemory-policy is noeviction",
				"store", "redis", "err", err)
		}
		return 0
	}
	var policy string
	if m.evicts() {
		policy = fmt.Sprintf("maxmemory-policy %s, maxmemory %d", m.policy, m.maxmemory)
	}
	if old := f.evicts.Load(); policy != "" && (old == nil || *old != policy) {
		f.log.Warn("redis may evict vigie's keys when it is full: leases, cases, pending marks, members' locks and counters would vanish one by one, unsaid; set maxmemory-policy noeviction, with room (most of vigie's keys expire by themselves)",
			"store", "redis", "policy", policy)
	}
	if policy == "" {
		f.evicts.Store(nil)
	} else {
		f.evicts.Store(&policy)
	}
	var n int64
	switch {
	case f.evictedLast < 0:
	case m.evicted >= f.evictedLast:
		n = m.evicted - f.evictedLast
	default:
		n = m.evicted // Redis restarted: its count starts again
	}
	f.evictedLast = m.evicted
	if n > 0 {
		f.evicted.Add(n)
		// On the wall clock: log lines spaced in real time.
		if f.evictLogged.Take(time.Now(), time.Minute) {
			f.log.Error("redis evicted keys to make room: vigie's cases, leases, pending marks, members' locks or counters may be among them, lost; set maxmemory-policy noeviction, or give Redis more memory",
				"store", "redis", "evicted", n, "evicted_since_start", f.evicted.Load(), "policy", m.policy)
		}
	}
	return n
}

// skewTold is the least skew of this machine's clock from Redis's that is
// warned of, and listed on /healthz.
const skewTold = 5 * time.Second

// checkSkew measures this machine's clock against Redis's, and warns when
// they differ by skewTold or more (again when the skew moved by as much).
func (f *Fallback) checkSkew(ctx context.Context) {
	skew, err := f.primary.measureSkew(ctx)
	if err != nil && refused(err) && !f.timeRefused {
		f.timeRefused = true
		f.log.Warn("redis clock not measured: it refuses TIME; the journal of verdicts in flight follows this machine's clock: keep the clocks of the machines sharing this Redis synchronised (NTP)",
			"store", "redis", "err", err)
	}
	if err != nil || skew.Abs() < skewTold || (skew-time.Duration(f.skewWarned)).Abs() < skewTold {
		return
	}
	f.skewWarned = int64(skew)
	f.log.Warn("this machine's clock differs from Redis's: the journal of verdicts in flight follows Redis's clock, the rest follows this one's; synchronise the clocks (NTP)",
		"store", "redis", "redis_ahead_by", skew.Round(time.Millisecond).String())
}

// evictPolicy is the eviction policy checkEvictions last found risky, or
// "".
func (f *Fallback) evictPolicy() string {
	if p := f.evicts.Load(); p != nil {
		return *p
	}
	return ""
}

// Evicted returns how many keys Redis evicted since this process first
// looked (checkEvictions).
func (f *Fallback) Evicted() int64 { return f.evicted.Load() }

// Warnings says what /healthz lists of a Redis that answers but loses
// vigie's data: one that may evict vigie's keys, one that did evict keys,
// one that lost its data since this process started; and of a spool the
// disk refuses, which a stop would lose.
func (f *Fallback) Warnings() []string {
	var out []string
	if p := f.evictPolicy(); p != "" {
		out = append(out, "store: redis may evict vigie's keys when full ("+p+"): set maxmemory-policy noeviction")
	}
	if n := f.evicted.Load(); n > 0 {
		out = append(out, fmt.Sprintf("store: redis evicted %d keys since this vigie started: cases, leases, marks or counters may be among them", n))
	}
	if skew, ok := f.primary.Skew(); ok && skew.Abs() >= skewTold {
		way := "behind"
		if skew < 0 {
			way = "ahead of"
		}
		out = append(out, fmt.Sprintf("clock: this machine's clock is %s %s Redis's: synchronise the clocks (NTP)", skew.Abs().Round(time.Second), way))
	}
	if f.spool != nil && !f.spool.Written() {
		out = append(out, "store: the spool "+f.spool.Path()+" cannot be written (a full or read-only disk): what waits for redis is kept in memory only, and a stop loses it, until the disk takes it")
	}
	if n := f.dataLost.Load(); n > 0 {
		times := "once"
		if n > 1 {
			times = fmt.Sprintf("%d times", n)
		}
		out = append(out, "store: redis lost its data "+times+" since this vigie started (restarted without persistence, FLUSHALL, or an empty replica promoted): the open cases, strikes and counters it held then are gone")
	}
	return out
}

// retryOnce pings Redis and, when it answers, writes back what waited for it. A
// panic ends this round only: the ticker is the pause before the next.
func (f *Fallback) retryOnce() {
	defer func() {
		if v := recover(); v != nil {
			if f.opts.OnPanic != nil {
				f.opts.OnPanic("redis write-back", v, debug.Stack())
				return
			}
			f.log.Error("panic recovered", "where", "redis write-back", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	// Given a patient call's time, not RetryEvery's: under CPU load a ping
	// answered in a millisecond can be read a second later, and with a
	// second for the ping and the write both, a busy vigie stayed on its
	// memory, buffering and dropping, long after Redis was back.
	ctx, cancel := context.WithTimeout(context.Background(), max(f.opts.RetryEvery, 3*f.opts.EventTimeout))
	err := f.primary.Ping(ctx)
	if err == nil {
		// A full Redis (OOM), a replica (READONLY) answers a ping: with
		// nothing waiting to be written, flush would switch back to it, and
		// the next event switch away again, every second.
		err = f.primary.writable(ctx)
	}
	if err == nil {
		// The Redis back may be another (a failover to a replica on
		// another machine): its clock is measured before the journal is
		// stamped on it again, not at the next quiet check.
		f.checkSkew(ctx)
	}
	cancel()
	if err == nil {
		ctx, cancel := context.WithTimeout(f.ctx, 30*time.Second)
		f.flush(ctx)
		cancel()
	}
}

// flushBatch is how many waiting entries flush takes at a time.
const flushBatch = 256

// flush writes the queue to Redis. It stops at the first sign that Redis is
// away again (or when ctx ends), and switches back once the queue is empty.
// Entries keep coming while it runs (events are still moderated), so it
// writes them in batches of a few round trips each, whatever their mix (see
// writeBatch): it drains the queue faster than a busy community fills it, on
// a loaded machine too, instead of staying away from Redis while the queue
// grows to its bounds.
func (f *Fallback) flush(ctx context.Context) {
	// The bans first: a process that reads the book once Redis is back
	// must find them there.
	if f.writeBans(ctx) != nil {
		return
	}
	if f.writeSettles(ctx) != nil || f.writeCarried(ctx) != nil || f.writePosted(ctx) != nil {
		return
	}
	var lost writeLoss
	defer lost.log(f.log)
	for {
		f.mu.Lock()
		if len(f.queue) == 0 && len(f.reminders) > 0 {
			// The cases are in Redis: their reminders go there after them.
			f.mu.Unlock()
			if f.writeReminders(ctx) != nil {
				return
			}
			f.mu.Lock()
		}
		if len(f.queue) == 0 {
			back := f.degraded.Swap(false)
			f.mu.Unlock()
			if back {
				f.log.Info("redis is back: counting there again", "written", f.flushed.Load(), "dropped", f.dropped.Load(),
					"dropped_audit", f.droppedBy[dropAudit].Load(), "dropped_journal", f.droppedBy[dropDone].Load(),
					"dropped_cases", f.droppedBy[dropCase].Load())
			}
			return
		}
		batch := slices.Clone(f.queue[:min(len(f.queue), flushBatch)])
		f.mu.Unlock()
		done, err := f.writeBatch(ctx, batch, &lost)
		// flush alone takes from the queue: its head is still the batch.
		f.mu.Lock()
		kept := 0
		for i, q := range batch {
			switch {
			case !done[i]:
				f.queue[kept] = q
				kept++
			case q.audit != nil || q.done != "":
				f.nAudit--
				f.spool.drop(q.key)
			default:
				f.nCases--
				f.spool.drop(spoolCaseKey(q.caseID))
			}
		}
		f.queue = slices.Delete(f.queue, kept, len(batch))
		f.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// writeBatch writes the waiting entries and says which are done (written, or
// dropped after an error Redis answered). Each kind keeps its order, and goes
// in one round trip: the audit entries in one pipeline, the journal's
// removals in another, the cases opened in a third; only a case acknowledged,
// posted or decided while Redis was away takes more. The kinds touch keys of
// their own, so their order among each other does not matter: taken one run
// at a time, a queue where they alternate (an audit entry and a case per
// event) took a round trip an entry, and could not drain. writeBatch stops
// with an error when Redis is away or ctx ends: what is not done waits.
// writeLoss counts what a flush dropped after an error Redis answered, to
// log it once: a thousand cases refused for the open cases' cap are one line.
type writeLoss struct {
	n     int
	first error
}

func (l *writeLoss) add(n int, err error) {
	if l.first == nil {
		l.first = err
	}
	l.n += n
}

func (l *writeLoss) log(log *slog.Logger) {
	if l.n > 0 {
		log.Error("writing to redis what waited for it: some refused, dropped", "dropped", l.n, "first_err", l.first)
	}
}

func (f *Fallback) writeBatch(ctx context.Context, batch []queued, lost *writeLoss) ([]bool, error) {
	done := make([]bool, len(batch))
	var audits, dones, cases []int
	for i, q := range batch {
		switch {
		case q.audit != nil:
			audits = append(audits, i)
		case q.done != "":
			dones = append(dones, i)
		default:
			cases = append(cases, i)
		}
	}
	// settled marks the entries at idx done, after err; it reports whether
	// the batch goes on.
	settled := func(kind int, idx []int, err error) bool {
		if ctx.Err() != nil || unavailable(err) {
			return false
		}
		if err != nil {
			lost.add(len(idx), err)
			f.drop(kind, int64(len(idx)))
		} else {
			f.flushed.Add(int64(len(idx)))
		}
		for _, i := range idx {
			done[i] = true
		}
		return true
	}
	stopped := func(err error) ([]bool, error) {
		if err == nil || !unavailable(err) {
			err = ctx.Err()
		}
		return done, err
	}
	if len(audits) > 0 {
		entries := make([]store.AuditEntry, len(audits))
		for j, i := range audits {
			entries[j] = *batch[i].audit
		}
		if err := f.primary.appendAudits(ctx, entries); !settled(dropAudit, audits, err) {
			return stopped(err)
		}
	}
	if len(dones) > 0 {
		keys := make([]string, len(dones))
		for j, i := range dones {
			keys[j] = batch[i].done
		}
		// Waited for: a write-back is done once Redis said so.
		if err := f.primary.done(ctx, keys...); !settled(dropDone, dones, err) {
			return stopped(err)
		}
	}
	if len(cases) > 0 {
		run := make([]queued, len(cases))
		for j, i := range cases {
			run[j] = batch[i]
		}
		// All opened at once; one that was not is tried again by write.
		if err := f.openWaiting(ctx, run); ctx.Err() != nil || unavailable(err) {
			return stopped(err)
		}
		for _, i := range cases {
			err := f.write(ctx, batch[i])
			if !settled(dropCase, []int{i}, err) {
				return stopped(err)
			}
			if err != nil { // refused by Redis, dropped
				f.mu.Lock()
				lc := f.cases[batch[i].caseID]
				refused := lc != nil && lc.remote == ""
				if refused {
					f.neverWritten(batch[i].caseID)
				}
				f.mu.Unlock()
				if refused && errors.Is(err, store.ErrCaseCap) {
					f.closeRefused(ctx, batch[i].caseID)
				}
			}
		}
	}
	return done, nil
}

// openWaiting opens in Redis, in one batch, the waiting cases of run that are
// not there yet. A case it could not open is tried again by write.
func (f *Fallback) openWaiting(ctx context.Context, run []queued) error {
	var ids []string
	var cases []store.Case
	f.mu.Lock()
	for _, q := range run {
		if q.caseID == "" {
			break
		}
		if lc := f.cases[q.caseID]; lc != nil && lc.remote == "" {
			ids = append(ids, q.caseID)
		}
	}
	f.mu.Unlock()
	found := ids[:0]
	for _, id := range ids {
		c, err := f.local.Ungroup(ctx, id)
		if err != nil {
			continue // write reports it
		}
		c.ID = ""
		cases = append(cases, c)
		found = append(found, id)
	}
	ids = found
	if len(cases) == 0 {
		return nil
	}
	opened, errs := f.primary.openCases(ctx, cases, false)
	f.mu.Lock()
	defer f.mu.Unlock()
	var first error
	for i, err := range errs {
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		f.mapRemote(ids[i], opened[i].ID)
		if lc := f.cases[ids[i]]; lc != nil {
			lc.merged = opened[i].Hits() > cases[i].Hits()
		}
	}
	return first
}

// closeRefused closes in memory a case Redis refused for the open cases' cap
// when it was written back: dropped, it is no longer open anywhere, as a case
// refused when it opened. Left open in memory, each outage added its refused
// cases to the cap's.
func (f *Fallback) closeRefused(ctx context.Context, id string) {
	_, err := f.local.DecideCase(ctx, id, outcomeDropped, "vigie", "", f.opts.Now())
	if err != nil && !errors.Is(err, store.ErrDecided) {
		f.log.Warn("a case redis refused for the open cases' cap is still open in memory", "case", id, "err", err)
	}
}

// outcomeDropped is the outcome of a case opened in memory while Redis was
// away and refused by Redis for the open cases' cap when written back.
const outcomeDropped = "dropped"

// neverWritten records that the local case id will stay in memory: the desk
// still finds it there, but only the newest maxMapped such ids are
// remembered, and their cases kept, so that long or many outages do not grow
// cases without end. f.mu is held.
func (f *Fallback) neverWritten(id string) {
	if lc := f.cases[id]; lc != nil {
		lc.memoryOnly = true
	}
	f.memoryOnly = append(f.memoryOnly, id)
	if len(f.memoryOnly) > f.maxMapped {
		f.forgetLocal(f.memoryOnly[0])
		f.memoryOnly = f.memoryOnly[1:]
	}
}

// mapRemote records the Redis id of a local case. f.mu is held.
func (f *Fallback) mapRemote(local, remote string) {
	lc := f.cases[local]
	if lc == nil {
		return
	}
	lc.remote = remote
	f.mapped = append(f.mapped, local)
	if len(f.mapped) > f.maxMapped {
		f.forgetLocal(f.mapped[0])
		f.mapped = f.mapped[1:]
	}
}

// forgetLocal forgets a local id and, if the memory still has it, its case:
// kept open there with no id to reach it, it was listed beside its copy in
// Redis, and decided nothing when a CM decided it. f.mu is held.
func (f *Fallback) forgetLocal(id string) {
	delete(f.cases, id)
	_ = f.local.ForgetCase(context.Background(), id)
	f.spool.drop(spoolCaseKey(id))
}

// write sends one waiting entry. A case is opened in Redis once (a retry after
// a failure picks up where it stopped), then acknowledged and decided there as
// it was in memory.
func (f *Fallback) write(ctx context.Context, q queued) error {
	f.mu.Lock()
	lc := f.cases[q.caseID]
	if lc == nil {
		// Written long ago, and forgotten since (maxMapped).
		f.mu.Unlock()
		return nil
	}
	remote := lc.remote
	f.mu.Unlock()
	read := f.local.Case
	if remote == "" {
		read = f.local.Ungroup
	}
	c, err := read(ctx, q.caseID)
	if err != nil {
		return err
	}
	if remote == "" {
		open := c
		open.ID = ""
		opened, err := f.primary.OpenCase(ctx, open)
		if err != nil {
			return err
		}
		f.mu.Lock()
		f.mapRemote(q.caseID, opened.ID)
		lc.merged = opened.Hits() > c.Hits()
		f.mu.Unlock()
		remote = opened.ID
	}
	// From here on the desk's calls go to Redis; read what happened before.
	if c, err = f.local.Case(ctx, q.caseID); err != nil {
		return err
	}
	f.mu.Lock()
	// A case merged into another is shown by that one's card: posted
	// already, or still to post with this hit counted in.
	acked, amended := lc.acked && !lc.merged, lc.amended
	f.mu.Unlock()
	if amended {
		a := store.CaseAmendment{Reason: c.Reason, Suggested: c.Suggested, NotDone: c.NotDone}
		if err := f.primary.AmendCase(ctx, remote, a); err != nil {
			return err
		}
	}
	if acked {
		ack := f.primary.AckCase
		if c.Undeliverable != "" {
			ack = func(ctx context.Context, id string) error {
				return f.primary.MarkUndeliverable(ctx, id, c.Undeliverable)
			}
		}
		if err := ack(ctx, remote); err != nil {
			return err
		}
	}
	cards, err := f.local.CaseCards(ctx, q.caseID)
	if err != nil {
		return err
	}
	for _, card := range cards {
		if err := f.primary.AddCard(ctx, remote, card); err != nil {
			return err
		}
	}
	if c.Status == store.CaseDecided {
		_, err := f.primary.DecideCase(ctx, remote, c.Outcome, c.DecidedBy, c.DeciderName, c.DecidedAt)
		if err != nil && !errors.Is(err, store.ErrDecided) {
			return err
		}
	}
	// Redis has all of it, and the desk's calls go there: the memory's copy,
	// kept, stayed open there for good (listed once the local id was
	// forgotten, and counted against the memory's open cases' cap).
	_ = f.local.ForgetCase(ctx, q.caseID)
	return nil
}

// Close stops the retries, writes what waits if Redis answers, and closes the
// Redis store.
func (f *Fallback) Close() error {
	f.closeMu.Do(func() {
		close(f.stop)
		f.cancel()
		<-f.done
		// What the Redis store still queues goes out now; what Redis does
		// not take comes back here (takeOver), to be counted below.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = f.primary.settle(ctx)
		cancel()
		if f.Buffered() > 0 || f.bansWaiting() > 0 || f.remindersWaiting() > 0 || f.settlesWaiting() > 0 || f.carriedWaiting() > 0 || f.postedWaiting() > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			if f.primary.Ping(ctx) == nil {
				f.flush(ctx)
			}
			cancel()
			lost := f.Unwritten()
			for _, b := range f.bansWaitingList() {
				lost = append(lost, "ban "+b.Key())
			}
			f.mu.Lock()
			for id, k := range f.reminders {
				lost = append(lost, fmt.Sprintf("reminder %d of %s", k, id))
			}
			f.mu.Unlock()
			var marks, carried []string
			f.sentMu.Lock()
			for m := range f.settles {
				marks = append(marks, m.Platform+":"+m.ID)
			}
			for id := range f.carried {
				carried = append(carried, id)
			}
			var posted []string
			for id := range f.posted {
				posted = append(posted, id)
			}
			f.sentMu.Unlock()
			if len(posted) > 0 {
				slices.Sort(posted)
				f.log.Error("redis unreachable at shutdown: the cards of these cases, posted while it was away, are not recorded there; each may be posted again, and a decision taken on one not shown on it",
					"count", len(posted), "cases", strings.Join(posted, "; "))
			}
			if len(carried) > 0 {
				slices.Sort(carried)
				f.log.Error("redis unreachable at shutdown: how the decisions of these cases were carried out is not recorded there; a press of one handed on carries it out again",
					"count", len(carried), "cases", strings.Join(carried, "; "))
			}
			if len(marks) > 0 {
				slices.Sort(marks)
				f.log.Error("redis unreachable at shutdown: the pending marks of events judged meanwhile are not settled there; a retry of those events after the pending hold is judged again",
					"count", len(marks), "events", strings.Join(marks, "; "))
			}
			if len(lost) > 0 {
				f.spool.Sync()
				if f.spool != nil && f.spool.Written() {
					f.log.Warn("redis unreachable at shutdown: cases, audit entries and bans kept in the spool, for the next start to write back",
						"count", len(lost), "spool", f.spool.Path(), "kept", strings.Join(lost, "; "))
				} else {
					f.log.Error("redis unreachable at shutdown: cases, audit entries and bans lost", "count", len(lost),
						"lost", strings.Join(lost, "; "))
				}
			}
		}
	})
	return errors.Join(f.spool.Close(), f.primary.Close())
}

// LearnFAQ goes to Redis alone: a wording learned while Redis is away is lost,
// which costs a CM one more answer, not a decision.
func (f *Fallback) LearnFAQ(ctx context.Context, w store.FAQWording) error {
	return f.primary.LearnFAQ(ctx, w)
}

// FAQWordings reads Redis.
func (f *Fallback) FAQWordings(ctx context.Context) ([]store.FAQWording, error) {
	return f.primary.FAQWordings(ctx)
}
