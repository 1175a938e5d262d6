package redis_test

import (
	"context"
	"strings"
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

// A claim let go whose answer was lost on its way back (a network blip)
// is asked again by the client, which finds the claim gone: it was this
// holder's own release, not a loss. Before, that was said as a claim lost
// while held, at error, and counted in
// vigie_store_decision_claims_lost_total: a false alarm for each blip.
func TestClaimReleaseWhoseAnswerWasLostIsNoLoss(t *testing.T) {
	s, proxy, raw := lockThroughProxy(t, 3)
	h := newLockHolder(t, s, time.Hour)
	ctx := context.Background()
	release, lost, err := h.f.ClaimCarrying(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	proxy.LoseReply()
	release()
	if n := raw.Exists(ctx, s.ClaimKey("c-1")).Val(); n != 0 {
		t.Fatal("the claim still there after its holder let it go")
	}
	if strings.Contains(h.logs.String(), "lost while held") || lost() {
		t.Errorf("a release whose answer was lost said as a loss:\n%s", h.logs.String())
	}
	if got := countedAs(h.reg, "vigie_store_decision_claims_lost_total"); got != 0 {
		t.Errorf("claims lost counted %v, want 0", got)
	}
}
