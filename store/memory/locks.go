package memory

import (
	"context"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.LockKeeper = (*Store)(nil)

// lockBook holds the locks on places, by key.
type lockBook struct {
	mu    sync.Mutex
	locks map[string]store.PlaceLock
}

// PutLock records a lock, or extends the one kept under its key.
func (s *Store) PutLock(_ context.Context, l store.PlaceLock) (store.PlaceLock, bool, error) {
	b := &s.locks
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.locks == nil {
		b.locks = make(map[string]store.PlaceLock)
	}
	k := l.Key()
	cur, ok := b.locks[k]
	if !ok {
		b.locks[k] = l
		return l, true, nil
	}
	if l.Until.After(cur.Until) {
		cur.Until = l.Until
	}
	if cur.Prev == "" {
		cur.Prev = l.Prev
	}
	b.locks[k] = cur
	return cur, false, nil
}

// DueLocks returns the locks due by now.
func (s *Store) DueLocks(_ context.Context, now time.Time) ([]store.PlaceLock, error) {
	b := &s.locks
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []store.PlaceLock
	for _, l := range b.locks {
		if !l.Until.After(now) {
			out = append(out, l)
		}
	}
	return out, nil
}

// RemoveLock forgets a lock that was not extended.
func (s *Store) RemoveLock(_ context.Context, key string, until time.Time) (bool, error) {
	b := &s.locks
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.locks[key]
	if !ok || !cur.Until.Equal(until) {
		return false, nil
	}
	delete(b.locks, key)
	return true, nil
}
