package memory

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Leaser = (*Store)(nil)

// leaseBook holds the leases of one process's jobs. With a memory store
// there is one process, which gets every lease it asks for; the book still
// keeps tokens and expiries as the contract says, so that code written
// against it behaves the same on Redis.
type leaseBook struct {
	mu     sync.Mutex
	held   map[string]heldLease // by job
	tokens map[string]int64     // the last token of each job
	// released: the jobs whose last lease was given up (ReleaseLease).
	released map[string]bool
	values   map[string]int64 // job + "\x00" + name
	// ttls are the TTLs each job's lease was last taken for
	// (store.Lease.HeldFor).
	ttls map[string]time.Duration
}

// same reports whether a and b are one lease (GivenUp says how it was
// taken, not which it is).
func same(a, b store.Lease) bool {
	return a.Job == b.Job && a.Owner == b.Owner && a.Token == b.Token
}

type heldLease struct {
	lease store.Lease
	until time.Time
}

// current returns the job's lease that has not run out at now.
func (b *leaseBook) current(job string, now time.Time) (store.Lease, bool) {
	h, ok := b.held[job]
	if !ok || !now.Before(h.until) {
		return store.Lease{}, false
	}
	return h.lease, true
}

// AcquireLease takes the job's lease when nobody holds it.
func (s *Store) AcquireLease(_ context.Context, job, owner string, ttl time.Duration) (store.Lease, bool, error) {
	b := &s.leases
	now := s.cfg.leaseClock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held == nil {
		b.held, b.tokens, b.values, b.released = map[string]heldLease{}, map[string]int64{}, map[string]int64{}, map[string]bool{}
		b.ttls = map[string]time.Duration{}
	}
	was := b.ttls[job]
	if l, ok := b.current(job, now); ok {
		if l.Owner != owner {
			return store.Lease{Job: job, HeldFor: was}, false, nil
		}
		b.held[job] = heldLease{lease: l, until: now.Add(ttl)}
		b.ttls[job] = ttl
		l.HeldFor = was
		return l, true, nil
	}
	b.tokens[job]++
	l := store.Lease{Job: job, Owner: owner, Token: b.tokens[job]}
	b.held[job] = heldLease{lease: l, until: now.Add(ttl)}
	b.ttls[job] = ttl
	given := b.released[job]
	delete(b.released, job)
	l.GivenUp, l.HeldFor = given, was
	return l, true, nil
}

// RenewLease holds l for ttl more while it is the job's current lease.
func (s *Store) RenewLease(_ context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	b := &s.leases
	now := s.cfg.leaseClock()
	b.mu.Lock()
	defer b.mu.Unlock()
	cur, ok := b.current(l.Job, now)
	if !ok {
		return false, fmt.Errorf("renew lease %s: %w", l.Job, store.ErrLeaseGone)
	}
	if !same(cur, l) {
		return false, nil
	}
	b.held[l.Job] = heldLease{lease: l, until: now.Add(ttl)}
	return true, nil
}

// ReleaseLease gives l up while it is the job's current lease.
func (s *Store) ReleaseLease(_ context.Context, l store.Lease) error {
	b := &s.leases
	now := s.cfg.leaseClock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.current(l.Job, now); ok && same(cur, l) {
		delete(b.held, l.Job)
		b.released[l.Job] = true
	}
	return nil
}

// AdvanceFenced raises the job's value while l is its current lease.
func (s *Store) AdvanceFenced(_ context.Context, l store.Lease, name string, v int64) (bool, error) {
	b := &s.leases
	now := s.cfg.leaseClock()
	b.mu.Lock()
	defer b.mu.Unlock()
	if cur, ok := b.current(l.Job, now); !ok || !same(cur, l) {
		return false, nil
	}
	k := l.Job + "\x00" + name
	b.values[k] = max(b.values[k], v)
	return true, nil
}

// Fenced returns the job's value name, 0 when never set.
func (s *Store) Fenced(_ context.Context, job, name string) (int64, error) {
	b := &s.leases
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.values[job+"\x00"+name], nil
}
