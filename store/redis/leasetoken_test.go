package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLeaseTokenAfterRedisLostItsData: a lease's fencing token grows with
// every acquisition of the job, also across a FLUSHALL, where the counter
// started again from 1.
func TestLeaseTokenAfterRedisLostItsData(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st := open(t, srv.URL())
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	var last int64
	for i := range 3 {
		for j := range 2 {
			l, ok, err := st.AcquireLease(ctx, "telegram", "a", time.Minute)
			if err != nil || !ok {
				t.Fatalf("acquire %d.%d: %v, %v", i, j, ok, err)
			}
			if l.Token <= last {
				t.Fatalf("acquisition %d.%d got token %d, after %d", i, j, l.Token, last)
			}
			last = l.Token
			if err := st.ReleaseLease(ctx, l); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
	}
}
