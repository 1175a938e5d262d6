package redis

import (
	"context"
	"fmt"
	"strconv"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Reloads = (*Store)(nil)
var _ store.Reloads = (*Fallback)(nil)

// askReloadScript: KEYS the reloads' hash; ARGV "1" when confined. Returns
// the reloads asked, this one included.
var askReloadScript = goredis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'confined', ARGV[1])
return n
`)

// reloadsKey is the hash of the reloads asked: n, and confined ("1" or "0")
// for the last one.
func (s *Store) reloadsKey() string { return s.cfg.prefix + ":{rules}:reloads" }

// AskReload counts one more reload asked, for every process to reload.
func (s *Store) AskReload(ctx context.Context, confined bool) (int64, error) {
	c := "0"
	if confined {
		c = "1"
	}
	n, err := s.script(ctx, askReloadScript, []string{s.reloadsKey()}, c).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis ask reload: %w", err)
	}
	return n, nil
}

// ReloadsAsked reads the reloads asked so far.
func (s *Store) ReloadsAsked(ctx context.Context) (int64, bool, error) {
	v, err := s.c.HGetAll(ctx, s.reloadsKey()).Result()
	if err != nil {
		return 0, false, fmt.Errorf("redis reloads asked: %w", err)
	}
	var n int64
	if str, ok := v["n"]; ok {
		if n, err = strconv.ParseInt(str, 10, 64); err != nil {
			return 0, false, fmt.Errorf("redis reloads asked: %q: %w", str, err)
		}
	}
	confined := v["confined"]
	return n, confined == "1", nil
}

// AskReload asks Redis; while Redis is away nobody else would hear it.
func (f *Fallback) AskReload(ctx context.Context, confined bool) (int64, error) {
	if f.degraded.Load() {
		return 0, fmt.Errorf("redis ask reload: %w", ErrUnavailable)
	}
	n, err := f.primary.AskReload(ctx, confined)
	f.outage(ctx, err)
	return n, err
}

// ReloadsAsked asks Redis.
func (f *Fallback) ReloadsAsked(ctx context.Context) (int64, bool, error) {
	if f.degraded.Load() {
		return 0, false, fmt.Errorf("redis reloads asked: %w", ErrUnavailable)
	}
	n, c, err := f.primary.ReloadsAsked(ctx)
	f.outage(ctx, err)
	return n, c, err
}
