package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCarriedKeptForRedisIsBounded: while Redis is away, the ends of CMs'
// decisions on cases in Redis are kept for it, 10,000 at most; one past
// them is refused (ErrUnavailable), for the caller to count and log.
// Before, it was dropped while MarkCarried answered that all was well.
func TestCarriedKeptForRedisIsBounded(t *testing.T) {
	srv := redistest.Start(t)
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.FallbackOptions{RetryEvery: time.Hour}, redis.WithPrefix(newPrefix()))
	ctx := context.Background()
	srv.Stop()
	_ = f.Probe(ctx)
	if !f.Degraded() {
		t.Fatal("the store did not find Redis away")
	}
	const kept = 10_000
	for i := range kept {
		if err := f.MarkCarried(ctx, fmt.Sprintf("c-test-%06d", i), store.CarriedDone); err != nil {
			t.Fatalf("end %d not kept: %v", i, err)
		}
	}
	// The same case's end again is kept in its place.
	if err := f.MarkCarried(ctx, "c-test-000001", "failed"); err != nil {
		t.Errorf("an end kept already, told again: %v", err)
	}
	if err := f.MarkCarried(ctx, "c-test-past", store.CarriedDone); !errors.Is(err, redis.ErrUnavailable) {
		t.Errorf("an end past the %d kept: %v, want ErrUnavailable", kept, err)
	}
}

// TestCarriedToldDuringWriteBackKept: a decision's end kept for Redis is
// being written back when the same case's end is told again (Redis still
// taken for away): the later one is written too, not dropped with the
// one written. Before, the write-back removed the case from what waited
// once its first end was written, and the later end was lost, Redis left
// with the earlier one.
func TestCarriedToldDuringWriteBackKept(t *testing.T) {
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	f := redistest.OpenFallback(t, proxy.URL()+"?max_retries=-1", redis.FallbackOptions{RetryEvery: time.Hour, EventTimeout: 100 * time.Millisecond},
		redis.WithPrefix(newPrefix()))
	ctx := context.Background()
	c, err := f.OpenCase(ctx, scamCase("m-1", "eve"))
	if err != nil {
		t.Fatal(err)
	}
	raw := redistest.Client(t, srv.URL())
	if err := raw.Do(ctx, "client", "pause", "500", "all").Err(); err != nil {
		t.Fatal(err)
	}
	_ = f.Probe(ctx)
	if !f.Degraded() {
		t.Fatal("the store did not find Redis away")
	}
	const first = "failed: the first end"
	if err := f.MarkCarried(ctx, c.ID, first); err != nil {
		t.Fatal(err)
	}
	proxy.HoldAt([]byte(first))
	flushed := make(chan struct{})
	go func() { redis.FlushNow(f); close(flushed) }()
	<-proxy.Holding()
	if err := f.MarkCarried(ctx, c.ID, store.CarriedDone); err != nil {
		t.Fatal(err)
	}
	proxy.Resume()
	<-flushed
	redis.FlushNow(f)
	got, err := f.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Carried != store.CarriedDone {
		t.Errorf("the case's end in Redis is %q, want the later one, %q", got.Carried, store.CarriedDone)
	}
}
