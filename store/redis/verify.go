package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
)

var (
	_ bot.Verifications = (*Store)(nil)
	_ bot.Verifications = (*Fallback)(nil)
)

// The pending verifications are a hash (member → JSON) and a sorted set
// (member by deadline) in one slot, so that taking one is a transaction.
func (s *Store) pendingKey() string { return s.cfg.prefix + ":{verify}:pending" }
func (s *Store) dueKey(platform string) string {
	return s.cfg.prefix + ":{verify}:due:" + platform
}

func pendingField(platform, space, user string) string {
	return strconv.Quote(platform) + strconv.Quote(space) + strconv.Quote(user)
}

// PutPending records p.
func (s *Store) PutPending(ctx context.Context, p bot.Pending) error {
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("redis verify %s: %w", p.User, err)
	}
	f := pendingField(p.Platform, p.Space, p.User)
	pipe := s.c.Pipeline()
	pipe.HSet(ctx, s.pendingKey(), f, b)
	pipe.ZAdd(ctx, s.dueKey(p.Platform), goredis.Z{Score: float64(p.Deadline.UnixMilli()), Member: f})
	if _, err = pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis verify %s: %w", p.User, err)
	}
	return nil
}

// IsPending reports whether the member has a pending verification.
func (s *Store) IsPending(ctx context.Context, platform, space, user string) (bool, error) {
	pipe := s.c.Pipeline()
	has := pipe.HExists(ctx, s.pendingKey(), pendingField(platform, space, user))
	if _, err := pipe.Exec(ctx); err != nil {
		return false, fmt.Errorf("redis verify %s: %w", user, err)
	}
	return has.Val(), nil
}

// takePending reads and removes a pending verification in one step, so that
// of a press and a deadline that race only one gets it.
var takePending = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return v`)

// TakePending removes and returns the member's pending verification.
func (s *Store) TakePending(ctx context.Context, platform, space, user string) (bot.Pending, bool, error) {
	raw, err := takePending.Run(ctx, s.c, []string{s.pendingKey(), s.dueKey(platform)}, pendingField(platform, space, user)).Text()
	if err == goredis.Nil {
		return bot.Pending{}, false, nil
	}
	if err != nil {
		return bot.Pending{}, false, fmt.Errorf("redis verify %s: %w", user, err)
	}
	var p bot.Pending
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		return bot.Pending{}, false, fmt.Errorf("redis verify %s: %w", user, err)
	}
	return p, true, nil
}

// DuePending returns the verifications due at now, earliest first.
func (s *Store) DuePending(ctx context.Context, platform string, now time.Time, max int) ([]bot.Pending, error) {
	pipe := s.c.Pipeline()
	due := pipe.ZRangeByScore(ctx, s.dueKey(platform), &goredis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(max)})
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis due verifications: %w", err)
	}
	fields := due.Val()
	if len(fields) == 0 {
		return nil, nil
	}
	pipe = s.c.Pipeline()
	get := pipe.HMGet(ctx, s.pendingKey(), fields...)
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis due verifications: %w", err)
	}
	out := make([]bot.Pending, 0, len(fields))
	for _, raw := range get.Val() {
		var p bot.Pending
		if str, ok := raw.(string); ok && json.Unmarshal([]byte(str), &p) == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// The Fallback keeps verifications in Redis alone: a member held by one
// instance must be released by whichever sees the press.

// PutPending writes to Redis.
func (f *Fallback) PutPending(ctx context.Context, p bot.Pending) error {
	return f.primary.PutPending(ctx, p)
}

// IsPending reads Redis.
func (f *Fallback) IsPending(ctx context.Context, platform, space, user string) (bool, error) {
	return f.primary.IsPending(ctx, platform, space, user)
}

// TakePending takes from Redis.
func (f *Fallback) TakePending(ctx context.Context, platform, space, user string) (bot.Pending, bool, error) {
	return f.primary.TakePending(ctx, platform, space, user)
}

// DuePending reads Redis.
func (f *Fallback) DuePending(ctx context.Context, platform string, now time.Time, max int) ([]bot.Pending, error) {
	return f.primary.DuePending(ctx, platform, now, max)
}
