package daemon

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

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
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	open := func(url string) *redis.Store {
		st, err := redis.Open(url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	ast, bst := open(proxy.URL()), open(srv.URL())
	var both atomic.Int32
	var overlap atomic.Bool
	a := startRunnerWith(t, ast, LeaseOptions{TTL: 6 * time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 100 * time.Millisecond, Owner: "a", Now: time.Now},
		"telegram", &both, &overlap)
	recv(t, a.tokens, "a to run the job")
	b := startRunnerWith(t, bst, LeaseOptions{TTL: time.Second, RenewEvery: 100 * time.Millisecond, RetryEvery: 50 * time.Millisecond, Owner: "b", Now: time.Now},
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
