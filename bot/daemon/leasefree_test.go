package daemon

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// carefulTake is what a process logs when it took a free lease without
// knowing that nobody runs its job, and waits a renewal period before
// running the job.
const carefulTake = "lease taken"

// carefulOptions are owner's lease options, with a renewal period long
// enough for a test to see a process wait in it. Every process takes the
// lease for 3s: one that finds no trace of it waits that long for a holder
// it never saw (VIGIE_LEASE_TTL_MAX=3s), not 15s.
func carefulOptions(retry time.Duration) func(owner string) LeaseOptions {
	return func(owner string) LeaseOptions {
		return LeaseOptions{TTL: 3 * time.Second, BlindMost: 3 * time.Second, RenewEvery: time.Second, RetryEvery: retry, Owner: owner, Now: time.Now}
	}
}

// handedOverOnce releases the renewal held of from, which then stops, and
// waits for to to run the job: never both at once.
func handedOverOnce(t *testing.T, release func(), from, to *runner, overlap *atomic.Bool, stops string) {
	t.Helper()
	release()
	recv(t, from.stopped, stops)
	recv(t, to.tokens, "the job to run after the renewal")
	if overlap.Load() {
		t.Error("the job ran in two processes at once")
	}
}

// takenCarefully waits for r to take a free lease, from its log's since
// (in bytes) on, and reports whether it runs the job already.
func takenCarefully(t *testing.T, r *runner, since int) bool {
	t.Helper()
	testsync.Eventually(t, "the lease taken", func() bool {
		return strings.Contains(r.logs.String()[since:], carefulTake) || r.running.Load() > 0
	})
	return r.running.Load() > 0
}

// TestLeaseFirstAskAfterRedisLostItsData: a runs a job on Redis, which loses
// its data (FLUSHALL) while a's next renewal is under way; b starts then, and
// its first ask finds the lease free. b does not run the job until a's
// renewal told a it lost it. Before, b ran it at once, beside a, until a's
// renewal (up to a renewal period, 5 s by default).
func TestLeaseFirstAskAfterRedisLostItsData(t *testing.T) {
	t.Parallel()
	srv, st := leaseRedis(t, "")
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	var both atomic.Int32
	var overlap atomic.Bool
	o := carefulOptions(50 * time.Millisecond)
	aStore := &flakyLeaser{Leaser: st}
	a := startRunnerWith(t, aStore, o("a"), "telegram", &both, &overlap)
	recv(t, a.tokens, "a to run the job")

	release := aStore.hold()
	defer release()
	testsync.Eventually(t, "a's renewal held", func() bool { return aStore.held() })
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	b := startRunnerWith(t, st, o("b"), "telegram", &both, &overlap)
	if takenCarefully(t, b, 0) || overlap.Load() {
		t.Fatal("b, started after Redis lost its data, ran the job at once while a still ran it")
	}
	handedOverOnce(t, release, a, b, &overlap, "a to stop once its renewal says it lost the job")
}

// TestLeaseLostThenFoundFree: a runs a job, is cut from Redis past the
// lease's TTL, and b takes the job over. Redis then loses its data while b's
// next renewal is under way, and a reaches Redis again: its renewal says its
// lease is gone, and its next ask finds the job free. a does not run the job
// until b's renewal told b it lost it. Before, a took it at once and ran it
// beside b until b's renewal.
func TestLeaseLostThenFoundFree(t *testing.T) {
	t.Parallel()
	srv, st := leaseRedis(t, "")
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	var both atomic.Int32
	var overlap atomic.Bool
	o := carefulOptions(20 * time.Millisecond)
	aStore := &flakyLeaser{Leaser: st}
	a := startRunnerWith(t, aStore, o("a"), "discord", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	bStore := &flakyLeaser{Leaser: st}
	b := startRunnerWith(t, bStore, o("b"), "discord", &both, &overlap)

	// a is cut from Redis: its lease runs out there, and b takes the job
	// over (while a, cut off, runs it too: the case fencing is for).
	aStore.setDown(true)
	recv(t, b.tokens, "b to take the job over")
	release := bStore.hold()
	defer release()
	testsync.Eventually(t, "b's renewal held", func() bool { return bStore.held() })
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	seen := len(a.logs.String())
	aStore.setDown(false)
	recv(t, a.stopped, "a to stop once its renewal says its lease is gone")
	overlap.Store(false) // a and b ran the job at once while a was cut off
	if takenCarefully(t, a, seen) {
		t.Fatal("a, whose lease was gone, took the job again at once while b still ran it")
	}
	handedOverOnce(t, release, b, a, &overlap, "b to stop once its renewal says it lost the job")
}

// TestLeaseFirstAskAnsweredLate: a runs a job on Redis, which freezes
// (SIGSTOP) past the lease's TTL; b starts meanwhile, and its first ask is
// answered, without an error, once Redis wakes: the lease ran out, and is
// free. b does not run the job until a's next renewal told a it lost it.
// Before, b ran it at once, beside a, until a's renewal.
func TestLeaseFirstAskAnsweredLate(t *testing.T) {
	t.Parallel()
	// Redis's answers are awaited longer than it is frozen: the first ask
	// is answered late, not failed.
	srv, st := leaseRedis(t, "?read_timeout=10s")
	var both atomic.Int32
	var overlap atomic.Bool
	o := carefulOptions(20 * time.Millisecond)
	aStore := &flakyLeaser{Leaser: st}
	a := startRunnerWith(t, aStore, o("a"), "discord", &both, &overlap)
	recv(t, a.tokens, "a to run the job")

	release := aStore.hold()
	defer release()
	testsync.Eventually(t, "a's renewal held", func() bool { return aStore.held() })
	srv.Freeze()
	bStore := &askCounter{Leaser: st}
	b := startRunnerWith(t, bStore, o("b"), "discord", &both, &overlap)
	testsync.Eventually(t, "b's first ask sent", func() bool { return bStore.asked.Load() > 0 })
	time.Sleep(4 * time.Second) // past the TTL: the lease runs out in Redis
	srv.Thaw()
	running := takenCarefully(t, b, 0)
	if bStore.failed.Load() > 0 {
		t.Fatal("b's first ask failed: it was to be answered late, without an error")
	}
	if running || overlap.Load() {
		t.Fatal("b, whose first ask was answered late, ran the job at once while a still ran it")
	}
	handedOverOnce(t, release, a, b, &overlap, "a to stop once its renewal says it lost the job")
}

// askCounter counts a process's asks for a lease, and those that failed.
type askCounter struct {
	store.Leaser
	asked, failed atomic.Int32
}

func (a *askCounter) AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (store.Lease, bool, error) {
	a.asked.Add(1)
	l, ok, err := a.Leaser.AcquireLease(ctx, job, owner, ttl)
	if err != nil {
		a.failed.Add(1)
	}
	return l, ok, err
}
