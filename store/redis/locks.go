package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.LockKeeper = (*Store)(nil)
	_ store.LockKeeper = (*Fallback)(nil)
)

// The locks are a hash, key to the lock as JSON; a hash, key to its Prev
// (kept apart, for a claim to be filled without rewriting the JSON); and a
// sorted set, key to its Until in Unix milliseconds. All share a hash tag.

// putLockScript: KEYS hash, due, prev; ARGV key, JSON, until, prev. Returns
// {1} when the lock is new, {0, JSON, until, prev} of the lock kept
// otherwise (its until moved later when ARGV's is, its empty prev filled).
var putLockScript = goredis.NewScript(`
local cur = redis.call('HGET', KEYS[1], ARGV[1])
if not cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
  redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
  return {1}
end
redis.call('ZADD', KEYS[2], 'GT', ARGV[3], ARGV[1])
local prev = redis.call('HGET', KEYS[3], ARGV[1]) or ''
if prev == '' and ARGV[4] ~= '' then
  prev = ARGV[4]
  redis.call('HSET', KEYS[3], ARGV[1], prev)
end
return {0, cur, redis.call('ZSCORE', KEYS[2], ARGV[1]), prev}
`)

// dueLocksScript: KEYS hash, due, prev; ARGV now. Returns JSON, until, prev,
// ... of the locks due.
var dueLocksScript = goredis.NewScript(`
local keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES')
local out = {}
for i = 1, #keys, 2 do
  local v = redis.call('HGET', KEYS[1], keys[i])
  if v then
    table.insert(out, v)
    table.insert(out, keys[i + 1])
    table.insert(out, redis.call('HGET', KEYS[3], keys[i]) or '')
  end
end
return out
`)

// removeLockScript: KEYS hash, due, prev; ARGV key, until. Returns 1 when
// removed.
var removeLockScript = goredis.NewScript(`
local s = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not s or tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`)

func (s *Store) lockKeys() []string {
	return []string{s.cfg.prefix + ":{locks}:all", s.cfg.prefix + ":{locks}:due", s.cfg.prefix + ":{locks}:prev"}
}

func millis(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func parseMillis(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("lock until: unexpected %T", v)
	}
	ms, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("lock until %q: %w", s, err)
	}
	return time.UnixMilli(ms), nil
}

// PutLock records a lock, or extends the one kept under its key.
func (s *Store) PutLock(ctx context.Context, l store.PlaceLock) (store.PlaceLock, bool, error) {
	l.Until = time.UnixMilli(l.Until.UnixMilli())
	stored := l
	stored.Prev = "" // in its own hash
	b, err := json.Marshal(stored)
	if err != nil {
		return l, false, fmt.Errorf("redis lock %s: %w", l.Key(), err)
	}
	res, err := putLockScript.Run(ctx, s.c, s.lockKeys(), l.Key(), b, millis(l.Until), l.Prev).Slice()
	if err != nil {
		return l, false, fmt.Errorf("redis lock %s: %w", l.Key(), err)
	}
	if len(res) == 1 {
		return l, true, nil
	}
	if len(res) != 4 {
		return l, false, fmt.Errorf("redis lock %s: unexpected answer %v", l.Key(), res)
	}
	cur, err := readLock(res[1], res[2], res[3])
	if err != nil {
		return l, false, fmt.Errorf("redis lock %s: %w", l.Key(), err)
	}
	return cur, false, nil
}

func readLock(raw, until, prev any) (store.PlaceLock, error) {
	var l store.PlaceLock
	s, _ := raw.(string)
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return l, err
	}
	l.Prev, _ = prev.(string)
	t, err := parseMillis(until)
	l.Until = t
	return l, err
}

// DueLocks returns the locks due by now.
func (s *Store) DueLocks(ctx context.Context, now time.Time) ([]store.PlaceLock, error) {
	res, err := dueLocksScript.Run(ctx, s.c, s.lockKeys(), millis(now)).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis due locks: %w", err)
	}
	var out []store.PlaceLock
	for i := 0; i+2 < len(res); i += 3 {
		l, err := readLock(res[i], res[i+1], res[i+2])
		if err != nil {
			return out, fmt.Errorf("redis due locks: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

// RemoveLock forgets a lock that was not extended.
func (s *Store) RemoveLock(ctx context.Context, key string, until time.Time) (bool, error) {
	n, err := removeLockScript.Run(ctx, s.c, s.lockKeys(), key, millis(until)).Int64()
	if err != nil {
		return false, fmt.Errorf("redis unlock %s: %w", key, err)
	}
	return n == 1, nil
}

// PutLock writes to Redis: a lock kept only here would not be lifted by
// the process that runs the check.
func (f *Fallback) PutLock(ctx context.Context, l store.PlaceLock) (store.PlaceLock, bool, error) {
	return f.primary.PutLock(ctx, l)
}

// DueLocks reads Redis.
func (f *Fallback) DueLocks(ctx context.Context, now time.Time) ([]store.PlaceLock, error) {
	return f.primary.DueLocks(ctx, now)
}

// RemoveLock writes to Redis.
func (f *Fallback) RemoveLock(ctx context.Context, key string, until time.Time) (bool, error) {
	return f.primary.RemoveLock(ctx, key, until)
}
