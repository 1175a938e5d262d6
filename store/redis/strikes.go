package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.StrikeKeeper = (*Store)(nil)
	_ store.StrikeKeeper = (*Fallback)(nil)
)

// strikesKey is the sorted set of an author's strikes: scored by when they
// were given, each member starting with its expiry in milliseconds.
func (s *Store) strikesKey(platform, space, author string) string {
	return s.tag(platform, space, author) + ":strikes"
}

// Strikes returns the author's strikes not expired at now, oldest first.
func (s *Store) Strikes(ctx context.Context, platform, space, author string, now time.Time) ([]time.Time, error) {
	if err := s.settle(ctx); err != nil {
		return nil, fmt.Errorf("redis strikes of %s: %w", author, err)
	}
	p := s.c.Pipeline()
	get := p.ZRangeWithScores(ctx, s.strikesKey(platform, space, author), 0, -1)
	if _, err := p.Exec(ctx); err != nil && err != goredis.Nil {
		return nil, fmt.Errorf("redis strikes of %s: %w", author, err)
	}
	var out []time.Time
	for _, z := range get.Val() {
		m, _ := z.Member.(string)
		exp, err := strconv.ParseInt(m[:max(strings.IndexByte(m, ':'), 0)], 10, 64)
		if err == nil && exp > now.UnixMilli() {
			out = append(out, time.UnixMilli(int64(z.Score)))
		}
	}
	return out, nil
}

// ClearStrikes lifts the author's strikes.
func (s *Store) ClearStrikes(ctx context.Context, platform, space, author string) (int, error) {
	if err := s.settle(ctx); err != nil {
		return 0, fmt.Errorf("redis clear strikes of %s: %w", author, err)
	}
	key := s.strikesKey(platform, space, author)
	p := s.c.Pipeline()
	n := p.ZCard(ctx, key)
	p.Del(ctx, key)
	if _, err := p.Exec(ctx); err != nil {
		return 0, fmt.Errorf("redis clear strikes of %s: %w", author, err)
	}
	return int(n.Val()), nil
}

// Strikes asks Redis; the strikes given while it was away are not there yet.
func (f *Fallback) Strikes(ctx context.Context, platform, space, author string, now time.Time) ([]time.Time, error) {
	return f.primary.Strikes(ctx, platform, space, author, now)
}

// ClearStrikes lifts the strikes in Redis and those kept here meanwhile.
func (f *Fallback) ClearStrikes(ctx context.Context, platform, space, author string) (int, error) {
	n, err := f.primary.ClearStrikes(ctx, platform, space, author)
	m, _ := f.local.ClearStrikes(ctx, platform, space, author)
	return n + m, err
}
