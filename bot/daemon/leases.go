package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// LeaseOptions tune how the processes sharing a store share the single-owner
// jobs (each Discord shard, the Telegram poller, the morning report): a job
// runs in the one process that holds its lease in the store, which renews it
// every RenewEvery for TTL; when the owner stops renewing (it died, or lost
// Redis), its lease runs out and another process, asking every RetryEvery,
// takes the job over. A dead owner's jobs move within about TTL+RetryEvery.
// A process that takes a lease without knowing that nobody runs its job (at
// its start, after it lost the lease, after the store did not answer) starts
// the job RenewEvery+RetryEvery later.
type LeaseOptions struct {
	// TTL is how long a lease lasts unless renewed (default 15s,
	// VIGIE_LEASE_TTL).
	TTL time.Duration
	// RenewEvery is how often the owner renews (default TTL/3).
	RenewEvery time.Duration
	// RetryEvery is how often a process asks for a job it does not hold
	// (default TTL/3).
	RetryEvery time.Duration
	// Owner names this process in the leases (default host-pid-random).
	Owner string
	// Now is the clock the local end of a lease is read on (time.Now).
	Now func() time.Time
	// AfterFunc is the timer of Now's clock: a process waits on it before
	// it asks again for a job, and before it starts a job whose lease it
	// took without knowing that nobody runs it. Nil means time.AfterFunc;
	// a test that drives Now drives it.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

func (o LeaseOptions) withDefaults(getenv func(string) string) LeaseOptions {
	if o.TTL <= 0 {
		o.TTL = envDuration(getenv, "VIGIE_LEASE_TTL", 15*time.Second)
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = o.TTL / 3
	}
	if o.RetryEvery <= 0 {
		o.RetryEvery = o.TTL / 3
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		o.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// leases runs the single-owner jobs of this process while it holds their
// leases, and says which it holds.
type leases struct {
	st    store.Leaser
	o     LeaseOptions
	log   *slog.Logger
	owned *prometheus.GaugeVec
	// alone: this process is the only one (a memory store); it gets every
	// lease, and says so in debug lines only.
	alone bool

	mu   sync.Mutex
	held map[string]store.Lease // by job
}

func newLeases(st store.Leaser, o LeaseOptions, log *slog.Logger, reg prometheus.Registerer, alone bool) *leases {
	if o.AfterFunc == nil {
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	l := &leases{
		alone: alone,
		st:    st,
		o:     o,
		log:   log.With("owner", o.Owner),
		owned: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_lease_owned",
			Help: "1 while this process holds the lease of a single-owner job (a Discord shard, the Telegram poller, the morning report) and runs it, 0 while another process does.",
		}, []string{"job"}),
		held: map[string]store.Lease{},
	}
	reg.MustRegister(l.owned)
	return l
}

// owns reports whether this process holds job's lease now.
func (l *leases) owns(job string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.held[job]
	return ok
}

// list returns the jobs this process holds, sorted.
func (l *leases) list() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.held))
	for j := range l.held {
		out = append(out, j)
	}
	slices.Sort(out)
	return out
}

func (l *leases) set(job string, lease store.Lease, held bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if held {
		l.held[job] = lease
		l.owned.WithLabelValues(job).Set(1)
		return
	}
	delete(l.held, job)
	l.owned.WithLabelValues(job).Set(0)
}

// run runs work while this process holds job's lease, until ctx ends: work
// starts once the lease is taken (a renewal period later unless the last
// answer said who ran the job), and its context is cancelled, and work
// waited for, as soon as the store says the lease was lost. Then the lease is
// asked for again. The lease it is given fences its writes.
//
// A store that does not answer is not a lost lease: vigie goes on moderating
// from memory while Redis is away, and the jobs it held go on with it (none
// is taken up meanwhile). Every other process sees the lease run out and one
// takes the job over; the first answer this one gets says it lost the lease,
// and it stops. So a job runs twice only while a process is cut from Redis
// and not from the platform, and a write under a Fence is refused as soon
// as Redis answers.
func (l *leases) run(ctx context.Context, job string, work func(ctx context.Context, lease store.Lease)) {
	l.owned.WithLabelValues(job).Set(0)
	log := l.log.With("job", job)
	failing := false
	// heldElsewhere: the last answer said another process holds the job.
	// Should Redis lose its data (a FLUSHALL, a restart without
	// persistence), that process runs the job until its next renewal tells
	// it: the lease is then held by nobody until that renewal is past (a
	// renewal period, and an ask's), for every process.
	heldElsewhere := false
	// gaveUp: this process held the lease until it gave it up (the job
	// returned): nobody else runs the job.
	gaveUp := false
	careful, _ := l.st.(interface {
		AcquireLeaseAfterHeld(ctx context.Context, job, owner string, ttl, wait time.Duration) (store.Lease, bool, error)
	})
	for {
		start := l.o.Now()
		var (
			lease store.Lease
			ok    bool
			err   error
		)
		if heldElsewhere && careful != nil {
			lease, ok, err = careful.AcquireLeaseAfterHeld(ctx, job, l.o.Owner, l.o.TTL, l.o.RenewEvery+l.o.RetryEvery)
		} else {
			lease, ok, err = l.st.AcquireLease(ctx, job, l.o.Owner, l.o.TTL)
		}
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, store.ErrLeaseReset):
			failing = false
			l.info(log, "lease lost by the store with its data, or its key evicted: taken after its holder's next renewal, which stops the job there")
		case err != nil:
			if !failing {
				log.Warn("lease not asked for: the store does not answer", "err", err)
			}
			failing = true
		case ok:
			// Found free: the job starts at once only when the last answer,
			// given in time, said who ran it: another process, whose lease
			// then ran out in Redis (it stopped renewing), or this one,
			// which gave it up. Otherwise, a process may still run it
			// whose lease Redis lost (a FLUSHALL, a failover) or let run
			// out while it did not answer (a freeze): the job starts here
			// after that process's next renewal, which finds the lease
			// taken and stops the job there.
			wait := ""
			switch {
			case l.alone:
			case failing || l.o.Now().Sub(start) > l.o.RenewEvery:
				// After Redis did not answer, or answered late (a freeze,
				// an outage longer than the TTL): the holder's lease ran
				// out while it could not renew.
				wait = "lease taken after the store did not answer: the job starts here after the last holder's next renewal, which stops it there"
			case gaveUp, heldElsewhere:
			default:
				wait = "lease taken: the job starts here after the next renewal of any process that still runs it, which stops it there"
			}
			if wait != "" {
				if lease, ok = l.await(ctx, log, lease, wait); !ok {
					break
				}
				start = l.o.Now()
			}
			failing, heldElsewhere = false, false
			gaveUp = l.hold(ctx, log, lease, start, work)
			if ctx.Err() != nil {
				return
			}
		default:
			failing, heldElsewhere, gaveUp = false, true, false
		}
		if !l.wait(ctx, l.o.RetryEvery) {
			return
		}
	}
}

// await holds lease, taken without knowing that nobody runs its job, for a
// renewal period and an ask's before its job starts, and reports whether it
// still holds it. The renewal that says so may take up to the TTL: a store
// that answers, however late, says whether the lease is still this
// process's. Before, it was cut after a renewal period and taken for a
// lost lease; on a store slower than that (a loaded machine, a distant
// Redis) each ask took the lease back, renewed it, and the job never
// started, anywhere.
func (l *leases) await(ctx context.Context, log *slog.Logger, lease store.Lease, msg string) (store.Lease, bool) {
	l.info(log, msg, "token", lease.Token)
	if !l.wait(ctx, l.o.RenewEvery+l.o.RetryEvery) {
		return lease, false
	}
	rctx, cancel := context.WithTimeout(ctx, l.o.TTL)
	ok, err := l.st.RenewLease(rctx, lease, l.o.TTL)
	cancel()
	switch {
	case ctx.Err() != nil:
		return lease, false
	case err != nil && !errors.Is(err, store.ErrLeaseGone):
		log.Warn("lease not renewed before the job started here: the store does not answer; asked for again", "token", lease.Token, "err", err)
		return lease, false
	case err != nil || !ok:
		log.Warn("lease lost before the job started here", "token", lease.Token, "err", err)
		return lease, false
	}
	return lease, true
}

// hold runs work under lease, taken at start, renewing it until it is lost
// or ctx ends, gives it up when it may still hold it, and reports whether it
// did.
func (l *leases) hold(ctx context.Context, log *slog.Logger, lease store.Lease, start time.Time, work func(context.Context, store.Lease)) (gaveUp bool) {
	// The lease surely lasts until start+TTL: Redis started counting after
	// the request left.
	until := start.Add(l.o.TTL)
	l.set(lease.Job, lease, true)
	l.info(log, "lease acquired: running the job here", "token", lease.Token)
	jobCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		work(jobCtx, lease)
	}()
	lost, away, gone := l.renew(ctx, log, lease, until, done)
	stop()
	<-done
	l.set(lease.Job, lease, false)
	switch {
	case lost && away:
		// Alone on the store, vigie takes it again at its next try, and runs
		// the job a renewal period later. There is nothing to give up: it is
		// another's, or nobody's.
		log.Warn("lease lost: it ran out while the store did not answer; stopped here until a process takes it again", "token", lease.Token)
		return false
	case lost && gone:
		// Nobody holds it: this process or another takes it at its next try.
		log.Warn("lease lost: the store no longer holds it (its data was lost, or the lease ran out) and no other process runs the job; stopped here until a process takes it again", "token", lease.Token)
		return false
	case lost:
		log.Warn("lease lost: another process runs the job now; stopped here", "token", lease.Token)
		return false
	}
	// Given up on purpose (a shutdown, the job returned): another process
	// may take it at once rather than after the TTL.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if err := l.st.ReleaseLease(rctx, lease); err != nil {
		log.Warn("lease not released; it runs out on its own", "err", err)
	}
	l.info(log, "lease released", "token", lease.Token)
	return true
}

// info logs what a process sharing its store with others says at info level.
func (l *leases) info(log *slog.Logger, msg string, args ...any) {
	if l.alone {
		log.Debug(msg, args...)
		return
	}
	log.Info(msg, args...)
}

// renew renews lease every RenewEvery until the store says it was lost
// (lost), ctx ends or the job returned. until is when the lease runs out in
// the store at the earliest; away says it ran out while the store did not
// answer: the renewals before the loss failed, and until is past. A renewal
// that timed out once (a slow Redis, a loaded machine) does not make a
// lease lost before until away: the store lost it with its data, or gave it
// to another after that. gone says the store holds no lease of the job
// (store.ErrLeaseGone), not another owner's.
//
// A renewal is waited for up to the TTL, not a renewal period: the answer,
// however late, is what tells this process another took the job, and it
// comes as soon as the store answers (a frozen Redis answers what it was
// asked while frozen once it runs again). Cut after a renewal period, the
// renewals of a loaded machine timed out one after the other once Redis
// answered again, each on a new connection, and the job ran here beside the
// process that had taken it over, for seconds, until one came back in time.
func (l *leases) renew(ctx context.Context, log *slog.Logger, lease store.Lease, until time.Time, done <-chan struct{}) (lost, away, gone bool) {
	t := time.NewTicker(l.o.RenewEvery)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return false, false, false
		case <-done:
			return false, false, false
		case <-t.C:
		}
		start := l.o.Now()
		rctx, cancel := context.WithTimeout(ctx, l.o.TTL)
		ok, err := l.st.RenewLease(rctx, lease, l.o.TTL)
		cancel()
		switch {
		case ctx.Err() != nil:
			return false, false, false
		case errors.Is(err, store.ErrLeaseGone):
			return true, failing && !l.o.Now().Before(until), true
		case err != nil:
			if !failing {
				log.Warn("lease not renewed: the store does not answer; the job goes on here until it does", "err", err, "runs_out_in", until.Sub(l.o.Now()).Round(time.Millisecond))
			}
			failing = true
		case !ok:
			return true, failing && !l.o.Now().Before(until), false
		default:
			if failing {
				log.Info("lease renewed again", "token", lease.Token)
			}
			failing = false
			until = start.Add(l.o.TTL)
		}
	}
}

// sleep waits d or until ctx ends, and reports whether it waited the whole time.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// wait is sleep on the leases' clock (LeaseOptions.AfterFunc).
func (l *leases) wait(ctx context.Context, d time.Duration) bool {
	fired := make(chan struct{})
	stop := l.o.AfterFunc(d, func() { close(fired) })
	defer stop()
	select {
	case <-fired:
		return true
	case <-ctx.Done():
		return false
	}
}

// Job is a connector's single-owner work: a Discord shard, the Telegram
// poller or its webhook registration. It runs as a source, restarted when it
// fails, in the one process that holds its lease.
type Job struct {
	// Name names the job's lease, and the source in /-/ready and the logs.
	Name string
	// Run runs the job until ctx is cancelled, as bot.Source's Run; fence
	// guards the writes an owner that lost the job could clobber.
	Run func(ctx context.Context, fence Fence, out chan<- bot.Event) error
	// Link, when set, says whether the job is connected to its platform.
	Link func() bot.Link
}

// Fence is the lease a job runs under, for the values it keeps in the
// store: they only move forward while the lease is current.
type Fence struct {
	st    store.Leaser
	lease store.Lease
}

// Load returns the job's value name (0 when never set).
func (f Fence) Load(ctx context.Context, name string) (int64, error) {
	return f.st.Fenced(ctx, f.lease.Job, name)
}

// Advance raises the job's value name to v, and fails with ErrFenced once
// this process no longer holds the job.
func (f Fence) Advance(ctx context.Context, name string, v int64) error {
	ok, err := f.st.AdvanceFenced(ctx, f.lease, name, v)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s (token %d): %w", f.lease.Job, f.lease.Token, ErrFenced)
	}
	return nil
}

// AdvanceKeeping is Advance, and keeps items in the job's inbox in the same
// write (store.Inbox), at most max of them; it returns how many of the
// oldest were let go. It fails with errNoInbox, writing nothing, when the
// store keeps no inbox.
func (f Fence) AdvanceKeeping(ctx context.Context, name string, v int64, items []store.InboxItem, max int) (int, error) {
	in, ok := f.st.(store.Inbox)
	if !ok {
		return 0, errNoInbox
	}
	ok, dropped, err := in.AdvanceFencedKeeping(ctx, f.lease, name, v, items, max)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, fmt.Errorf("%s (token %d): %w", f.lease.Job, f.lease.Token, ErrFenced)
	}
	return dropped, nil
}

// Inbox returns the items in the job's inbox.
func (f Fence) Inbox(ctx context.Context) ([]store.InboxItem, error) {
	in, ok := f.st.(store.Inbox)
	if !ok {
		return nil, errNoInbox
	}
	return in.InboxItems(ctx, f.lease.Job)
}

// RemoveFromInbox removes the items of ids from the job's inbox.
func (f Fence) RemoveFromInbox(ctx context.Context, ids []int64) error {
	in, ok := f.st.(store.Inbox)
	if !ok {
		return errNoInbox
	}
	return in.RemoveFromInbox(ctx, f.lease.Job, ids)
}

// HandingOn counts a hand-on for the items of ids in the job's inbox.
func (f Fence) HandingOn(ctx context.Context, ids []int64, now time.Time) error {
	in, ok := f.st.(store.Inbox)
	if !ok {
		return errNoInbox
	}
	return in.HandingOn(ctx, f.lease.Job, ids, now)
}

// ReleaseInbox marks the items of ids in the job's inbox as released.
func (f Fence) ReleaseInbox(ctx context.Context, ids []int64) error {
	in, ok := f.st.(store.Inbox)
	if !ok {
		return errNoInbox
	}
	return in.ReleaseInbox(ctx, f.lease.Job, ids)
}

// KeepsInbox reports whether the store keeps an inbox for the job.
func (f Fence) KeepsInbox() bool {
	_, ok := f.st.(store.Inbox)
	return ok
}

// errNoInbox is what a Fence's inbox methods return on a store without one.
var errNoInbox = errors.New("the store keeps no inbox")

// ErrFenced is what a Fence's Advance wraps once the lease was lost.
var ErrFenced = errors.New("the job's lease was lost: another process runs it now")

// jobSource is a job under a lease, as supervise runs it.
type jobSource struct {
	job   Job
	fence Fence
}

func (s jobSource) Name() string { return s.job.Name }
func (s jobSource) Run(ctx context.Context, out chan<- bot.Event) error {
	return s.job.Run(ctx, s.fence, out)
}
