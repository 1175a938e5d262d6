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

// askReloadScript: KEYS the reloads' hash; ARGV "1" when confined, the
// digest. Returns the reloads asked, this one included.
var askReloadScript = goredis.NewScript(`
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'confined', ARGV[1], 'digest', ARGV[2])
return n
`)

// reloadsKey is the hash of the reloads asked: n, and confined ("1" or "0")
// and digest for the last one.
func (s *Store) reloadsKey() string { return s.cfg.prefix + ":{rules}:reloads" }

// AskReload counts one more reload asked, for every process to reload.
func (s *Store) AskReload(ctx context.Context, a store.ReloadAsk) (int64, error) {
	c := "0"
	if a.Confined {
		c = "1"
	}
	n, err := s.script(ctx, askReloadScript, []string{s.reloadsKey()}, c, a.Digest).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis ask reload: %w", err)
	}
	return n, nil
}

// ReloadsAsked reads the reloads asked so far.
func (s *Store) ReloadsAsked(ctx context.Context) (store.ReloadAsk, error) {
	v, err := s.c.HGetAll(ctx, s.reloadsKey()).Result()
	if err != nil {
		return store.ReloadAsk{}, fmt.Errorf("redis reloads asked: %w", err)
	}
	a := store.ReloadAsk{Confined: v["confined"] == "1", Digest: v["digest"]}
	if str, ok := v["n"]; ok {
		if a.N, err = strconv.ParseInt(str, 10, 64); err != nil {
			return store.ReloadAsk{}, fmt.Errorf("redis reloads asked: %q: %w", str, err)
		}
	}
	return a, nil
}

// AskReload asks Redis; while Redis is away nobody else would hear it.
func (f *Fallback) AskReload(ctx context.Context, a store.ReloadAsk) (int64, error) {
	if f.degraded.Load() {
		return 0, fmt.Errorf("redis ask reload: %w", ErrUnavailable)
	}
	n, err := f.primary.AskReload(ctx, a)
	f.outage(ctx, err)
	return n, err
}

// ReloadsAsked asks Redis.
func (f *Fallback) ReloadsAsked(ctx context.Context) (store.ReloadAsk, error) {
	if f.degraded.Load() {
		return store.ReloadAsk{}, fmt.Errorf("redis reloads asked: %w", ErrUnavailable)
	}
	a, err := f.primary.ReloadsAsked(ctx)
	f.outage(ctx, err)
	return a, err
}
