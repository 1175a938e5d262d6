package redis_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A member's lock left by a holder that died (its process killed during a
// platform call) is not let go: it runs out at its PX, and the next ban of
// the member takes it then. One that ran out and was taken by another
// holder is not deleted by the first holder's late release.
func TestMemberLockOfADeadHolderRunsOut(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	s := otherProcess(t, url, prefix)
	other := otherProcess(t, url, prefix)
	raw := redistest.Client(t, url)
	ctx := context.Background()
	member := "discord|g1|u1"
	key := s.MemberLockKey(member)

	// a holder that died: its lock, with its PX, and no one to release it
	if err := raw.Set(ctx, key, "dead-holder", 300*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LockMember(ctx, member, 10*time.Millisecond); !errors.Is(err, store.ErrMemberBusy) {
		t.Fatalf("lock while the dead holder's is on = %v, want ErrMemberBusy", err)
	}
	unlock, err := s.LockMember(ctx, member, 10*time.Second)
	if err != nil {
		t.Fatalf("lock once the dead holder's ran out: %v", err)
	}
	if ttl := raw.PTTL(ctx, key).Val(); ttl <= 0 || ttl > redis.MemberLockTTL {
		t.Errorf("the lock's PTTL = %s, want within MemberLockTTL (%s)", ttl, redis.MemberLockTTL)
	}
	// Its lock taken by another meanwhile (as if it ran out): the late
	// release leaves the other's.
	if err := raw.Set(ctx, key, "another-holder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	unlock()
	if v := raw.Get(ctx, key).Val(); v != "another-holder" {
		t.Fatalf("after a late release the lock is %q, want the other holder's", v)
	}
	if _, err := other.LockMember(ctx, member, 10*time.Millisecond); !errors.Is(err, store.ErrMemberBusy) {
		t.Errorf("lock from another process while the other holder's is on = %v, want ErrMemberBusy", err)
	}
	raw.Del(ctx, key)
	unlock, err = other.LockMember(ctx, member, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if n := raw.Exists(ctx, key).Val(); n != 0 {
		t.Errorf("the lock still there after its holder let it go")
	}
}

// The lock is in the ban book's hash slot, on a Redis Cluster too.
func TestMemberLockInTheBookSlot(t *testing.T) {
	s := open(t, redistest.URL(t))
	lock := redis.SlotOf(s.MemberLockKey("discord|g{1}|u}1"))
	for _, k := range s.BanKeys() {
		if slot := redis.SlotOf(k); slot != lock {
			t.Errorf("slot of %s = %d, the lock's %d", k, slot, lock)
		}
	}
}

// While Redis is away the Fallback's member lock is this process's own:
// taken, kept from a second ban of the member, and let go.
func TestFallbackMemberLockWhileRedisIsAway(t *testing.T) {
	srv := redistest.Start(t)
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: 20 * time.Millisecond})
	t.Cleanup(func() { f.Close() })
	srv.Stop()
	ctx := context.Background()
	unlock, err := f.LockMember(ctx, "discord|g1|u1", time.Second)
	if err != nil {
		t.Fatalf("lock with Redis away = %v, want this process's lock", err)
	}
	if _, err := f.LockMember(ctx, "discord|g1|u1", 10*time.Millisecond); !errors.Is(err, store.ErrMemberBusy) {
		t.Errorf("a second lock of the member with Redis away = %v, want ErrMemberBusy", err)
	}
	unlock()
	unlock, err = f.LockMember(ctx, "discord|g1|u1", time.Second)
	if err != nil {
		t.Fatalf("lock once let go, Redis away: %v", err)
	}
	unlock()
}
