package memory

import (
	"cmp"
	"context"
	"crypto/rand"
	"slices"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Accounts = (*Store)(nil)

// accountBook is the console's accounts of one process.
type accountBook struct {
	mu       sync.Mutex
	accounts map[string]store.Account
	key      []byte
	// revoked are the sessions logged out, to when they would have expired.
	revoked map[string]time.Time
	// logins are the console's failed logins and known clients.
	logins loginBook
}

// PutAccount creates or replaces an account.
func (s *Store) PutAccount(_ context.Context, a store.Account) error {
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.accounts == nil {
		b.accounts = map[string]store.Account{}
	}
	b.accounts[a.Name] = a
	return nil
}

// Account returns an account by name, or store.ErrNotFound.
func (s *Store) Account(_ context.Context, name string) (store.Account, error) {
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	a, ok := b.accounts[name]
	if !ok {
		return store.Account{}, store.ErrNotFound
	}
	return a, nil
}

// AccountList returns every account, by name.
func (s *Store) AccountList(context.Context) ([]store.Account, error) {
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]store.Account, 0, len(b.accounts))
	for _, a := range b.accounts {
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y store.Account) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// DeleteAccount removes an account.
func (s *Store) DeleteAccount(_ context.Context, name string) error {
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.accounts[name]; !ok {
		return store.ErrNotFound
	}
	delete(b.accounts, name)
	return nil
}

// SessionKey returns the process's session key, made on first use.
func (s *Store) SessionKey(context.Context) ([]byte, error) {
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.key == nil {
		b.key = make([]byte, 32)
		rand.Read(b.key)
	}
	return b.key, nil
}

// RevokeSession ends a session of the console until ttl has passed on the
// store's clock (WithClock), as the console's own expiry is read.
func (s *Store) RevokeSession(_ context.Context, id string, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	now := s.cfg.clock()
	if b.revoked == nil {
		b.revoked = map[string]time.Time{}
	}
	// Sessions past their time are refused by their cookie's expiry: forgotten
	// here, so that the map holds only the last 12 hours' logouts.
	for k, until := range b.revoked {
		if !now.Before(until) {
			delete(b.revoked, k)
		}
	}
	b.revoked[id] = now.Add(ttl)
	return nil
}

// SessionRevoked reports whether a session was revoked.
func (s *Store) SessionRevoked(_ context.Context, id string) (bool, error) {
	b := &s.book
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.revoked[id]
	return ok && s.cfg.clock().Before(until), nil
}
