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
