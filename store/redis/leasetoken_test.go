package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/redis"
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

// runOutHold is a job's lease that may have run out.
type runOutHold struct{}

func (runOutHold) Check() error { return bot.ErrLeaseRunOut }

// TestLeaseRunOutRefusesTheJobsCommands: a job whose lease may have run out
// writes nothing more to the store, whatever its code does: its commands,
// single or pipelined, are refused before they are sent. Commands of no
// job go through.
func TestLeaseRunOutRefusesTheJobsCommands(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	c := redistest.Client(t, srv.URL())
	ctx := bot.WithLeaseHold(context.Background(), runOutHold{})
	if _, ok, err := st.AcquireLease(ctx, "escalation", "a", time.Minute); ok || !errors.Is(err, bot.ErrLeaseRunOut) {
		t.Errorf("a job's command under a lease run out: %v, %v; want bot.ErrLeaseRunOut", ok, err)
	}
	l, ok, err := st.AcquireLease(context.Background(), "escalation", "a", time.Minute)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := st.AdvanceFenced(ctx, l, "offset", 5); ok || !errors.Is(err, bot.ErrLeaseRunOut) {
		t.Errorf("a fenced write under a lease run out: %v, %v; want bot.ErrLeaseRunOut", ok, err)
	}
	if n, err := c.DBSize(context.Background()).Result(); err != nil || n != 3 {
		t.Errorf("keys in Redis: %d, %v; want the lease's three (owner, token, ttl), nothing written by the job", n, err)
	}
}

// TestLeaseRunOutIsNoOutage: a job's write refused in its process, its
// lease run out, does not make the fallback take Redis for unreachable:
// the events go on being counted in Redis. Before, every error that was not
// Redis's own was an outage.
func TestLeaseRunOutIsNoOutage(t *testing.T) {
	srv := redistest.Start(t)
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{})
	l, ok, err := f.AcquireLease(context.Background(), "telegram", "a", time.Minute)
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	ctx := bot.WithLeaseHold(context.Background(), runOutHold{})
	if ok, err := f.AdvanceFenced(ctx, l, "offset", 5); ok || !errors.Is(err, bot.ErrLeaseRunOut) {
		t.Errorf("a fenced write under a lease run out: %v, %v; want bot.ErrLeaseRunOut", ok, err)
	}
	if f.Degraded() {
		t.Errorf("the fallback took a write refused for its lease for an outage: %s", f.Problem())
	}
}
