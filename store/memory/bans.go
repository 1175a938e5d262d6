package memory

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.BanKeeper = (*Store)(nil)

// banBook holds the timed bans, by key.
type banBook struct {
	mu   sync.Mutex
	bans map[string]store.TimedBan
}

// PutBan records a timed ban, replacing the one kept under its key.
func (s *Store) PutBan(_ context.Context, b store.TimedBan) (store.TimedBan, bool, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.bans == nil {
		k.bans = make(map[string]store.TimedBan)
	}
	prev, had := k.bans[b.Key()]
	k.bans[b.Key()] = b
	return prev, had, nil
}

// DueBans returns the bans due by now, oldest Until first.
func (s *Store) DueBans(_ context.Context, now time.Time, limit int) ([]store.TimedBan, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []store.TimedBan
	for _, b := range k.bans {
		if b.Due() && !b.Until.After(now) {
			out = append(out, b)
		}
	}
	slices.SortFunc(out, func(a, b store.TimedBan) int {
		return cmp.Or(a.Until.Compare(b.Until), cmp.Compare(a.Key(), b.Key()))
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// KeptBan returns the ban kept under key.
func (s *Store) KeptBan(_ context.Context, key string) (store.TimedBan, bool, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	b, ok := k.bans[key]
	return b, ok, nil
}

// RemoveBan forgets a ban, if it was not replaced when until is set.
func (s *Store) RemoveBan(_ context.Context, key string, until time.Time) (bool, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	cur, ok := k.bans[key]
	if !ok || (!until.IsZero() && !cur.Until.Equal(until)) {
		return false, nil
	}
	delete(k.bans, key)
	return true, nil
}

// RemoveKeptBan forgets b if it is still the ban kept under its key.
func (s *Store) RemoveKeptBan(_ context.Context, b store.TimedBan) (bool, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	cur, ok := k.bans[b.Key()]
	if !ok || !store.SameBan(cur, b) {
		return false, nil
	}
	delete(k.bans, b.Key())
	return true, nil
}

// DropBans forgets the bans for good kept longer than store.ForGoodKept.
func (s *Store) DropBans(_ context.Context, now time.Time, limit int) (int, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	n := 0
	for key, b := range k.bans {
		if limit > 0 && n == limit {
			break
		}
		if at, ok := b.DropAt(); ok && !at.After(now) {
			delete(k.bans, key)
			n++
		}
	}
	return n, nil
}

var _ store.MemberLocker = (*Store)(nil)

// LockMember takes the member's lock: with a memory store there is one
// process, and the lock is its own.
func (s *Store) LockMember(ctx context.Context, key string, wait time.Duration) (func(), error) {
	return s.members.Lock(ctx, key, wait)
}

var _ store.BanLister = (*Store)(nil)

// BansOn returns the bans of platform's members in the order of their keys,
// from the key after cursor (the last key returned): a ban given or
// forgotten meanwhile does not move the others.
func (s *Store) BansOn(_ context.Context, platform, cursor string, limit int) ([]store.TimedBan, string, error) {
	k := &s.bans
	k.mu.Lock()
	defer k.mu.Unlock()
	prefix := platform + "|"
	var keys []string
	for key := range k.bans {
		if strings.HasPrefix(key, prefix) && key > cursor {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	next := ""
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
		next = keys[len(keys)-1]
	}
	out := make([]store.TimedBan, 0, len(keys))
	for _, key := range keys {
		out = append(out, k.bans[key])
	}
	return out, next, nil
}
