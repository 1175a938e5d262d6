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
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLeaseGoneWithTheStoresData: the one process running a job on Redis
// sees its lease vanish (FLUSHALL). Its renewal is refused, it stops the job,
// and the log says the store no longer holds the lease, not that another
// process runs the job, for none does, nor that it ran out while the store
// did not answer: it was renewed well within its TTL, also when the renewal
// just before the loss timed out (a slow Redis, a loaded machine). Then it
// takes the job again. Before, a renewal that timed out, even once and for
// 20ms of a 1s TTL, made the loss read as the lease run out while the store
// did not answer (make test on a loaded machine failed on it).
func TestLeaseGoneWithTheStoresData(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		timedOut bool // the renewal before the loss timed out
	}{
		{"renewals answered", false},
		{"a renewal timed out before the loss", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, rst := leaseRedis(t, "")
			st := &flakyLeaser{Leaser: rst}
			// The lease's TTL is read on a clock that stands still: it never
			// runs out locally, however slow the machine.
			clock := newFakeClock()
			var both atomic.Int32
			var overlap atomic.Bool
			a := startRunner(t, st, "a", clock.now, "telegram", &both, &overlap)
			recv(t, a.tokens, "a to run the job")

			if tc.timedOut {
				st.setDown(true)
				testsync.Eventually(t, "a renewal that timed out", func() bool { return st.failed() >= 1 })
			}
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
			defer c.Close()
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			st.setDown(false)
			recv(t, a.stopped, "a to stop once its lease was gone")
			testsync.Eventually(t, "the loss told", func() bool { return strings.Contains(a.logs.String(), "lease lost:") })
			if logs := a.logs.String(); !strings.Contains(logs, "lease lost: the store no longer holds it") {
				t.Errorf("the loss is not told as the store's, which lost the lease with its data:\n%s", logs)
			}
			recv(t, a.tokens, "a to run the job again")
		})
	}
}

// TestLeaseGoneWithTheStoresDataThreeProcesses: a runs a job on Redis, b and
// c stand by, and Redis loses its data (FLUSHALL), again and again. Neither
// takes the lease the store lost before a's next renewal told a to stop: the
// job never runs in two at once, and it runs again in one of them after
// each loss. Before, the first to ask took it, and both ran the job until
// a's renewal (three vigie on one Redis, after a FLUSHALL: two Telegram
// pollers, 409 Conflict, for two seconds).
func TestLeaseGoneWithTheStoresDataThreeProcesses(t *testing.T) {
	t.Parallel()
	srv, st := leaseRedis(t, "")
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	var both atomic.Int32
	var overlap atomic.Bool
	// Renewals and asks every 100ms, as vigie's every 5s: b's ask may come
	// first after a loss, or a's renewal.
	o := func(owner string) LeaseOptions {
		return LeaseOptions{TTL: 3 * time.Second, BlindMost: 3 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 100 * time.Millisecond, Owner: owner, Now: time.Now}
	}
	a := startRunnerWith(t, st, o("a"), "telegram", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	rs := []*runner{a,
		startRunnerWith(t, st, o("b"), "telegram", &both, &overlap),
		startRunnerWith(t, st, o("c"), "telegram", &both, &overlap)}
	for round := range 6 {
		// b and c asked, and were told a holds the job.
		time.Sleep(250 * time.Millisecond)
		if err := c.FlushAll(context.Background()).Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-rs[0].tokens:
		case <-rs[1].tokens:
		case <-rs[2].tokens:
		case <-time.After(testsync.Patience):
			t.Fatalf("round %d: nobody runs the job after the store lost its data", round)
		}
		if overlap.Load() {
			t.Fatalf("round %d: the job ran in both processes at once after the store lost its data", round)
		}
	}
}

// TestLeaseRunOutWhileRedisFrozenThreeProcesses: a runs a job on Redis, b and
// c stand by, and Redis freezes (SIGSTOP) for longer than the lease's TTL,
// twice. a stops the job on its own clock while Redis is frozen; when Redis
// wakes, the lease has run out, and whoever takes it starts the job only a
// TTL and a margin later: the job never runs in two at once. Before, the
// new holder waited a renewal's and an ask's time for a's renewal to stop
// a, and on a loaded machine (make test at load 40) it did not always.
// (The three holders share this test's process; TestLeaseFenceRedisFrozen
// runs them in processes of their own.)
func TestLeaseRunOutWhileRedisFrozenThreeProcesses(t *testing.T) {
	t.Parallel()
	srv, st := leaseRedis(t, "")
	var both atomic.Int32
	var overlap atomic.Bool
	o := func(owner string) LeaseOptions {
		return LeaseOptions{TTL: 2 * time.Second, BlindMost: 2 * time.Second, RenewEvery: 250 * time.Millisecond, RetryEvery: 250 * time.Millisecond, Owner: owner, Now: time.Now}
	}
	a := startRunnerWith(t, st, o("a"), "discord", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	rs := []*runner{a,
		startRunnerWith(t, st, o("b"), "discord", &both, &overlap),
		startRunnerWith(t, st, o("c"), "discord", &both, &overlap)}
	for round := range 3 {
		// b and c asked, and were told the job is held.
		time.Sleep(600 * time.Millisecond)
		srv.Freeze()
		time.Sleep(2500 * time.Millisecond) // past the TTL
		srv.Thaw()
		select {
		case <-rs[0].tokens:
		case <-rs[1].tokens:
		case <-rs[2].tokens:
		case <-time.After(testsync.Patience):
			for _, r := range rs {
				t.Logf("%s", r.logs)
			}
			t.Fatalf("round %d: nobody runs the job after Redis froze", round)
		}
		if overlap.Load() {
			for _, r := range rs {
				t.Logf("%s", r.logs)
			}
			t.Fatalf("round %d: the job ran in two processes at once after Redis froze past the lease's TTL", round)
		}
	}
}

// leaseRedis starts a redis-server of the test's own (it may flush or freeze
// it; it is thawed at the end) and opens a store on it, its URL's query
// appended (go-redis's options: "?read_timeout=10s").
func leaseRedis(t *testing.T, query string) (*redistest.Server, *redis.Store) {
	t.Helper()
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL()+query)
	t.Cleanup(srv.Thaw)
	return srv, st
}

// TestLeaseTakenOnASlowStoreRuns: a process takes a free lease on a Redis
// that answers its renewals later than a renewal period (a loaded machine,
// a distant Redis), but well within the TTL. The job starts there once the
// careful wait is past: the renewal that ends it is waited for, not taken
// for a lost lease. Before, it was cut after a renewal period: the process
// took its own lease back at each ask, kept it renewed, and never ran the
// job, nor could any other process (make test on a loaded machine: "nobody
// runs the job after Redis froze").
func TestLeaseTakenOnASlowStoreRuns(t *testing.T) {
	t.Parallel()
	_, rst := leaseRedis(t, "")
	st := &slowRenewals{Leaser: rst, by: 300 * time.Millisecond}
	var both atomic.Int32
	var overlap atomic.Bool
	o := LeaseOptions{TTL: 5 * time.Second, BlindMost: 5 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 100 * time.Millisecond, Owner: "a", Now: time.Now}
	a := startRunnerWith(t, st, o, "discord", &both, &overlap)
	recv(t, a.tokens, "the job to start on a store slower than a renewal period")
	if logs := a.logs.String(); strings.Contains(logs, "lease lost before the job started here") {
		t.Errorf("a renewal that came late was taken for a lost lease:\n%s", logs)
	}
}

// TestLeaseHolderOnASlowStoreHearsItLost: a process runs a job on a Redis
// that answers its renewals later than a renewal period, but well within the
// TTL, and the store loses the lease (FLUSHALL). The next renewal's answer,
// late, tells the process, which stops the job. Before, each renewal was cut
// after a renewal period: the process never heard, and ran the job on
// beside whichever took the lease next (three processes on a Redis thawed
// on a loaded machine: the job in two of them for seconds).
func TestLeaseHolderOnASlowStoreHearsItLost(t *testing.T) {
	t.Parallel()
	srv, rst := leaseRedis(t, "")
	st := &slowRenewals{Leaser: rst, by: 300 * time.Millisecond}
	var both atomic.Int32
	var overlap atomic.Bool
	o := LeaseOptions{TTL: 5 * time.Second, BlindMost: 5 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 100 * time.Millisecond, Owner: "a", Now: time.Now}
	a := startRunnerWith(t, st, o, "discord", &both, &overlap)
	recv(t, a.tokens, "the job to start on a store slower than a renewal period")
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	recv(t, a.stopped, "the job to stop once a late renewal said the lease was gone")
	testsync.Eventually(t, "the loss told", func() bool { return strings.Contains(a.logs.String(), "lease lost: the store no longer holds it") })
}

// slowRenewals answers renewals after by, as a slow store does, or not at
// all when the caller gives up first.
type slowRenewals struct {
	store.Leaser
	by time.Duration
}

func (s *slowRenewals) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	t := time.NewTimer(s.by)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return s.Leaser.RenewLease(ctx, l, ttl)
}
