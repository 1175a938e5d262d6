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

var _ store.MemberLocker = (*Store)(nil)

// MemberLockTTL is how long a member's lock outlives its holder's last
// renewal: a process that died holding it (killed during a platform call)
// holds the member's bans back that long at most. A holder renews it every
// third of it for as long as it holds it, whatever the platform's call
// takes (a lift's tries and their pauses).
const MemberLockTTL = 30 * time.Second

// A member's lock is one key, "TOKEN" for MemberLockTTL, beside the ban
// book: it shares the book's hash tag, so that on a Redis Cluster it is in
// the book's slot, where a script may read both.

// memberRenewScript: KEYS lock; ARGV token, ttl in ms. 1 when renewed, 0
// when the lock is not the holder's any more (it ran out, or Redis lost it).
var memberRenewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
`)

// memberUnlockScript: KEYS lock; ARGV token. Deletes the lock only if it is
// still the holder's: one that ran out and was taken by another is theirs.
// 1 when deleted, 0 when another's, -1 when there is none (it ran out, or
// this very release asked again after its answer was lost).
var memberUnlockScript = goredis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == false then return -1 end
if v ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

func (s *Store) memberLockKey(key string) string { return s.cfg.prefix + ":{bans}:lock:" + key }

// memberRenewEvery is how often a held lock is renewed: every third of
// MemberLockTTL, unless a test set it shorter (memberRenew).
func (s *Store) memberRenewEvery() time.Duration {
	if d := time.Duration(s.memberRenew.Load()); d > 0 {
		return d
	}
	if s.cfg.memberRenew > 0 {
		return s.cfg.memberRenew
	}
	return MemberLockTTL / 3
}

// memberDropWait bounds the release of a lock whose taking Redis did not
// answer: Redis away, it is not waited for long.
const memberDropWait = time.Second

// memberPoll bounds the pause between two asks for a lock held by another.
const memberPoll = 200 * time.Millisecond

// LockMember takes the member's lock in Redis (SET NX PX with a token of
// this holder's own), asking again, at growing intervals, while another
// holds it, for at most wait. Held, it is renewed every third of
// MemberLockTTL until released (by a compare-and-delete: never another
// holder's lock). An error from Redis is returned at once. A renewal that
// fails, and a lock lost while held, are told to the Fallback's log; a
// Store alone keeps them to itself.
func (s *Store) LockMember(ctx context.Context, key string, wait time.Duration) (func(), error) {
	unlock, _, err := s.lockMember(ctx, key, wait, nil, nil)
	return unlock, err
}

var _ store.MemberLockWatcher = (*Store)(nil)

// LockMemberWatched is LockMember, with held: false once a renewal found
// the lock another's (or gone), or none got through for MemberLockTTL.
func (s *Store) LockMemberWatched(ctx context.Context, key string, wait time.Duration) (func(), func() bool, error) {
	return s.lockMember(ctx, key, wait, nil, nil)
}

// lockMember is LockMemberWatched, telling log (when not nil) of the
// renewals that fail and of a lock lost while held, and lost (when not
// nil) of the loss.
func (s *Store) lockMember(ctx context.Context, key string, wait time.Duration, log *slog.Logger, lost func()) (func(), func() bool, error) {
	var b [16]byte
	_, _ = rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	k := s.memberLockKey(key)
	ttl := fmt.Sprint(MemberLockTTL.Milliseconds())
	// On the wall clock: a wait for a lock Redis keeps, whose TTL runs out in real time.
	deadline := time.Now().Add(wait)
	pause := 5 * time.Millisecond
	var took time.Time
	for {
		// A plain SET NX PX, not a script (an earlier version beside took
		// it by a script of that one SET: the same key and value), in the
		// shared pipeline with WithAutoPipeline: Redis enters no Lua for
		// it, nor reads a call of its own.
		took = s.cfg.wall()
		set := goredis.NewStatusCmd(ctx, "set", k, token, "px", ttl, "nx")
		err := s.runCmds(ctx, []goredis.Cmder{set})
		if err == nil {
			break
		}
		if errors.Is(err, goredis.Nil) {
			// Busy, or this very SET asked again after its answer was
			// lost (go-redis tries again a command whose answer did not
			// come), which found the token it had set: the lock is ours.
			// One more round trip, only when the lock is not had at once.
			own := goredis.NewStringCmd(ctx, "get", k)
			if s.runCmds(ctx, []goredis.Cmder{own}) == nil && own.Val() == token {
				break
			}
		} else {
			// Redis may have taken it and its answer be lost (a timeout, the
			// holder's context ended on the way): let go at once, rather than
			// hold the member's bans back for MemberLockTTL, unrenewed.
			c, cancel := context.WithTimeout(context.WithoutCancel(ctx), memberDropWait)
			_ = memberUnlockScript.Run(c, s.c, []string{k}, token).Err()
			cancel()
			return nil, nil, fmt.Errorf("redis lock member %s: %w", key, err)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, nil, fmt.Errorf("redis lock member %s: %w", key, store.ErrMemberBusy)
		}
		t := time.NewTimer(min(pause, left))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, nil, ctx.Err()
		}
		pause = min(2*pause, memberPoll)
	}
	release, _, held := s.hold(ctx, heldKey{
		key: k, token: token, ttl: MemberLockTTL, every: s.memberRenewEvery(),
		renew: func(ctx context.Context) (int64, error) {
			return memberRenewScript.Run(ctx, s.c, []string{k}, token, ttl).Int64()
		},
		what: "the member's lock", attrs: []any{"member", key},
		lostSays:  "another ban, kick or lift of the member may be decided beside this one",
		stuckSays: "the member's next ban waits for it to run out",
	}, took, log, lost)
	return release, held, nil
}

var _ store.MemberLocker = (*Fallback)(nil)

// LockMember takes the member's lock in this process first, then in Redis,
// within wait in all: the bans of one process wait for each other without
// asking Redis, and those of the processes sharing it through Redis. While
// Redis is away (or does not answer the lock), the lock of this process
// alone is held, and said: the processes beside it are not kept out then,
// but neither can they read or write the ban book, which is Redis's (a
// timed ban is refused till it answers; a ban for good is given, and
// written when it does: store.BanWriteBack).
func (f *Fallback) LockMember(ctx context.Context, key string, wait time.Duration) (func(), error) {
	unlock, _, err := f.LockMemberWatched(ctx, key, wait)
	return unlock, err
}

var _ store.MemberLockWatcher = (*Fallback)(nil)

// always is held for a lock of this process alone, which it cannot lose.
func always() bool { return true }

// LockMemberWatched is LockMember, with held: for a lock taken in Redis,
// false once its renewals found it lost (and counted and logged it).
func (f *Fallback) LockMemberWatched(ctx context.Context, key string, wait time.Duration) (func(), func() bool, error) {
	// On the wall clock: a wait for a lock Redis keeps, whose TTL runs out in real time.
	start := time.Now()
	unlock, err := f.members.Lock(ctx, key, wait)
	if err != nil {
		return nil, nil, err
	}
	if f.degraded.Load() {
		return unlock, always, nil
	}
	// Not bounded by EventTimeout: another process's ban may hold the lock
	// longer, and a wait for it is no outage. An outage is the error of a
	// call Redis did not answer, within the client's own timeouts.
	remote, held, err := f.primary.lockMember(ctx, key, max(wait-time.Since(start), 0), f.log, func() { f.locksLost.Add(1) })
	switch {
	case err == nil:
		return func() { remote(); unlock() }, held, nil
	case errors.Is(err, store.ErrMemberBusy), ctx.Err() != nil:
		unlock()
		return nil, nil, err
	}
	f.locksLost.Add(1)
	f.log.Warn("the member's lock not taken in redis: held in this process only", "member", key, "err", err)
	return unlock, always, nil
}
