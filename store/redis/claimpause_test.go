package redis_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A holder paused (SIGSTOP, a long GC, a suspended VM) for longer than
// CarryClaimTTL wakes to a claim that ran out in Redis, and another vigie
// may have taken it and be carrying the decision out: lost says so at
// once, before any renewal round trip, so that the holder's next try asks
// nothing of the platform. Before, lost only said what a renewal had found,
// and the woken holder's next try went on, beside the other's.
func TestClaimLostWhenNotRenewedForItsTTL(t *testing.T) {
	url := redistest.URL(t)
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	primary := redistest.Open(t, url, redis.WithPrefix(newPrefix()), redis.WithWallClock(clock))
	// no renewal comes while the test runs: the process is paused
	h := newLockHolder(t, primary, time.Hour)
	release, lost, err := h.f.ClaimCarrying(context.Background(), "c-1")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if lost() {
		t.Fatal("a claim just taken is lost")
	}
	ahead.Store(int64(redis.CarryClaimTTL))
	if !lost() {
		t.Errorf("a claim not renewed for %s (its holder paused) is not lost: the woken holder would carry the decision out beside the vigie that took it", redis.CarryClaimTTL)
	}
}
