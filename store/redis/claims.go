package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.CarryClaims = (*Store)(nil)
	_ store.CarryClaims = (*Fallback)(nil)
)

// CarryClaimTTL is how long the claim of a case's decision outlives its
// holder's last renewal: a process that died carrying a decision out (killed
// during the platform's call) holds the decision back that long at most,
// before the next hand-on of its press carries it out. The holder renews it
// every third of it for as long as it carries the decision out.
const CarryClaimTTL = 30 * time.Second

// A claim is one key, "TOKEN" for CarryClaimTTL, beside the case: it
// shares the cases' hash tag, so that on a Redis Cluster it is in their
// slot. Renewed and let go by the member lock's scripts (a compare, then
// PEXPIRE or DEL), which are about any key holding a token.

func (s *Store) claimKey(id string) string { return s.casesKey("claim:" + id) }

// ClaimCarrying takes the claim of case id's decision in Redis (SET NX PX
// with a token of this holder's own, in the shared pipeline), and renews
// it every third of CarryClaimTTL until released (by a compare-and-delete:
// never another holder's claim).
func (s *Store) ClaimCarrying(ctx context.Context, id string) (func(), func() bool, error) {
	return s.claimCarrying(ctx, id, nil, nil)
}

// claimCarrying is ClaimCarrying, telling log (when not nil) of the
// renewals that fail and of a claim lost while held, and lost (when not
// nil) of the loss.
func (s *Store) claimCarrying(ctx context.Context, id string, log *slog.Logger, onLost func()) (func(), func() bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	k := s.claimKey(id)
	ttl := fmt.Sprint(CarryClaimTTL.Milliseconds())
	took := s.cfg.wall()
	set := goredis.NewStatusCmd(ctx, "set", k, token, "px", ttl, "nx")
	err := s.runCmds(ctx, []goredis.Cmder{set})
	switch {
	case errors.Is(err, goredis.Nil):
		// Another's, or this very SET asked again after its answer was
		// lost, which found the token it had set.
		own := goredis.NewStringCmd(ctx, "get", k)
		if gerr := s.runCmds(ctx, []goredis.Cmder{own}); gerr != nil && !errors.Is(gerr, goredis.Nil) {
			return nil, nil, fmt.Errorf("redis claim case %s: %w", id, gerr)
		}
		if own.Val() != token {
			return nil, nil, fmt.Errorf("case %s: %w", id, store.ErrClaimed)
		}
	case err != nil:
		// Redis may have taken it and its answer be lost: let go at once,
		// rather than hold the decision back for CarryClaimTTL, unrenewed.
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), memberDropWait)
		_ = memberUnlockScript.Run(c, s.c, []string{k}, token).Err()
		cancel()
		return nil, nil, fmt.Errorf("redis claim case %s: %w", id, err)
	}
	release, _, held := s.hold(ctx, heldKey{
		key: k, token: token, ttl: CarryClaimTTL, every: s.claimRenewEvery(),
		renew: func(ctx context.Context) (int64, error) {
			return s.script(ctx, memberRenewScript, []string{k}, token, ttl).Int64()
		},
		what: "the claim of a decision's carrying out", attrs: []any{"case", id},
		lostSays:  "another vigie may carry it out; this one tries it no more",
		stuckSays: "it runs out on its own",
	}, took, log, onLost)
	// The mark of the carrying out is written under this claim only
	// (MarkCarrying).
	s.claimTokens.Store(id, token)
	let := func() {
		s.claimTokens.CompareAndDelete(id, token)
		release()
	}
	// Lost is the clock's word too, not only a renewal's: a holder paused
	// past CarryClaimTTL asks it before its next platform call.
	return let, func() bool { return !held() }, nil
}

// claimRenewEvery is how often a held claim is renewed: every third of
// CarryClaimTTL, unless a test set the member lock's renewal shorter.
func (s *Store) claimRenewEvery() time.Duration {
	if d := time.Duration(s.memberRenew.Load()); d > 0 {
		return d
	}
	return CarryClaimTTL / 3
}

// ClaimCarrying claims a case kept in this process only (opened while Redis
// was away, not written there yet) in this process, which alone knows it;
// any other in Redis. While Redis is away, or does not answer the claim,
// nothing is claimed and the error says so (counted, and Redis taken for
// away): a decision is carried out once at most, so it waits for Redis.
func (f *Fallback) ClaimCarrying(ctx context.Context, id string) (func(), func() bool, error) {
	rid := f.resolveLocked(id)
	if local, remote := f.where(rid); local && remote == "" {
		return f.local.ClaimCarrying(ctx, rid)
	} else if local {
		rid = remote
	}
	if f.degraded.Load() {
		f.claimsUnanswered.Add(1)
		return nil, nil, fmt.Errorf("claim case %s: redis is away (%s)", id, f.Problem())
	}
	release, lost, err := f.primary.claimCarrying(ctx, rid, f.log, func() { f.claimsLost.Add(1) })
	if err != nil && !errors.Is(err, store.ErrClaimed) {
		f.claimsUnanswered.Add(1)
		f.outage(ctx, err)
	}
	return release, lost, err
}
