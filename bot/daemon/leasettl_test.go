package daemon

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLeaseTTLsDifferNeverTwoHolders: a runs a job on Redis with a lease of
// 6s (VIGIE_LEASE_TTL=6s), b stands by with one of 1s. a is cut from Redis
// (a proxy that hangs) as Redis loses its data (FLUSHALL, as a restart
// without persistence): a runs the job until its own lease may have run
// out, on its own clock, 6s less a margin after its last renewal. b takes
// the lease at once and starts the job only once a's may have run out,
// which it learnt from the lease a held: the job never runs in both at
// once, and b said once that the processes' lease times differ. Before, b
// waited its own 1s and a margin, and the job ran in both for seconds.
func TestLeaseTTLsDifferNeverTwoHolders(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	ast, bst := openLeaseStore(t, proxy.URL()), openLeaseStore(t, srv.URL())
	var both atomic.Int32
	var overlap atomic.Bool
	// Both know the longest lease of the two (VIGIE_LEASE_TTL_MAX=6s): a,
	// finding no trace of a lease in the new Redis, waits that long, not
	// 15s.
	a := startRunnerWith(t, ast, LeaseOptions{TTL: 6 * time.Second, BlindMost: 6 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 100 * time.Millisecond, Owner: "a", Now: time.Now},
		"telegram", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	b := startRunnerWith(t, bst, LeaseOptions{TTL: time.Second, BlindMost: 6 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 50 * time.Millisecond, Owner: "b", Now: time.Now},
		"telegram", &both, &overlap)
	// b asked, and was told a holds the job.
	time.Sleep(300 * time.Millisecond)

	proxy.Hang()
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.FlushAll(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	recv(t, a.stopped, "a to stop the job on its own clock")
	recv(t, b.tokens, "b to run the job")
	if overlap.Load() {
		t.Fatalf("the job ran in both processes at once: b waited its own lease's time, not a's\nb's logs:\n%s", b.logs)
	}
	if n := strings.Count(b.logs.String(), "VIGIE_LEASE_TTL"); n != 1 {
		t.Errorf("b told %d times that the processes' lease times differ, want once:\n%s", n, b.logs)
	}
}

// TestLeaseTakenAfterDataLossNeverTwoHolders: a runs a job on Redis with a
// lease longer than the one b will take; a is cut from Redis (a proxy that
// hangs) as Redis loses its data (FLUSHALL), and only then b starts: b never
// saw a's lease, and Redis keeps no trace of it. b takes the lease and starts
// the job only once a, whatever its lease, may have stopped it: the job
// never runs in both at once. Before, b waited its own 1s and a margin, and
// the job ran in both for seconds. With a lease of 6s, both know it is the
// longest (VIGIE_LEASE_TTL_MAX=6s). With a lease of 20s, neither is told
// (the default, 15s): a stops the job once it has not heard from Redis for
// 12s, the most any holder runs without it, rather than 16s.
func TestLeaseTakenAfterDataLossNeverTwoHolders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ ttl, blind time.Duration }{{6 * time.Second, 6 * time.Second}, {20 * time.Second, 0}} {
		ttl := tc.ttl
		t.Run(ttl.String(), func(t *testing.T) {
			srv := redistest.Start(t)
			proxy := redistest.NewHangProxy(t, srv.Addr())
			var both atomic.Int32
			var overlap atomic.Bool
			a := startRunnerWith(t, openLeaseStore(t, proxy.URL()), LeaseOptions{TTL: ttl, BlindMost: tc.blind, RenewEvery: 100 * time.Millisecond, RetryEvery: 100 * time.Millisecond, Owner: "a", Now: time.Now},
				"telegram", &both, &overlap)
			recv(t, a.tokens, "a to run the job")

			proxy.Hang()
			c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
			defer c.Close()
			if err := c.FlushAll(context.Background()).Err(); err != nil {
				t.Fatal(err)
			}
			b := startRunnerWith(t, openLeaseStore(t, srv.URL()), LeaseOptions{TTL: time.Second, BlindMost: tc.blind, RenewEvery: 100 * time.Millisecond, RetryEvery: 50 * time.Millisecond, Owner: "b", Now: time.Now},
				"telegram", &both, &overlap)
			recv(t, a.stopped, "a to stop the job on its own clock")
			recv(t, b.tokens, "b to run the job")
			if overlap.Load() {
				t.Fatalf("the job ran in both processes at once: b, started after Redis lost its data, waited its own lease's time\nb's logs:\n%s", b.logs)
			}
		})
	}
}

// TestLeaseTTLShortenedTakeoversQuick: a runs a job with a lease of 6s,
// b stands by with one of 1s and learns a's. The operator shortens a's to
// 1s: a is stopped (its lease given up) and started again with 1s, and
// takes the job back; then it dies (cut from Redis). b takes the lease and
// starts the job a second and a margin after it found it free, as the
// lease a held last was taken for, not 6s later. Before, b waited for the
// longest lease it had ever seen, 6s, until it was restarted itself.
func TestLeaseTTLShortenedTakeoversQuick(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	var both atomic.Int32
	var overlap atomic.Bool
	// All know the longest lease (VIGIE_LEASE_TTL_MAX=6s): a, finding no
	// trace of a lease in the new Redis, waits that long, not 15s.
	long := startRunnerWith(t, openLeaseStore(t, srv.URL()), LeaseOptions{TTL: 6 * time.Second, BlindMost: 6 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 50 * time.Millisecond, Owner: "a", Now: time.Now},
		"telegram", &both, &overlap)
	recv(t, long.tokens, "a to run the job")
	b := startRunnerWith(t, openLeaseStore(t, srv.URL()), LeaseOptions{TTL: time.Second, BlindMost: 6 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: time.Second, Owner: "b", Now: time.Now},
		"telegram", &both, &overlap)
	testsync.Eventually(t, "b to learn a's lease", func() bool { return strings.Contains(b.logs.String(), "VIGIE_LEASE_TTL") })

	long.cancel()
	<-long.done
	short := startRunnerWith(t, openLeaseStore(t, proxy.URL()), LeaseOptions{TTL: time.Second, BlindMost: 6 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 10 * time.Millisecond, Owner: "a", Now: time.Now},
		"telegram", &both, &overlap)
	if tok := recv(t, short.tokens, "a, restarted, to run the job"); tok == 0 {
		t.Fatal("no token")
	}
	proxy.Hang()
	recv(t, b.tokens, "b to run the job")
	var waited string
	for line := range strings.Lines(b.logs.String()) {
		if strings.Contains(line, "lease taken: the job starts here") {
			_, after, _ := strings.Cut(line, "starts_in=")
			waited, _, _ = strings.Cut(after, " ")
			waited = strings.TrimSpace(waited)
		}
	}
	if want := (time.Second + time.Second/5).String(); waited != want {
		t.Errorf("b waited %q before it started the job it took from a, whose lease was 1s; want %s\nb's logs:\n%s", waited, want, b.logs)
	}
	if overlap.Load() {
		t.Errorf("the job ran in both processes at once")
	}
}

// openLeaseStore opens the Redis store at url for the test's length.
func openLeaseStore(t *testing.T, url string) *redis.Store {
	t.Helper()
	return redistest.Open(t, url)
}
