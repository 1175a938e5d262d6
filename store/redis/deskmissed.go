package redis

import (
	"context"
	"fmt"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.DeskMissedKeeper = (*Store)(nil)
	_ store.DeskMissedKeeper = (*Fallback)(nil)
)

// The cases a desk missed are a sorted set under the desk's own tag, each
// case scored by its place (the set's size when added): added with NX, a
// case added twice keeps its first place. The set lasts deskMissedTTL
// after the last case added: a desk that never answers again (taken off
// the rule file) leaves nothing behind for ever.
func (s *Store) deskMissedKey(desk string) string {
	return s.cfg.prefix + ":{deskmissed:" + desk + "}"
}

// deskMissedTTL is how long the cases a desk missed wait for it to answer.
const deskMissedTTL = 14 * 24 * 60 * 60 * 1000 // ms

// addDeskMissedScript: KEYS the desk's set; ARGV case id, max, ttl ms.
// Returns the set's size.
var addDeskMissedScript = goredis.NewScript(`
local n = redis.call('ZCARD', KEYS[1])
if n < tonumber(ARGV[2]) and redis.call('ZADD', KEYS[1], 'NX', n, ARGV[1]) == 1 then
  n = n + 1
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return n
`)

// takeDeskMissedScript: KEYS the desk's set. Returns its cases, in their
// places, the set removed in the same step.
var takeDeskMissedScript = goredis.NewScript(`
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
redis.call('DEL', KEYS[1])
return ids
`)

// AddDeskMissed is store.DeskMissedKeeper's.
func (s *Store) AddDeskMissed(ctx context.Context, desk, id string) (int, error) {
	n, err := s.script(ctx, addDeskMissedScript, []string{s.deskMissedKey(desk)}, id, store.MaxDeskMissed, deskMissedTTL).Int()
	if err != nil {
		return 0, fmt.Errorf("redis add a case %s missed: %w", desk, err)
	}
	return n, nil
}

// TakeDeskMissed is store.DeskMissedKeeper's.
func (s *Store) TakeDeskMissed(ctx context.Context, desk string) ([]string, error) {
	ids, err := s.script(ctx, takeDeskMissedScript, []string{s.deskMissedKey(desk)}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis take the cases %s missed: %w", desk, err)
	}
	return ids, nil
}

// deskMissed is what inMemory says is kept in memory.
const deskMissed = "the cases a desk missed"

// AddDeskMissed writes to Redis, or the memory while it is away.
func (f *Fallback) AddDeskMissed(ctx context.Context, desk, id string) (int, error) {
	return shared(ctx, f, deskMissed,
		func(ctx context.Context) (int, error) { return f.primary.AddDeskMissed(ctx, desk, id) },
		func(ctx context.Context) (int, error) { return f.local.AddDeskMissed(ctx, desk, id) })
}

// TakeDeskMissed takes from Redis, or the memory while it is away; from
// Redis, it takes too what the memory kept while Redis was away, after.
func (f *Fallback) TakeDeskMissed(ctx context.Context, desk string) ([]string, error) {
	fromRedis := false
	ids, err := shared(ctx, f, deskMissed,
		func(ctx context.Context) ([]string, error) {
			ids, err := f.primary.TakeDeskMissed(ctx, desk)
			fromRedis = err == nil
			return ids, err
		},
		func(ctx context.Context) ([]string, error) { return f.local.TakeDeskMissed(ctx, desk) })
	if err != nil || !fromRedis {
		return ids, err
	}
	kept, _ := f.local.TakeDeskMissed(ctx, desk) // the memory answers always
	if len(kept) == 0 {
		return ids, nil
	}
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range kept {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}
