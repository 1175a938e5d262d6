package redis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.LoginLimits = (*Store)(nil)

// The console's failed logins are a sorted set per key (what the console
// counts against: an address, a name, a browser), of members scored by their
// time in microseconds, which Redis forgets once the newest is older than the
// window; a client's last login is a string per pair, with its own TTL. The
// keys beside the accounts' share their hash tag, so that a check is one
// round trip on a cluster too; the console's keys, which hold what a
// stranger typed, are named by a hash of it.
func (s *Store) loginFailKey(k string) string {
	return s.cfg.prefix + ":{accounts}:login:fail:" + loginSum(k)
}

func (s *Store) loginKnownKey(pair string) string {
	return s.cfg.prefix + ":{accounts}:login:known:" + loginSum(pair)
}

func loginSum(k string) string {
	sum := sha256.Sum256([]byte(k))
	return base64.RawURLEncoding.EncodeToString(sum[:18])
}

func micros(t time.Time) string { return strconv.FormatInt(t.UnixMicro(), 10) }

// LoginFailures returns the failures of each key at or after since, and the
// last login of pair, in one pipeline.
func (s *Store) LoginFailures(ctx context.Context, keys []string, since time.Time, pair string) ([][]time.Time, time.Time, error) {
	p := s.c.Pipeline()
	ranges := make([]*goredis.ZSliceCmd, len(keys))
	for i, k := range keys {
		ranges[i] = p.ZRangeByScoreWithScores(ctx, s.loginFailKey(k), &goredis.ZRangeBy{Min: micros(since), Max: "+inf"})
	}
	known := p.Get(ctx, s.loginKnownKey(pair))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return nil, time.Time{}, fmt.Errorf("redis login failures: %w", err)
	}
	out := make([][]time.Time, len(keys))
	for i, r := range ranges {
		for _, z := range r.Val() {
			out[i] = append(out[i], time.UnixMicro(int64(z.Score)).UTC())
		}
	}
	var last time.Time
	if v, err := known.Int64(); err == nil {
		last = time.UnixMicro(v).UTC()
	}
	return out, last, nil
}

// LoginFailed records a failure against each key, in one pipeline: the
// failures older than keep, and those past the newest LoginFailuresKept,
// are dropped on the way.
func (s *Store) LoginFailed(ctx context.Context, keys []string, at time.Time, keep time.Duration) error {
	member := failureMember(at)
	p := s.c.Pipeline()
	for _, k := range keys {
		key := s.loginFailKey(k)
		p.ZAdd(ctx, key, goredis.Z{Score: float64(at.UnixMicro()), Member: member})
		p.ZRemRangeByScore(ctx, key, "-inf", micros(at.Add(-keep)))
		p.ZRemRangeByRank(ctx, key, 0, -store.LoginFailuresKept-1)
		p.PExpire(ctx, key, max(keep, time.Millisecond))
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis login failed: %w", err)
	}
	return nil
}

// loginTryScript: KEYS the failure sets; ARGV since in microseconds (the
// failures counted are after it), at in microseconds, the failure's member,
// the drop bound (at less keep) in microseconds, keep in milliseconds, how
// many a set keeps, then each set's limit. Returns 1 when the failure was
// counted, 0 when a limit is reached (nothing recorded).
var loginTryScript = goredis.NewScript(`
for i, k in ipairs(KEYS) do
  if redis.call('ZCOUNT', k, '(' .. ARGV[1], '+inf') >= tonumber(ARGV[6 + i]) then return 0 end
end
for _, k in ipairs(KEYS) do
  redis.call('ZADD', k, ARGV[2], ARGV[3])
  redis.call('ZREMRANGEBYSCORE', k, '-inf', ARGV[4])
  redis.call('ZREMRANGEBYRANK', k, 0, -tonumber(ARGV[6]) - 1)
  redis.call('PEXPIRE', k, ARGV[5])
end
return 1
`)

// LoginTry counts a failure against the key of each limit, unless one has
// its Max failures after since already, in one script: the instances that
// try logins at once count them one after the other.
func (s *Store) LoginTry(ctx context.Context, limits []store.LoginLimit, since, at time.Time, keep time.Duration) (string, bool, error) {
	member := failureMember(at)
	keys := make([]string, len(limits))
	args := []any{micros(since), micros(at), member, micros(at.Add(-keep)), max(keep, time.Millisecond).Milliseconds(), store.LoginFailuresKept}
	for i, l := range limits {
		keys[i] = s.loginFailKey(l.Key)
		args = append(args, l.Max)
	}
	n, err := loginTryScript.Run(ctx, s.c, keys, args...).Int64()
	if err != nil {
		return "", false, fmt.Errorf("redis login try: %w", err)
	}
	if n != 1 {
		return "", false, nil
	}
	return member, true, nil
}

// LoginUncount takes back the failure id LoginTry counted against keys.
func (s *Store) LoginUncount(ctx context.Context, keys []string, id string) error {
	p := s.c.Pipeline()
	for _, k := range keys {
		p.ZRem(ctx, s.loginFailKey(k), id)
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis login uncount: %w", err)
	}
	return nil
}

// failureMember is a failure at at, as a member of the failure sets: its
// time and a nonce, so that two failures at one time are two.
func failureMember(at time.Time) string {
	nonce := make([]byte, 8)
	rand.Read(nonce)
	return micros(at) + ":" + base64.RawURLEncoding.EncodeToString(nonce)
}

// LoginSucceeded records the last login of pair.
func (s *Store) LoginSucceeded(ctx context.Context, pair string, at time.Time, keep time.Duration) error {
	p := s.c.Pipeline()
	p.Set(ctx, s.loginKnownKey(pair), at.UnixMicro(), max(keep, time.Millisecond))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis login succeeded: %w", err)
	}
	return nil
}

// The login limits are not in the store's fast path: a Fallback asks Redis,
// and says so when Redis is away (the console then refuses the logins it
// cannot count).
var _ store.LoginLimits = (*Fallback)(nil)

func (f *Fallback) LoginFailures(ctx context.Context, keys []string, since time.Time, pair string) ([][]time.Time, time.Time, error) {
	return f.primary.LoginFailures(ctx, keys, since, pair)
}

func (f *Fallback) LoginFailed(ctx context.Context, keys []string, at time.Time, keep time.Duration) error {
	return f.primary.LoginFailed(ctx, keys, at, keep)
}

func (f *Fallback) LoginSucceeded(ctx context.Context, pair string, at time.Time, keep time.Duration) error {
	return f.primary.LoginSucceeded(ctx, pair, at, keep)
}

func (f *Fallback) LoginTry(ctx context.Context, limits []store.LoginLimit, since, at time.Time, keep time.Duration) (string, bool, error) {
	return f.primary.LoginTry(ctx, limits, since, at, keep)
}

func (f *Fallback) LoginUncount(ctx context.Context, keys []string, id string) error {
	return f.primary.LoginUncount(ctx, keys, id)
}
