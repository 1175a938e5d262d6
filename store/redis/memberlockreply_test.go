package redis_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// lockThroughProxy opens a store that reaches Redis through a proxy that
// can lose its answers, and a client of its own straight to Redis. The
// store's lock script is loaded, by a lock taken and let go.
// retries is the client's max_retries (-1: none).
func lockThroughProxy(t *testing.T, retries int) (*redis.Store, *redistest.HangProxy, *goredis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	proxy := redistest.NewHangProxy(t, srv.Addr())
	s := redistest.Open(t, proxy.URL()+"?read_timeout=300ms&max_retries="+strconv.Itoa(retries), redis.WithPrefix(newPrefix()))
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { raw.Close() })
	unlock, err := s.LockMember(context.Background(), "discord|g1|u0", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	return s, proxy, raw
}

// A lock taken whose answer was lost on its way back is the holder's when
// the client asks again (go-redis tries a command whose answer did not
// come again): it is not taken for another's, to wait for in vain while it
// holds the member's bans back.
func TestMemberLockTakenWhenItsAnswerWasLost(t *testing.T) {
	s, proxy, raw := lockThroughProxy(t, 3)
	ctx := context.Background()
	member := "discord|g1|u1"
	proxy.LoseReply()
	unlock, err := s.LockMember(ctx, member, time.Second)
	if err != nil {
		t.Fatalf("lock whose first answer was lost = %v, want it taken", err)
	}
	unlock()
	if n := raw.Exists(ctx, s.MemberLockKey(member)).Val(); n != 0 {
		t.Errorf("the lock still there after its holder let it go")
	}
}

// A lock taken whose answer was lost (Redis did it; its client heard
// nothing, and does not ask again) is let go at once, rather than hold the
// member's other bans back for MemberLockTTL with nobody to renew or
// release it.
func TestMemberLockNotLeftWhenTheAnswerNeverCame(t *testing.T) {
	s, proxy, raw := lockThroughProxy(t, -1)
	ctx := context.Background()
	member := "discord|g1|u1"
	proxy.LoseReply()
	if _, err := s.LockMember(ctx, member, time.Second); err == nil {
		t.Fatal("lock with its answer lost = nil error, want the client's timeout")
	}
	if v, err := raw.Get(ctx, s.MemberLockKey(member)).Result(); err != goredis.Nil {
		t.Errorf("after the failed lock, the member's lock is %q (%v), want none", v, err)
	}
}

// A claim of an action whose answer was lost, asked again by the client,
// is the claimer's: the warning it claimed is given, not withheld as if
// another instance had given it.
func TestClaimCallTakenWhenItsAnswerWasLost(t *testing.T) {
	s, proxy, _ := lockThroughProxy(t, 3)
	ctx := context.Background()
	r := store.CallRecord{At: time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC), Done: true}
	if _, _, err := s.ClaimCall(ctx, "warned discord|g1|u0", r, 10*time.Minute); err != nil {
		t.Fatal(err) // the script loaded
	}
	proxy.LoseReply()
	kept, claimed, err := s.ClaimCall(ctx, "warned discord|g1|u1", r, 10*time.Minute)
	if err != nil || !claimed {
		t.Fatalf("claim whose first answer was lost = %+v, %v, %v; want it claimed", kept, claimed, err)
	}
	if _, claimed, err := s.ClaimCall(ctx, "warned discord|g1|u1", store.CallRecord{At: r.At.Add(time.Minute), Done: true}, 10*time.Minute); err != nil || claimed {
		t.Errorf("a second claim a minute later = %v, %v; want it refused", claimed, err)
	}
}
