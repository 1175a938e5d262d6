package redis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.BanKeeper = (*Store)(nil)
	_ store.BanKeeper = (*Fallback)(nil)
)

// The timed bans are a hash, key to the ban as JSON, and a sorted set, key
// to its Until in Unix milliseconds; both share a hash tag.

// putBanScript: KEYS hash, due; ARGV key, JSON, until. Returns the JSON of
// the ban replaced, an empty string for none.
var putBanScript = goredis.NewScript(`
local prev = redis.call('HGET', KEYS[1], ARGV[1]) or ''
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return prev
`)

// dueBansScript: KEYS hash, due; ARGV now, max (0: all). Returns the JSON of
// the bans due, oldest Until first.
var dueBansScript = goredis.NewScript(`
local keys
if tonumber(ARGV[2]) > 0 then
  keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
else
  keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
end
local out = {}
for _, k in ipairs(keys) do
  local v = redis.call('HGET', KEYS[1], k)
  if v then table.insert(out, v) end
end
return out
`)

// removeBanScript: KEYS hash, due; ARGV key, until (” for any). Returns 1
// when removed.
var removeBanScript = goredis.NewScript(`
local s = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not s then return 0 end
if ARGV[2] ~= '' and tonumber(s) ~= tonumber(ARGV[2]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`)

// keptBanScript: KEYS hash, due; ARGV key. Returns the JSON of the ban, nil
// for none. (A script, as the other calls of the bans: the store's Client
// declares no HGET.)
var keptBanScript = goredis.NewScript(`return redis.call('HGET', KEYS[1], ARGV[1])`)

func (s *Store) banKeys() []string {
	return []string{s.cfg.prefix + ":{bans}:all", s.cfg.prefix + ":{bans}:due"}
}

// PutBan records a timed ban, replacing the one kept under its key. Its
// Until is kept to the millisecond.
func (s *Store) PutBan(ctx context.Context, b store.TimedBan) (store.TimedBan, bool, error) {
	var prev store.TimedBan
	b.Until = time.UnixMilli(b.Until.UnixMilli()).UTC()
	raw, err := json.Marshal(b)
	if err != nil {
		return prev, false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
	}
	old, err := putBanScript.Run(ctx, s.c, s.banKeys(), b.Key(), raw, millis(b.Until)).Text()
	if err != nil {
		return prev, false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
	}
	if old == "" {
		return prev, false, nil
	}
	if err := json.Unmarshal([]byte(old), &prev); err != nil {
		return prev, false, fmt.Errorf("redis ban %s: the one replaced: %w", b.Key(), err)
	}
	return prev, true, nil
}

// DueBans returns the bans due by now, oldest Until first.
func (s *Store) DueBans(ctx context.Context, now time.Time, limit int) ([]store.TimedBan, error) {
	res, err := dueBansScript.Run(ctx, s.c, s.banKeys(), millis(now), max(limit, 0)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis due bans: %w", err)
	}
	out := make([]store.TimedBan, 0, len(res))
	for _, raw := range res {
		var b store.TimedBan
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			return out, fmt.Errorf("redis due bans: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// KeptBan returns the ban kept under key.
func (s *Store) KeptBan(ctx context.Context, key string) (store.TimedBan, bool, error) {
	var b store.TimedBan
	raw, err := keptBanScript.Run(ctx, s.c, s.banKeys(), key).Text()
	if errors.Is(err, goredis.Nil) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("redis ban %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return b, false, fmt.Errorf("redis ban %s: %w", key, err)
	}
	return b, true, nil
}

// RemoveBan forgets a ban, if it was not replaced when until is set.
func (s *Store) RemoveBan(ctx context.Context, key string, until time.Time) (bool, error) {
	u := ""
	if !until.IsZero() {
		u = millis(until)
	}
	n, err := removeBanScript.Run(ctx, s.c, s.banKeys(), key, u).Int64()
	if err != nil {
		return false, fmt.Errorf("redis unban %s: %w", key, err)
	}
	return n == 1, nil
}

// PutBan writes to Redis: a ban's end kept only here would not be lifted by
// the process that runs the check, nor after a restart.
func (f *Fallback) PutBan(ctx context.Context, b store.TimedBan) (store.TimedBan, bool, error) {
	return f.primary.PutBan(ctx, b)
}

// DueBans reads Redis.
func (f *Fallback) DueBans(ctx context.Context, now time.Time, limit int) ([]store.TimedBan, error) {
	return f.primary.DueBans(ctx, now, limit)
}

// RemoveBan writes to Redis.
func (f *Fallback) RemoveBan(ctx context.Context, key string, until time.Time) (bool, error) {
	return f.primary.RemoveBan(ctx, key, until)
}

// KeptBan reads Redis.
func (f *Fallback) KeptBan(ctx context.Context, key string) (store.TimedBan, bool, error) {
	return f.primary.KeptBan(ctx, key)
}
