package memory

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.StrikeKeeper = (*Store)(nil)

// Strikes returns the author's strikes not expired at now, oldest first.
func (s *Store) Strikes(_ context.Context, platform, space, author string, now time.Time) ([]time.Time, error) {
	k := keyOf(s, platform, space, author)
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var out []time.Time
	j := sh.strikes.find(fpOf(k), tagOf(k))
	if j < 0 {
		return out, nil
	}
	var one [1]strike
	for _, x := range sh.strikesIn(sh.strikes.at(j).v, &one) {
		if x.exp > msOf(now) {
			out = append(out, time.UnixMilli(x.at))
		}
	}
	return out, nil
}

// ClearStrikes lifts the author's strikes.
func (s *Store) ClearStrikes(_ context.Context, platform, space, author string) (int, error) {
	k := keyOf(s, platform, space, author)
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	j := sh.strikes.find(fpOf(k), tagOf(k))
	if j < 0 {
		return 0, nil
	}
	var one [1]strike
	n := len(sh.strikesIn(sh.strikes.at(j).v, &one))
	sh.dropAuthor(j)
	return n, nil
}
