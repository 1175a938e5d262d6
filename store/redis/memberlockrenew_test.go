package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// lockHolder is a Fallback on primary, as a process holds members' locks
// with it: renewed every 20ms (unless renew is 0), its log in logs and its
// metrics in reg.
type lockHolder struct {
	primary *redis.Store
	f       *redis.Fallback
	logs    testLogs
	reg     *prometheus.Registry
}

func newLockHolder(t *testing.T, primary *redis.Store, renew time.Duration) *lockHolder {
	t.Helper()
	if renew > 0 {
		primary.SetMemberRenew(renew)
	}
	h := &lockHolder{primary: primary, reg: prometheus.NewRegistry()}
	h.f = redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Logger: h.logs.logger()})
	t.Cleanup(func() { h.f.Close() })
	if err := h.f.Register(h.reg); err != nil {
		t.Fatal(err)
	}
	return h
}

// onRedis is a lockHolder on the test's Redis, and a plain client of it.
func onRedis(t *testing.T) (*lockHolder, *goredis.Client) {
	url := redistest.URL(t)
	return newLockHolder(t, redistest.Open(t, url, redis.WithPrefix(newPrefix())), 20*time.Millisecond), redistest.Client(t, url)
}

// onRedisAway is a lockHolder on a Redis of its own, which the test stops,
// with renew.
func onRedisAway(t *testing.T, renew time.Duration) (*lockHolder, *redistest.Server) {
	srv := redistest.Start(t)
	primary := redistest.Open(t, srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()))
	return newLockHolder(t, primary, renew), srv
}

// lock takes member's lock for a second.
func (h *lockHolder) lock(t *testing.T, member string) (unlock func()) {
	t.Helper()
	unlock, err := h.f.LockMember(context.Background(), member, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return unlock
}

// takenByAnother has member's lock held by another holder in Redis, as if
// it ran out while Redis did not answer and another took it.
func (h *lockHolder) takenByAnother(t *testing.T, raw *goredis.Client, member string) {
	t.Helper()
	if err := raw.Set(context.Background(), h.primary.MemberLockKey(member), "another-holder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
}

// A member's lock that its holder loses while holding it (it ran out and
// another took it, or Redis lost it) is said, at its next renewal: the
// holder's ban may now be decided beside another's, and nothing else would
// show it.
func TestMemberLockLostWhileHeldIsLogged(t *testing.T) {
	h, raw := onRedis(t)
	member := "discord|g1|u1"

	unlock := h.lock(t, member)
	h.takenByAnother(t, raw, member)
	line := h.logs.waitFor(t, "member's lock lost")
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, member) {
		t.Errorf("the loss said as %q, want an error naming the member", line)
	}
	unlock()
	if v := raw.Get(context.Background(), h.primary.MemberLockKey(member)).Val(); v != "another-holder" {
		t.Errorf("after the release the lock is %q, want the other holder's", v)
	}
	if n := strings.Count(h.logs.String(), "member's lock lost"); n != 1 {
		t.Errorf("the loss said %d times, want once:\n%s", n, h.logs.String())
	}
}

// A renewal Redis does not answer is said, with when the lock runs out;
// Redis back without it (restarted empty), the loss is said too.
func TestMemberLockRenewalFailureIsLogged(t *testing.T) {
	h, srv := onRedisAway(t, 20*time.Millisecond)
	member := "discord|g1|u1"

	unlock := h.lock(t, member)
	defer unlock()
	srv.Stop()
	line := h.logs.waitFor(t, "member's lock not renewed")
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, member) {
		t.Errorf("the failed renewal said as %q, want a warning naming the member", line)
	}
	srv.Restart()
	h.logs.waitFor(t, "member's lock lost")
	if n := strings.Count(h.logs.String(), "member's lock not renewed"); n != 1 {
		t.Errorf("the failed renewals said %d times, want once for the run:\n%s", n, h.logs.String())
	}
}

// A member's lock lost while held is counted, not only logged: an
// operator's alert sees that a ban, kick or lift may have been decided
// beside another instance's, which a log line read in the morning does not
// show at night. So is a lock held in this process only because Redis did
// not answer its taking.
func TestMemberLockLostIsCounted(t *testing.T) {
	h, raw := onRedis(t)
	member := "discord|g1|u2"

	unlock := h.lock(t, member)
	if got := counted(h.reg); got != 0 {
		t.Errorf("a lock held counted %v lost", got)
	}
	h.takenByAnother(t, raw, member)
	h.logs.waitFor(t, "member's lock lost")
	unlock() // finds another's: said once, counted once
	if got := counted(h.reg); got != 1 {
		t.Errorf("a lock lost while held counted %v times, want once", got)
	}
}

// A lock whose taking Redis did not answer, held in this process only, is
// counted too.
func TestMemberLockNotTakenInRedisIsCounted(t *testing.T) {
	h, srv := onRedisAway(t, 0)
	srv.Stop()
	h.lock(t, "discord|g1|u3")()
	if got := counted(h.reg); got != 1 {
		t.Errorf("a lock held in this process only counted %v times, want once:\n%s", got, h.logs.String())
	}
}

// counted reads vigie_store_member_locks_lost_total, as /metrics shows it.
func counted(reg *prometheus.Registry) float64 {
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "vigie_store_member_locks_lost_total" {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return -1
}
