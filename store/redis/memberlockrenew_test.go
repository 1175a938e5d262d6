package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// lockLogs is a Fallback's log, read as it grows.
type lockLogs struct {
	mu   sync.Mutex
	text strings.Builder
}

func (l *lockLogs) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.text.Write(p)
	}), nil))
}

func (l *lockLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.text.String()
}

// waitFor waits for a line with want in the log, for a minute, far past the
// renewals' pace and what a loaded machine takes: the test fails if it never
// comes.
func (l *lockLogs) waitFor(t *testing.T, want string) string {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		for _, line := range strings.Split(l.String(), "\n") {
			if strings.Contains(line, want) {
				return line
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no log line with %q; the log:\n%s", want, l.String())
	return ""
}

// A member's lock that its holder loses while holding it (it ran out and
// another took it, or Redis lost it) is said, at its next renewal: the
// holder's ban may now be decided beside another's, and nothing else would
// show it.
func TestMemberLockLostWhileHeldIsLogged(t *testing.T) {
	url := redistest.URL(t)
	primary := redistest.Open(t, url, redis.WithPrefix(newPrefix()))
	primary.SetMemberRenew(20 * time.Millisecond)
	var logs lockLogs
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Logger: logs.logger()})
	t.Cleanup(func() { f.Close() })
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(opt)
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()
	member := "discord|g1|u1"

	unlock, err := f.LockMember(ctx, member, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// as if it ran out while Redis did not answer, and another holder took it
	if err := raw.Set(ctx, primary.MemberLockKey(member), "another-holder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	line := logs.waitFor(t, "member's lock lost")
	if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, member) {
		t.Errorf("the loss said as %q, want an error naming the member", line)
	}
	unlock()
	if v := raw.Get(ctx, primary.MemberLockKey(member)).Val(); v != "another-holder" {
		t.Errorf("after the release the lock is %q, want the other holder's", v)
	}
	if n := strings.Count(logs.String(), "member's lock lost"); n != 1 {
		t.Errorf("the loss said %d times, want once:\n%s", n, logs.String())
	}
}

// A renewal Redis does not answer is said, with when the lock runs out;
// Redis back without it (restarted empty), the loss is said too.
func TestMemberLockRenewalFailureIsLogged(t *testing.T) {
	srv := redistest.Start(t)
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	primary.SetMemberRenew(20 * time.Millisecond)
	var logs lockLogs
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Logger: logs.logger()})
	t.Cleanup(func() { f.Close() })
	ctx := context.Background()
	member := "discord|g1|u1"

	unlock, err := f.LockMember(ctx, member, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	srv.Stop()
	line := logs.waitFor(t, "member's lock not renewed")
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, member) {
		t.Errorf("the failed renewal said as %q, want a warning naming the member", line)
	}
	srv.Restart()
	logs.waitFor(t, "member's lock lost")
	if n := strings.Count(logs.String(), "member's lock not renewed"); n != 1 {
		t.Errorf("the failed renewals said %d times, want once for the run:\n%s", n, logs.String())
	}
}

// A member's lock lost while held is counted, not only logged: an
// operator's alert sees that a ban, kick or lift may have been decided
// beside another instance's, which a log line read in the morning does not
// show at night. So is a lock held in this process only because Redis did
// not answer its taking.
func TestMemberLockLostIsCounted(t *testing.T) {
	url := redistest.URL(t)
	primary := redistest.Open(t, url, redis.WithPrefix(newPrefix()))
	primary.SetMemberRenew(20 * time.Millisecond)
	var logs lockLogs
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Logger: logs.logger()})
	t.Cleanup(func() { f.Close() })
	reg := prometheus.NewRegistry()
	if err := f.Register(reg); err != nil {
		t.Fatal(err)
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(opt)
	t.Cleanup(func() { raw.Close() })
	ctx := context.Background()
	member := "discord|g1|u2"

	unlock, err := f.LockMember(ctx, member, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := counted(reg); got != 0 {
		t.Errorf("a lock held counted %v lost", got)
	}
	if err := raw.Set(ctx, primary.MemberLockKey(member), "another-holder", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	logs.waitFor(t, "member's lock lost")
	unlock() // finds another's: said once, counted once
	if got := counted(reg); got != 1 {
		t.Errorf("a lock lost while held counted %v times, want once", got)
	}
}

// A lock whose taking Redis did not answer, held in this process only, is
// counted too.
func TestMemberLockNotTakenInRedisIsCounted(t *testing.T) {
	srv := redistest.Start(t)
	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	var logs lockLogs
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Logger: logs.logger()})
	t.Cleanup(func() { f.Close() })
	reg := prometheus.NewRegistry()
	if err := f.Register(reg); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	unlock, err := f.LockMember(context.Background(), "discord|g1|u3", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	if got := counted(reg); got != 1 {
		t.Errorf("a lock held in this process only counted %v times, want once:\n%s", got, logs.String())
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
