package redis_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLeaseEvictedNotTakenBeforeHoldersRenewal: on a Redis of 8 MB under
// volatile-ttl, another writer fills the memory and Redis evicts the
// lease's owner key, the one key with a TTL, while its holder still runs
// the job. A standby that saw the lease held and asks again (a careful
// acquisition) does not take it: the lease is held by nobody for the
// wait, the holder's next renewal finds it gone (it stops the job there)
// and its fenced writes are refused from the eviction on; once the wait
// is past, the standby takes the job with a token past the holder's.
// Before, the standby took the lease at once, beside the holder, until the
// holder's next renewal.
func TestLeaseEvictedNotTakenBeforeHoldersRenewal(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory", "8mb", "--maxmemory-policy", "volatile-ttl")
	ctx := context.Background()
	st := open(t, srv.URL())
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()

	const job = "telegram"
	a, ok, err := st.AcquireLease(ctx, job, "a", time.Hour)
	if err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	if ok, err := st.AdvanceFenced(ctx, a, "offset", 1); err != nil || !ok {
		t.Fatalf("fenced write under the lease: %v, %v", ok, err)
	}
	ownerKey := func() bool {
		keys, err := c.Keys(ctx, "*{lease:"+job+"}:owner").Result()
		if err != nil {
			t.Fatal(err)
		}
		return len(keys) == 1
	}
	if !ownerKey() {
		t.Fatal("no owner key")
	}
	// Another writer fills Redis with keys without a TTL, which
	// volatile-ttl never evicts: the owner key goes.
	val := strings.Repeat("x", 4096)
	var filler []string
	for i := 0; ownerKey(); i++ {
		if i > 10_000 {
			t.Fatal("the owner key was never evicted")
		}
		p := c.Pipeline()
		for j := range 10 {
			k := "filler:" + strconv.Itoa(i*10+j)
			filler = append(filler, k)
			p.Set(ctx, k, val, 0)
		}
		if _, err := p.Exec(ctx); err != nil && !strings.Contains(err.Error(), "OOM") {
			t.Fatal(err)
		}
	}
	if n, err := c.Info(ctx, "stats").Result(); err != nil || !strings.Contains(n, "evicted_keys:") || strings.Contains(n, "evicted_keys:0\r\n") {
		t.Fatalf("no eviction counted: %v\n%s", err, n)
	}
	// The writer's keys go, the memory is free again: Redis takes writes.
	for len(filler) > 0 {
		n := min(len(filler), 500)
		if err := c.Del(ctx, filler[:n]...).Err(); err != nil {
			t.Fatal(err)
		}
		filler = filler[n:]
	}

	const wait = 200 * time.Millisecond
	_, ok, err = st.AcquireLeaseAfterHeld(ctx, job, "b", time.Hour, wait)
	if ok || !errors.Is(err, store.ErrLeaseReset) {
		t.Fatalf("standby's ask after the eviction = %v, %v; want it refused with ErrLeaseReset while the holder may still run the job", ok, err)
	}
	if ok, err := st.AdvanceFenced(ctx, a, "offset", 2); err != nil || ok {
		t.Errorf("holder's fenced write after the eviction = %v, %v; want it refused", ok, err)
	}
	if ok, err := st.RenewLease(ctx, a, time.Hour); ok || !errors.Is(err, store.ErrLeaseGone) {
		t.Errorf("holder's renewal after the eviction = %v, %v; want ErrLeaseGone, the job stopped there", ok, err)
	}
	var b store.Lease
	redistest.Eventually(t, time.Minute, "the standby taking the job once the wait is past", func() bool {
		b, ok, err = st.AcquireLeaseAfterHeld(ctx, job, "b", time.Hour, wait)
		return err == nil && ok
	})
	if b.Token <= a.Token {
		t.Errorf("standby's token %d, not past the holder's %d", b.Token, a.Token)
	}
	if ok, err := st.RenewLease(ctx, a, time.Hour); ok || err != nil {
		t.Errorf("holder's renewal once the standby holds the job = %v, %v; want false, nil", ok, err)
	}
}

// TestLeaseReleasedTakenAtOnce: a lease given up on purpose (the job
// returned, a shutdown) is taken at once by a standby that saw it held,
// and so is one that ran out; only a lease gone before it could run out
// is held by nobody for the wait.
func TestLeaseReleasedTakenAtOnce(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	st := open(t, srv.URL())
	a, ok, err := st.AcquireLease(ctx, "morning-report", "a", time.Hour)
	if err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	if err := st.ReleaseLease(ctx, a); err != nil {
		t.Fatal(err)
	}
	b, ok, err := st.AcquireLeaseAfterHeld(ctx, "morning-report", "b", time.Hour, time.Hour)
	if err != nil || !ok || b.Token <= a.Token {
		t.Fatalf("standby's ask after a release = %+v, %v, %v; want the lease at once, a token past %d", b, ok, err, a.Token)
	}
	// A lease of 1ms, never renewed, runs out: taken at once.
	e, ok, err := st.AcquireLease(ctx, "escalation", "a", time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("acquire: %v, %v", ok, err)
	}
	redistest.Eventually(t, time.Minute, "the lease that ran out taken", func() bool {
		f, ok, err := st.AcquireLeaseAfterHeld(ctx, "escalation", "b", time.Hour, time.Hour)
		if err != nil {
			t.Fatalf("standby's ask after the lease ran out: %v", err)
		}
		return ok && f.Token > e.Token
	})
}
