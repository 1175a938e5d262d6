package daemon

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// heldWaits are timers that fire when the test says, by their wait.
type heldWaits struct {
	mu     sync.Mutex
	timers []*heldWait
}

type heldWait struct {
	d    time.Duration
	f    func()
	done bool
}

func (h *heldWaits) AfterFunc(d time.Duration, f func()) func() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	w := &heldWait{d: d, f: f}
	h.timers = append(h.timers, w)
	return func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		was := w.done
		w.done = true
		return !was
	}
}

// armed reports whether a timer of wait d is set and has not fired.
func (h *heldWaits) armed(d time.Duration) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.ContainsFunc(h.timers, func(w *heldWait) bool { return !w.done && w.d == d })
}

// fire fires the timers of wait d set and not fired.
func (h *heldWaits) fire(d time.Duration) {
	h.mu.Lock()
	var due []func()
	for _, w := range h.timers {
		if !w.done && w.d == d {
			w.done = true
			due = append(due, w.f)
		}
	}
	h.mu.Unlock()
	for _, f := range due {
		go f()
	}
}

// startAfterAHolderGone starts owner a's runner of the job "telegram" on st,
// whose lease another process took on clock and did not give up; the
// runner's timers wait in waits until the test fires them.
func startAfterAHolderGone(t *testing.T, clock *fakeClock, st store.Leaser) (a *runner, o LeaseOptions, waits *heldWaits) {
	t.Helper()
	waits = &heldWaits{}
	var both atomic.Int32
	var overlap atomic.Bool
	o = LeaseOptions{TTL: 3 * time.Minute, RenewEvery: time.Minute, RetryEvery: 30 * time.Second, Margin: 20 * time.Second, BlindMost: 4 * time.Minute, Owner: "a",
		Now: clock.now, AfterFunc: waits.AfterFunc}
	if _, ok, err := st.AcquireLease(t.Context(), "telegram", "gone", time.Second); !ok || err != nil {
		t.Fatal(ok, err)
	}
	clock.advance(2 * time.Second)
	return startRunnerWith(t, st, o, "telegram", &both, &overlap), o, waits
}

// TestLeaseCarefulWaitOnTheClock: a process that takes a free lease its
// last holder did not give up waits the TTL and the margin on the leases'
// clock (LeaseOptions.AfterFunc), not the wall clock: the job starts when
// that clock's timer fires, and not before. The periods are minutes, that no
// wall clock wait would see pass in the test.
func TestLeaseCarefulWaitOnTheClock(t *testing.T) {
	clock := newFakeClock()
	st := memory.New(memory.WithClock(clock.now))
	defer st.Close()
	a, o, waits := startAfterAHolderGone(t, clock, st)
	careful := o.TTL + o.Margin
	testsync.Eventually(t, "the careful wait's timer set on the leases' clock", func() bool { return waits.armed(careful) })
	if !strings.Contains(a.logs.String(), carefulTake) {
		t.Errorf("the free lease taken without the careful wait's line:\n%s", a.logs.String())
	}
	if a.running.Load() != 0 {
		t.Fatal("the job started before the careful wait's timer fired")
	}
	waits.fire(careful)
	recv(t, a.tokens, "the job to start once the careful wait's timer fired")
}

// TestLeaseTakenBackWaitsOutTheFirstWait: a process takes a lease its last
// holder did not give up, and its own lease runs out on its clock (the
// store silent) before its wait is over. It neither gives the lease up
// (the next owner would start at once) nor, taking it back unchanged,
// starts the job at once: it waits out what was left of its first wait.
// Before, the lease taken back with the same token started the job at
// once, while the holder before might still run it.
func TestLeaseTakenBackWaitsOutTheFirstWait(t *testing.T) {
	clock := newFakeClock()
	mem := memory.New(memory.WithClock(clock.now))
	defer mem.Close()
	st := &flakyLeaser{Leaser: mem}
	st.setDown(true) // renewals fail
	a, o, waits := startAfterAHolderGone(t, clock, st)
	wait, deadline := o.TTL+o.Margin, o.TTL-o.Margin
	testsync.Eventually(t, "the wait and the deadline armed", func() bool { return waits.armed(wait) && waits.armed(deadline) })
	clock.advance(deadline)
	waits.fire(deadline)
	testsync.Eventually(t, "the lease run out on a's clock", func() bool { return strings.Contains(a.logs.String(), "may have run out") })
	testsync.Eventually(t, "the next ask's timer", func() bool { return waits.armed(o.RetryEvery) })
	waits.fire(o.RetryEvery)
	left := wait - deadline
	testsync.Eventually(t, "the rest of the first wait armed", func() bool { return waits.armed(left) || a.running.Load() > 0 })
	if a.running.Load() > 0 {
		t.Fatal("the lease taken back started the job before the first wait was over")
	}
	waits.fire(left)
	recv(t, a.tokens, "the job to start once the first wait is over")
}

// renewCounter counts the renewals its store took.
type renewCounter struct {
	store.Leaser
	n atomic.Int32
}

func (r *renewCounter) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	ok, err := r.Leaser.RenewLease(ctx, l, ttl)
	if ok && err == nil {
		r.n.Add(1)
	}
	return ok, err
}

// TestLeaseRenewedOnItsClock: the leases' clock moves on by minutes, past
// the deadline a lease taken at its start had (the TTL less the margin),
// the store answering: the holder renews every RenewEvery of that clock,
// and its job goes on. Before, the renewals waited on the wall clock, which
// the test does not see move: none was sent, and the deadline, read on the
// leases' clock, stopped a job whose store answered, as if the process had
// been cut off from it.
func TestLeaseRenewedOnItsClock(t *testing.T) {
	clock := newFakeClock()
	mem := memory.New(memory.WithClock(clock.now))
	defer mem.Close()
	// The lease's last holder gave it up: the job starts at once.
	gone, ok, err := mem.AcquireLease(t.Context(), "telegram", "gone", time.Minute)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := mem.ReleaseLease(t.Context(), gone); err != nil {
		t.Fatal(err)
	}
	st := &renewCounter{Leaser: mem}
	waits := &heldWaits{}
	o := LeaseOptions{TTL: 3 * time.Minute, RenewEvery: time.Minute, RetryEvery: 30 * time.Second, Margin: 20 * time.Second, BlindMost: 4 * time.Minute, Owner: "a",
		Now: clock.now, AfterFunc: waits.AfterFunc}
	var both atomic.Int32
	var overlap atomic.Bool
	a := startRunnerWith(t, st, o, "telegram", &both, &overlap)
	recv(t, a.tokens, "the job to start")
	deadline := o.TTL - o.Margin
	testsync.Eventually(t, "the lease's deadline armed", func() bool { return waits.armed(deadline) })

	// The renewals' timer is set before the job starts: none on the
	// leases' clock, the job's lease is not renewed in the minutes below.
	renewsOnClock := waits.armed(o.RenewEvery)

	// Two minutes: a renewal due at each.
	for i := range 2 {
		clock.advance(o.RenewEvery)
		waits.fire(o.RenewEvery)
		if renewsOnClock {
			testsync.Eventually(t, "the renewal taken", func() bool { return st.n.Load() == int32(i+1) })
		}
	}
	// The first deadline, past: the renewals moved it on. Renewed at two
	// minutes, the lease lasts to two minutes and the deadline.
	clock.advance(deadline - 2*o.RenewEvery)
	waits.fire(deadline)
	testsync.Eventually(t, "the deadline's watch armed again, or the job stopped", func() bool {
		return waits.armed(2*o.RenewEvery) || a.running.Load() == 0
	})
	if a.running.Load() != 1 || strings.Contains(a.logs.String(), "may have run out") {
		t.Errorf("the job stopped, its lease renewed on the leases' clock:\n%s", a.logs.String())
	}
}
