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
// jobs (each Discord shard, the Telegram poller, the escalation, the
// morning report): a job runs in the one process that holds its lease in
// the store, which renews it every RenewEvery for TTL; when the owner stops
// renewing (it died, or lost Redis), its lease runs out and another
// process, asking every RetryEvery, takes the job over. The owner stops the
// job Margin before the TTL is up from its last renewal sent, on its own
// clock, and no later than BlindMost less a fifth after it; a process that takes a lease
// its last holder did not give up starts the job TTL+Margin after it found
// it free, with the longer of its TTL and that holder's (handOver). A dead owner's jobs
// move within about 2*TTL+Margin+RetryEvery; a stopped one's (a lease given
// up) within RetryEvery.
type LeaseOptions struct {
	// TTL is how long a lease lasts unless renewed (default 15s,
	// VIGIE_LEASE_TTL).
	TTL time.Duration
	// RenewEvery is how often the owner renews (default TTL/3, and no
	// more than BlindMost/3).
	RenewEvery time.Duration
	// BlindMost bounds how long a holder runs its job without a renewal
	// that got through, whatever its TTL: it stops a fifth of it before,
	// and a process that takes a lease the store keeps no trace of (Redis
	// lost its data) waits that long, or its TTL if longer, and Margin
	// (default leaseBlindMost, VIGIE_LEASE_TTL_MAX: the longest
	// VIGIE_LEASE_TTL of the instances sharing the store, set alike on each).
	BlindMost time.Duration
	// RetryEvery is how often a process asks for a job it does not hold
	// (default TTL/3).
	RetryEvery time.Duration
	// Margin is how long before its lease can run out in the store the
	// owner stops its job, and how long past the TTL a new owner waits: it
	// covers the clocks' drift and the time between a job's check of its
	// lease and its call (default TTL/5, at most TTL-RenewEvery, so that a
	// renewal in time always keeps the job).
	Margin time.Duration
	// Owner names this process in the leases (default host-pid-random).
	Owner string
	// Now is the clock the local end of a lease is read on (time.Now).
	Now func() time.Time
	// AfterFunc is the timer of Now's clock: a process waits on it before
	// it asks again for a job, before it starts a job whose lease its last
	// holder did not give up, between its renewals, and for its lease's
	// deadline. Nil means time.AfterFunc; a test that drives Now drives it.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
}

func (o LeaseOptions) withDefaults(getenv func(string) string) LeaseOptions {
	if o.TTL <= 0 {
		o.TTL = envDuration(getenv, "VIGIE_LEASE_TTL", 15*time.Second)
	}
	if o.BlindMost <= 0 {
		o.BlindMost = envDuration(getenv, "VIGIE_LEASE_TTL_MAX", leaseBlindMost)
	}
	if o.RenewEvery <= 0 {
		// A lease longer than BlindMost is renewed as often as one of
		// BlindMost: its holder stops the job a fifth of it before it
		// went that long without a renewal.
		o.RenewEvery = min(o.TTL, o.BlindMost) / 3
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
	// told says that a TTL other than this one's was logged.
	told bool
}

// leaseBlindMost is LeaseOptions.BlindMost's default: a process that takes
// a lease the store keeps no trace of (Redis lost its data) cannot know the
// TTL of a holder it never saw, and waits this long, so that such a holder,
// cut from Redis, has stopped its job, a fifth of it before, whatever its
// TTL.
const leaseBlindMost = 15 * time.Second

// heard notes d, the TTL a lease was taken for by another process
// (store.Lease.HeldFor), and logs once that the processes' TTLs differ.
func (l *leases) heard(log *slog.Logger, d time.Duration) {
	if d <= 0 || d == l.o.TTL {
		return
	}
	l.mu.Lock()
	first := !l.told
	l.told = true
	l.mu.Unlock()
	if first {
		log.Warn("the processes sharing this store take their leases for different times (VIGIE_LEASE_TTL): a job taken over waits for the lease its last holder took, however short this one's; set the same everywhere",
			"ttl", l.o.TTL.String(), "other", d.String())
	}
}

// handOver is how long a process that took a lease its last holder did not
// give up waits before it starts the job, the store having said the TTL that
// holder took it for (was, store.Lease.HeldFor): the longer of that and its
// own, and Margin. A holder before that one lost the lease before it took
// it, and has stopped. When the store says none (zero: it lost its data, or
// its keys were evicted, or an earlier build took the lease), the holder
// may be one this process never saw, with any TTL: it waits for
// BlindMost, past the time any holder runs its job without a renewal.
func (l *leases) handOver(was time.Duration) time.Duration {
	if was <= 0 {
		was = l.o.BlindMost
	}
	return max(l.o.TTL, was) + l.o.Margin
}

func newLeases(st store.Leaser, o LeaseOptions, log *slog.Logger, reg prometheus.Registerer, alone bool) *leases {
	if o.AfterFunc == nil {
		// Without a clock given, the wall clock's: a lease's TTL runs out on Redis's, in real seconds.
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	if o.Margin <= 0 {
		o.Margin = o.TTL / 5
	}
	if o.BlindMost <= 0 {
		o.BlindMost = leaseBlindMost
	}
	o.Margin = max(min(o.Margin, o.TTL-o.RenewEvery), 0)
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

// run runs work while this process holds job's lease, until ctx ends, and
// asks for the lease again after each loss. It is safe by construction,
// whatever the timing of the processes and of the store:
//
//   - The holder counts its lease on its own monotonic clock (Now), from
//     when the last acquisition or renewal that held it was sent, not
//     answered: the store started counting the TTL after that. Margin
//     before the TTL is up (its deadline), the lease may have run out: the
//     job's context carries the hold (bot.WithLeaseHold), which refuses its
//     calls out of the process from then on (the platform clients' HTTP
//     calls, the store's commands), and the job is stopped. A process
//     paused, starved of the CPU or cut from the store stops acting before
//     its lease can have run out, whether or not the store answers it.
//   - A process that takes a lease whose last holder did not give it up
//     (store.Lease.GivenUp: it ran out, or the store lost it) starts the
//     job TTL and Margin after it found it free: that holder's deadline,
//     at most a TTL after its last renewal was sent, which was before,
//     has surely passed. Meanwhile it holds the lease, renewed, so that no
//     other takes it, and the old holder's renewal, if it gets through,
//     finds it taken.
//   - Where the job writes its progress to the store (the Telegram offset
//     and inbox), the write carries the lease's token, and a script refuses
//     it once a later lease was taken (Fence).
//
// So a job stops wherever its lease may have run out, even while the store
// does not answer: vigie goes on moderating from memory while Redis is
// away, but the single-owner jobs stop, everywhere, until a process holds
// their lease again.
func (l *leases) run(ctx context.Context, job string, work func(ctx context.Context, lease store.Lease)) {
	l.owned.WithLabelValues(job).Set(0)
	log := l.log.With("job", job)
	failing := false
	// last is the lease this process held last: one it gets back with the
	// same token was held by nobody else since, and its job may start when
	// last's could (lastStart).
	var (
		last      store.Lease
		lastStart time.Time
	)
	for {
		sent := l.o.Now()
		lease, ok, err := l.st.AcquireLease(ctx, job, l.o.Owner, l.o.TTL)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			if !failing {
				log.Warn("lease not asked for: the store does not answer", "err", err)
			}
			failing = true
		case ok:
			failing = false
			now := l.o.Now()
			l.heard(log, lease.HeldFor)
			switch {
			case l.alone || lease.GivenUp:
				lastStart = now
			case lease.Token != last.Token:
				// From when the answer came: the store found the lease
				// free before.
				lastStart = now.Add(l.handOver(lease.HeldFor))
			}
			last = lease
			l.hold(ctx, log, lease, sent, max(lastStart.Sub(now), 0), work)
			if ctx.Err() != nil {
				return
			}
		default:
			failing = false
			l.heard(log, lease.HeldFor)
		}
		if !l.wait(ctx, l.o.RetryEvery) {
			return
		}
	}
}

// leaseHold is a lease as the process holding it counts it
// (bot.LeaseHold): it surely lasts until its deadline, Margin before the TTL
// is up from when the last acquisition or renewal that held it was sent,
// on the process's monotonic clock.
type leaseHold struct {
	job   string
	token int64
	now   func() time.Time
	ttl   time.Duration // TTL - Margin

	mu       sync.Mutex
	deadline time.Time
	lost     bool
}

var _ bot.LeaseHold = (*leaseHold)(nil)

// Check fails once the lease may have run out, or was lost.
func (h *leaseHold) Check() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost || !h.now().Before(h.deadline) {
		return fmt.Errorf("%s (token %d): %w", h.job, h.token, bot.ErrLeaseRunOut)
	}
	return nil
}

// renewed moves the deadline on after a renewal sent at sent held the
// lease, unless it was lost already.
func (h *leaseHold) renewed(sent time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if d := sent.Add(h.ttl); d.After(h.deadline) {
		h.deadline = d
	}
}

// end makes every Check fail from now on.
func (h *leaseHold) end() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.lost = true
}

// left is how long the lease surely lasts from now, 0 once lost.
func (h *leaseHold) left() time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost {
		return 0
	}
	return max(h.deadline.Sub(h.now()), 0)
}

// watch calls expire once h's deadline is past, on the leases' clock, and
// stops watching when stop is called.
func (l *leases) watch(h *leaseHold, expire func()) (stop func()) {
	var (
		mu      sync.Mutex
		stopped bool
		timer   func() bool
	)
	var arm func()
	arm = func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if d := h.left(); d > 0 {
			timer = l.o.AfterFunc(d, arm)
			return
		}
		stopped = true
		h.end()
		expire()
	}
	arm()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		if timer != nil {
			timer()
		}
	}
}

// hold holds lease, taken by a request sent at sent, renewing it every
// RenewEvery; runs work under it startIn from now, once nobody else may
// run the job; and stops work as soon as the lease may have run out on
// this process's clock, or the store says it was lost. It gives the lease
// up when the job stopped with ctx, or on this clock: the next owner need
// not wait for it then.
func (l *leases) hold(ctx context.Context, log *slog.Logger, lease store.Lease, sent time.Time, startIn time.Duration, work func(context.Context, store.Lease)) {
	h := &leaseHold{job: lease.Job, token: lease.Token, now: l.o.Now, ttl: min(l.o.TTL-l.o.Margin, l.o.BlindMost-l.o.BlindMost/5)}
	h.renewed(sent)
	hctx, expire := context.WithCancel(ctx)
	defer expire()
	if !l.alone {
		// Alone on a memory store, no other process may take the job:
		// its lease never runs out under it.
		stopWatch := l.watch(h, expire)
		defer stopWatch()
	}

	startC := make(chan struct{})
	if startIn <= 0 {
		close(startC)
	} else {
		l.info(log, "lease taken: the job starts here once the lease of any process that may still run it has run out on that process's clock",
			"token", lease.Token, "starts_in", startIn.Round(time.Millisecond))
		stopStart := l.o.AfterFunc(startIn, func() { close(startC) })
		defer stopStart()
	}
	var (
		done    chan struct{} // closed when work returned; nil before it starts
		stopJob context.CancelFunc
	)
	start := func() {
		jctx := hctx
		if !l.alone {
			jctx = bot.WithLeaseHold(hctx, h)
		}
		jobCtx, cancel := context.WithCancel(jctx)
		stopJob, done = cancel, make(chan struct{})
		l.set(lease.Job, lease, true)
		l.info(log, "lease acquired: running the job here", "token", lease.Token)
		go func() {
			defer close(done)
			work(jobCtx, lease)
		}()
	}
	lost, gone := l.renew(ctx, hctx, log, lease, h, startC, start, func() <-chan struct{} { return done })
	if lost {
		h.end()
	}
	// Stopped with ctx (a shutdown), the job drains under its lease, which
	// the deadline still bounds: its last writes (the poller's offset, its
	// inbox's release) are not refused for nothing.
	if done != nil {
		stopJob()
		<-done
		l.set(lease.Job, lease, false)
	}
	switch {
	case lost && gone:
		// Nobody holds it: this process or another takes it at its next try.
		log.Warn("lease lost: the store no longer holds it (its data was lost, or the lease ran out) and no other process runs the job; stopped here until a process takes it again", "token", lease.Token)
		return
	case lost:
		log.Warn("lease lost: another process runs the job now; stopped here", "token", lease.Token)
		return
	case ctx.Err() == nil:
		log.Warn("lease lost: it may have run out, no renewal having got through in time (the store did not answer, or this process was paused or starved of the CPU); stopped here until a process takes it again", "token", lease.Token)
	}
	select {
	case <-startC:
	default:
		// Its wait not over, a process that held the lease before may
		// still run the job: given up, the next owner would start it at
		// once. It runs out on its own.
		return
	}
	// Given up, its job stopped (a shutdown, or the lease ran out on this
	// clock): the next owner may start the job at once. A lease lost
	// already is left alone by the store.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := l.st.ReleaseLease(rctx, lease)
	switch {
	case ctx.Err() == nil:
		// Run out here: the store may have given it to another already,
		// or not answer.
		log.Debug("lease given up after it may have run out", "token", lease.Token, "err", err)
	case err != nil:
		log.Warn("lease not released; it runs out on its own", "err", err)
	default:
		l.info(log, "lease released", "token", lease.Token)
	}
}

// info logs what a process sharing its store with others says at info level.
func (l *leases) info(log *slog.Logger, msg string, args ...any) {
	if l.alone {
		log.Debug(msg, args...)
		return
	}
	log.Info(msg, args...)
}

// renew renews lease every RenewEvery, and starts the job (start) once
// startC is closed, until the store says the lease was lost (lost; gone
// when it holds no lease of the job, store.ErrLeaseGone, rather than
// another's), ctx ends, hctx ends (the lease may have run out on this
// process's clock) or the job returned (done).
//
// A renewal is waited for until hctx ends: its answer, however late, says
// whether another took the job; the job stops at the deadline anyway.
func (l *leases) renew(ctx, hctx context.Context, log *slog.Logger, lease store.Lease, h *leaseHold, startC <-chan struct{}, start func(), done func() <-chan struct{}) (lost, gone bool) {
	// On the leases' clock, the one the deadline is read on and the watch
	// waits on (the wall clock's but in a test that drives it): on the
	// wall clock, a leases' clock moved a TTL on would find no renewal sent
	// meanwhile, and stop a job whose store answers.
	tick := make(chan struct{}, 1)
	var stopTick func() bool
	every := func() {
		stopTick = l.o.AfterFunc(l.o.RenewEvery, func() {
			select {
			case tick <- struct{}{}:
			default:
			}
		})
	}
	every()
	defer func() { stopTick() }()
	failing := false
	for {
		select {
		case <-hctx.Done():
			return false, false
		case <-done():
			return false, false
		case <-startC:
			startC = nil
			if l.alone || h.Check() == nil {
				start()
			}
			continue
		case <-tick:
		}
		every() // the next one RenewEvery after this one, as a ticker's
		sent := l.o.Now()
		ok, err := l.st.RenewLease(hctx, lease, l.o.TTL)
		switch {
		case hctx.Err() != nil:
			return false, false
		case errors.Is(err, store.ErrLeaseGone):
			return true, true
		case err != nil:
			if !failing {
				log.Warn("lease not renewed: the store does not answer; the job goes on here until the lease may have run out", "err", err, "stops_in", h.left().Round(time.Millisecond))
			}
			failing = true
		case !ok:
			return true, false
		default:
			if failing {
				log.Info("lease renewed again", "token", lease.Token)
			}
			failing = false
			h.renewed(sent)
		}
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
