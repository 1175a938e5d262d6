package memory

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.StrikeKeeper = (*Store)(nil)

// Strikes returns the author's strikes not expired at now, oldest first.
func (s *Store) Strikes(_ context.Context, platform, space, author string, now time.Time) ([]time.Time, error) {
	k := keyOf(s, authorKey{platform, space, author})
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	var out []time.Time
	for _, x := range sh.strikes[k].list {
		if x.exp > now.UnixNano() {
			out = append(out, time.Unix(0, x.at))
		}
	}
	return out, nil
}

// ClearStrikes lifts the author's strikes.
func (s *Store) ClearStrikes(_ context.Context, platform, space, author string) (int, error) {
	k := keyOf(s, authorKey{platform, space, author})
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	n := len(sh.strikes[k].list)
	delete(sh.strikes, k)
	return n, nil
}
