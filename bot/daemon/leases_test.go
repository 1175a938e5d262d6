package daemon

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

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
}

func startRunner(t *testing.T, st store.Leaser, owner string, clock func() time.Time, job string, both *atomic.Int32, overlap *atomic.Bool) *runner {
	t.Helper()
	o := LeaseOptions{TTL: time.Second, RenewEvery: 20 * time.Millisecond, RetryEvery: 10 * time.Millisecond, Owner: owner, Now: clock}
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

	// b stalls in a renewal past its TTL (the store's clock jumps) and c
	// takes the job: once b wakes up, its renewal is refused and its run is
	// cancelled.
	release := bStore.hold()
	testsync.Eventually(t, "b stalled in a renewal", func() bool { return bStore.held() })
	clock.advance(2 * time.Second)
	c := startRunner(t, st, "c", clock.now, "telegram", &both, &overlap)
	third := recv(t, c.tokens, "c to run the job")
	release()
	recv(t, b.stopped, "b to stop once it saw it lost the job")
	testsync.Eventually(t, "b's loss told", func() bool { return strings.Contains(b.logs.String(), "lease lost: another process runs the job now") })
	if third <= second {
		t.Errorf("c's token %d, want more than b's %d", third, second)
	}
	testsync.Eventually(t, "b no longer says it owns the job", func() bool { return b.owned("telegram") == 0 && !b.l.owns("telegram") })
	// Two runners overlapping is only possible here because b's stall was
	// simulated on the store's clock while b kept running; past that, they
	// never overlap.
	overlap.Store(false)
	c.stop(t)
	recv(t, b.tokens, "b to take the job back")
	if overlap.Load() {
		t.Error("the job ran in two processes at once after a clean hand-over")
	}
}

// TestLeaseGoesOnWhileTheStoreIsAway: a store that does not answer is no
// lost lease; the job goes on, and stops once the store says it was lost.
func TestLeaseGoesOnWhileTheStoreIsAway(t *testing.T) {
	clock := newFakeClock()
	st := &flakyLeaser{Leaser: memory.New(memory.WithClock(clock.now))}
	var both atomic.Int32
	var overlap atomic.Bool
	a := startRunner(t, st, "a", clock.now, "discord", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	st.setDown(true)
	// Renewals fail for well past the TTL on the wall clock's scale of the
	// options: the job runs on.
	testsync.Eventually(t, "a few failed renewals", func() bool { return st.failed() >= 10 })
	if a.running.Load() != 1 {
		t.Fatal("the job stopped while the store did not answer")
	}
	// Meanwhile another process took the job; the store answers again.
	clock.advance(2 * time.Second)
	if _, ok, err := st.AcquireLease(context.Background(), "discord", "b", time.Minute); !ok || err != nil {
		t.Fatalf("b could not take a lease that ran out: %v, %v", ok, err)
	}
	st.setDown(false)
	recv(t, a.stopped, "a to stop once the store says it lost the job")
	// It ran out while the store did not answer: said so (alone on a store,
	// no other process takes it).
	testsync.Eventually(t, "a's loss told", func() bool {
		return strings.Contains(a.logs.String(), "lease lost: it ran out while the store did not answer")
	})
	// b holds the job: a gave nothing up, and says nothing of the kind.
	a.stop(t)
	if strings.Contains(a.logs.String(), "lease released") {
		t.Errorf("a logged its lost lease as released, while b holds the job:\n%s", a.logs.String())
	}
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
// the lease's TTL. When the store answers b again, b finds the lease free,
// but does not run the job until a's next renewal had its chance to tell a
// it lost it: a, which ran the job all along, stops first. Before, b ran it
// at once, beside a, until a's renewal.
func TestLeaseNeverReachedWaitsForTheHolder(t *testing.T) {
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
	// a's next renewal is held as the store answers again: a goes on.
	release := aStore.hold()
	defer release()
	aStore.setDown(false)
	testsync.Eventually(t, "a's renewal held", func() bool { return aStore.held() })
	bStore.down.Store(false)
	const waits = "lease taken after the store did not answer"
	testsync.Eventually(t, "b to take the lease", func() bool {
		return strings.Contains(b.logs.String(), waits) || b.running.Load() > 0
	})
	if overlap.Load() || b.running.Load() > 0 {
		t.Fatal("b, which never reached the store, ran the job at once while a still ran it")
	}
	release()
	recv(t, a.stopped, "a to stop once its renewal says it lost the job")
	recv(t, b.tokens, "b to run the job after a's renewal")
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
