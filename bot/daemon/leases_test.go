package daemon

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// fakeClock is the store's clock, moved by the test.
type fakeClock struct{ ns atomic.Int64 }

func (c *fakeClock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) advance(d time.Duration) { c.ns.Add(int64(d)) }
func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC).UnixNano())
	return c
}

// runner is one process's leases on a shared store, running one job whose
// runs it records.
type runner struct {
	l       *leases
	cancel  context.CancelFunc
	done    chan struct{}
	running atomic.Int32
	tokens  chan int64
	stopped chan int64
	logs    *testsync.Buffer
	job     atomic.Pointer[context.Context]
}

// jobCtx returns the context of the job's last run.
func (r *runner) jobCtx() context.Context { return *r.job.Load() }

func startRunner(t *testing.T, st store.Leaser, owner string, clock func() time.Time, job string, both *atomic.Int32, overlap *atomic.Bool) *runner {
	t.Helper()
	// Every process takes the lease for 1s: one that finds no trace of it
	// waits that long for a holder it never saw (VIGIE_LEASE_TTL_MAX=1s),
	// not 15s.
	o := LeaseOptions{TTL: time.Second, BlindMost: time.Second, RenewEvery: 20 * time.Millisecond, RetryEvery: 10 * time.Millisecond, Owner: owner, Now: clock}
	return startRunnerWith(t, st, o, job, both, overlap)
}

func startRunnerWith(t *testing.T, st store.Leaser, o LeaseOptions, job string, both *atomic.Int32, overlap *atomic.Bool) *runner {
	t.Helper()
	logs := &testsync.Buffer{}
	r := &runner{
		logs:    logs,
		l:       newLeases(st, o, slog.New(slog.NewTextHandler(logs, nil)), prometheus.NewRegistry(), false),
		done:    make(chan struct{}),
		tokens:  make(chan int64, 16),
		stopped: make(chan int64, 16),
	}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() {
		defer close(r.done)
		r.l.run(ctx, job, func(ctx context.Context, lease store.Lease) {
			r.job.Store(&ctx)
			if both.Add(1) > 1 {
				overlap.Store(true)
			}
			r.running.Add(1)
			r.tokens <- lease.Token
			<-ctx.Done()
			r.running.Add(-1)
			both.Add(-1)
			r.stopped <- lease.Token
		})
	}()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *runner) stop(t *testing.T) {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(testsync.Patience):
		t.Error("the lease runner did not return after its context ended")
	}
}

func (r *runner) owned(job string) float64 {
	var m dto.Metric
	if err := r.l.owned.WithLabelValues(job).Write(&m); err != nil {
		panic(err)
	}
	return m.GetGauge().GetValue()
}

func recv(t *testing.T, ch <-chan int64, what string) int64 {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testsync.Patience):
		t.Fatalf("gave up waiting for %s", what)
		return 0
	}
}

// TestLeaseMovesOnShutdownAndLoss: two processes share a job; it runs in
// one at a time, moves at once when its owner stops (the lease is
// released), and when its owner's lease ran out and another took it, the old
// owner stops its run as soon as its renewal is refused.
func TestLeaseMovesOnShutdownAndLoss(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	st := memory.New(memory.WithClock(clock.now))
	var both atomic.Int32
	var overlap atomic.Bool

	a := startRunner(t, st, "a", clock.now, "telegram", &both, &overlap)
	first := recv(t, a.tokens, "a to run the job")
	testsync.Eventually(t, "a owns the job", func() bool { return a.owned("telegram") == 1 && a.l.owns("telegram") })
	bStore := &flakyLeaser{Leaser: st}
	b := startRunner(t, bStore, "b", clock.now, "telegram", &both, &overlap)
	// b asks every 10ms and a renews every 20ms: b never gets it meanwhile.
	for range 5 {
		if _, ok, _ := st.AcquireLease(context.Background(), "telegram", "c", time.Second); ok {
			t.Fatal("a third owner took a lease a holds and renews")
		}
	}

	// a stops: it releases, b takes the job with a larger token.
	a.stop(t)
	recv(t, a.stopped, "a to stop")
	if a.owned("telegram") != 0 {
		t.Error("vigie_lease_owned still 1 on a process that stopped the job")
	}
	second := recv(t, b.tokens, "b to run the job after a stopped")
	if second <= first {
		t.Errorf("b's token %d, want more than a's %d", second, first)
	}

	// b stalls in a renewal past its TTL (the store's clock, and b's, jump):
	// b stops the job on its own clock, its renewal still under way, and c
	// takes the job over only once b's lease has surely run out there.
	release := bStore.hold()
	defer release()
	testsync.Eventually(t, "b stalled in a renewal", func() bool { return bStore.held() })
	clock.advance(2 * time.Second)
	recv(t, b.stopped, "b to stop once its lease may have run out on its own clock")
	c := startRunner(t, st, "c", clock.now, "telegram", &both, &overlap)
	third := recv(t, c.tokens, "c to run the job")
	release()
	testsync.Eventually(t, "b's loss told", func() bool { return strings.Contains(b.logs.String(), "lease lost: it may have run out") })
	if third <= second {
		t.Errorf("c's token %d, want more than b's %d", third, second)
	}
	testsync.Eventually(t, "b no longer says it owns the job", func() bool { return b.owned("telegram") == 0 && !b.l.owns("telegram") })
	if overlap.Load() {
		t.Error("the job ran in two processes at once after b stalled")
	}
	c.stop(t)
	recv(t, b.tokens, "b to take the job back")
	if overlap.Load() {
		t.Error("the job ran in two processes at once after a clean hand-over")
	}
}

// TestLeaseStopsOnItsOwnClock: a store that does not answer is no lost
// lease at once: the job goes on while its lease surely lasts, counted on
// the process's clock from when its last renewal that got through was sent,
// not answered. Past that, less a margin, the job's calls out of the
// process are refused (its context's hold) and the job stops, the store
// still silent. Before, it went on until the store answered, beside the
// process that had taken it over meanwhile.
func TestLeaseStopsOnItsOwnClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	st := &flakyLeaser{Leaser: memory.New(memory.WithClock(clock.now))}
	var both atomic.Int32
	var overlap atomic.Bool
	// TTL 1s, margin 200ms: the lease surely lasts 800ms from a renewal sent.
	a := startRunner(t, st, "a", clock.now, "discord", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	job := a.jobCtx()
	// A renewal sent now is answered 700ms later, on a's clock; those after
	// it fail.
	release := st.hold()
	defer release()
	testsync.Eventually(t, "a renewal held", func() bool { return st.held() })
	st.setDown(true)
	clock.advance(700 * time.Millisecond)
	release()
	testsync.Eventually(t, "renewals failing after the one held", func() bool { return st.failed() >= 3 })
	if err := bot.CheckLease(job); err != nil || a.running.Load() != 1 {
		t.Fatalf("the job stopped (%v) while its lease surely lasts", err)
	}
	// 850ms after the held renewal was sent: past 800ms, though not 800ms
	// after it was answered.
	clock.advance(150 * time.Millisecond)
	if err := bot.CheckLease(job); !errors.Is(err, bot.ErrLeaseRunOut) {
		t.Errorf("the job's hold once its lease may have run out: %v; want bot.ErrLeaseRunOut", err)
	}
	recv(t, a.stopped, "a to stop once its lease may have run out, the store silent")
	testsync.Eventually(t, "a's loss told", func() bool {
		return strings.Contains(a.logs.String(), "lease lost: it may have run out")
	})
	// Its lease, renewed in the store by the renewal answered late, is
	// still its own there: a takes it back, token unchanged (nobody else
	// held it since), and runs the job again at once.
	recv(t, a.tokens, "a to run the job again under its own lease")
}

// flakyLeaser fails every renewal while down, and holds the next one (a
// process stalled) once hold was called, until released.
type flakyLeaser struct {
	store.Leaser
	mu      sync.Mutex
	down    bool
	n       int
	holdCh  chan struct{}
	holding bool
}

func (f *flakyLeaser) hold() (release func()) {
	ch := make(chan struct{})
	f.mu.Lock()
	f.holdCh = ch
	f.mu.Unlock()
	var once sync.Once
	release = func() { once.Do(func() { close(ch) }) }
	return release
}

func (f *flakyLeaser) held() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.holding
}

func (f *flakyLeaser) setDown(v bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = v
}

func (f *flakyLeaser) failed() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

func (f *flakyLeaser) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	f.mu.Lock()
	if f.down {
		f.n++
		f.mu.Unlock()
		return false, context.DeadlineExceeded
	}
	ch := f.holdCh
	f.holdCh = nil
	f.holding = ch != nil
	f.mu.Unlock()
	if ch != nil {
		<-ch // stalled: the context's deadline is not seen either
		f.mu.Lock()
		f.holding = false
		f.mu.Unlock()
	}
	return f.Leaser.RenewLease(ctx, l, ttl)
}

// TestLeaseNeverReachedWaitsForTheHolder: a runs a job; the store stops
// answering both a and b, which starts then and never reached it, for past
// the lease's TTL. a stops the job on its own clock, the store still silent;
// once it answers, one of them runs the job, never both. Before, b ran it at
// once, beside a, until a's next renewal.
func TestLeaseNeverReachedWaitsForTheHolder(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	st := memory.New(memory.WithClock(clock.now))
	var both atomic.Int32
	var overlap atomic.Bool
	aStore := &flakyLeaser{Leaser: st}
	a := startRunner(t, aStore, "a", clock.now, "telegram", &both, &overlap)
	recv(t, a.tokens, "a to run the job")

	aStore.setDown(true)
	bStore := &unreachedLeaser{Leaser: st}
	bStore.down.Store(true)
	// b's renewal period is long enough for the test to see b wait in it.
	b := startRunnerWith(t, bStore, LeaseOptions{TTL: time.Second, RenewEvery: 500 * time.Millisecond,
		RetryEvery: 10 * time.Millisecond, Owner: "b", Now: clock.now}, "telegram", &both, &overlap)
	testsync.Eventually(t, "a's renewals and b's asks failing", func() bool { return aStore.failed() >= 3 && bStore.asked.Load() >= 3 })
	clock.advance(2 * time.Second) // the lease runs out in the store
	// a's lease has run out on its clock too: it stops, the store still
	// silent to it.
	recv(t, a.stopped, "a to stop once its lease may have run out on its clock")
	bStore.down.Store(false)
	aStore.setDown(false)
	select {
	case <-a.tokens:
	case <-b.tokens:
	case <-time.After(testsync.Patience):
		t.Fatal("nobody runs the job once the store answers")
	}
	if overlap.Load() {
		t.Error("the job ran in a and b at once")
	}
}

// unreachedLeaser fails every ask for a lease while down: a store this process
// does not reach.
type unreachedLeaser struct {
	store.Leaser
	down  atomic.Bool
	asked atomic.Int32
}

func (u *unreachedLeaser) AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (store.Lease, bool, error) {
	if u.down.Load() {
		u.asked.Add(1)
		return store.Lease{}, false, context.DeadlineExceeded
	}
	return u.Leaser.AcquireLease(ctx, job, owner, ttl)
}
