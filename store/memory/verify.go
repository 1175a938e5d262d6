package memory

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

var _ bot.Verifications = (*Store)(nil)

// verifyBook holds the pending verifications, by member.
type verifyBook struct {
	mu      sync.Mutex
	pending map[authorKey]bot.Pending
}

// PutPending records p.
func (s *Store) PutPending(_ context.Context, p bot.Pending) error {
	b := &s.verify
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.pending == nil {
		b.pending = make(map[authorKey]bot.Pending)
	}
	b.pending[authorKey{p.Platform, p.Space, p.User}] = p
	return nil
}

// IsPending reports whether the member has a pending verification.
func (s *Store) IsPending(_ context.Context, platform, space, user string) (bool, error) {
	b := &s.verify
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.pending[authorKey{platform, space, user}]
	return ok, nil
}

// TakePending removes and returns the member's pending verification.
func (s *Store) TakePending(_ context.Context, platform, space, user string) (bot.Pending, bool, error) {
	b := &s.verify
	b.mu.Lock()
	defer b.mu.Unlock()
	k := authorKey{platform, space, user}
	p, ok := b.pending[k]
	delete(b.pending, k)
	return p, ok, nil
}

// DuePending returns the verifications due at now, earliest first.
func (s *Store) DuePending(_ context.Context, platform string, now time.Time, max int) ([]bot.Pending, error) {
	b := &s.verify
	b.mu.Lock()
	var out []bot.Pending
	for _, p := range b.pending {
		if p.Platform == platform && !p.Deadline.After(now) {
			out = append(out, p)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(out, func(a, b bot.Pending) int { return a.Deadline.Compare(b.Deadline) })
	if len(out) > max {
		out = out[:max]
	}
	return out, nil
}
