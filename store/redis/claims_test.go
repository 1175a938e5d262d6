package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// countedAs reads the counter name, as /metrics shows it.
func countedAs(reg *prometheus.Registry, name string) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}

// A claim whose holder died (never released, never renewed again) runs out
// on its own within CarryClaimTTL; one lost while held (another holds it
// now) is said, counted, told to its holder, and its release leaves the
// other's claim alone.
func TestClaimRunsOutAndIsLost(t *testing.T) {
	h, raw := onRedis(t)
	ctx := context.Background()
	_, lost, err := h.f.ClaimCarrying(ctx, "c-1")
	if err != nil {
		t.Fatal(err)
	}
	key := h.primary.ClaimKey("c-1")
	if ttl := raw.PTTL(ctx, key).Val(); ttl <= 0 || ttl > redis.CarryClaimTTL {
		t.Errorf("the claim runs out in %s, want within %s", ttl, redis.CarryClaimTTL)
	}
	if _, _, err := h.f.ClaimCarrying(ctx, "c-1"); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("a claim held: %v, want ErrClaimed", err)
	}

	release, lost2, err := h.f.ClaimCarrying(ctx, "c-2")
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.Set(ctx, h.primary.ClaimKey("c-2"), "another-holder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	line := h.logs.waitFor(t, "claim of a decision's carrying out lost")
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "c-2") {
		t.Errorf("the loss said as %q, want an error naming the case", line)
	}
	if !lost2() || lost() {
		t.Errorf("lost: c-2 %v, c-1 %v; want c-2's only", lost2(), lost())
	}
	release()
	if v := raw.Get(ctx, h.primary.ClaimKey("c-2")).Val(); v != "another-holder" {
		t.Errorf("after the release the claim is %q, want the other holder's", v)
	}
	if got := countedAs(h.reg, "vigie_store_decision_claims_lost_total"); got != 1 {
		t.Errorf("claims lost counted %v, want 1", got)
	}
}

// A claim Redis does not answer is not had (nothing is known: another
// process may hold it), and is counted.
func TestClaimUnansweredWhileRedisIsAway(t *testing.T) {
	h, srv := onRedisAway(t, 0)
	srv.Stop()
	_, _, err := h.f.ClaimCarrying(context.Background(), "c-1")
	if err == nil || errors.Is(err, store.ErrClaimed) {
		t.Fatalf("claim with Redis away: %v, want an error other than ErrClaimed", err)
	}
	if _, _, err := h.f.ClaimCarrying(context.Background(), "c-1"); err == nil {
		t.Fatal("second claim with Redis away had")
	}
	if got := countedAs(h.reg, "vigie_store_decision_claims_unanswered_total"); got != 2 {
		t.Errorf("claims unanswered counted %v, want 2", got)
	}
}

// TestMarkCarryingUnderItsClaim: a decision's mark of carrying out is
// written under the claim its process holds: one that reaches Redis after
// that claim was taken by another holder is dropped (store.ErrClaimed),
// never written over that holder's mark.
func TestMarkCarryingUnderItsClaim(t *testing.T) {
	url := redistest.URL(t)
	st := open(t, url)
	ctx := context.Background()
	c, err := st.OpenCase(ctx, scamCase("m-mark", "u-mark"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideCase(ctx, c.ID, "ban", "telegram:1", "", opened); err != nil {
		t.Fatal(err)
	}
	release, _, err := st.ClaimCarrying(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.MarkCarrying(ctx, c.ID, "first"); err != nil {
		t.Fatal(err)
	}
	// Another holder has the claim now (this one's ran out, as after a
	// pause), and marks its own carrying out.
	raw := redistest.Client(t, url)
	keys, err := raw.Keys(ctx, "*:{cases}:claim:"+c.ID).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("claim keys %q, %v", keys, err)
	}
	if err := raw.Set(ctx, keys[0], "another", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkCarrying(ctx, c.ID, "late"); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("a mark under a claim another holds: %v, want store.ErrClaimed", err)
	}
	if got, err := st.Case(ctx, c.ID); err != nil || got.CarryingMark != "first" {
		t.Errorf("case's mark %q, %v; want the first, left as it was", got.CarryingMark, err)
	}
	release()
}
