package redis

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Accounts = (*Store)(nil)

// The console's accounts are one hash, name → account JSON; the session key
// is one string beside it, set once with NX so that every instance signs with
// the same.
func (s *Store) accountsKey() string   { return s.cfg.prefix + ":{accounts}" }
func (s *Store) sessionKeyKey() string { return s.cfg.prefix + ":{accounts}:session-key" }

// A revoked session is a key of its own, which Redis forgets when the
// session's cookie would have expired.
func (s *Store) revokedKey(id string) string { return s.cfg.prefix + ":{accounts}:revoked:" + id }

// PutAccount creates or replaces an account.
func (s *Store) PutAccount(ctx context.Context, a store.Account) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	p := s.c.Pipeline()
	p.HSet(ctx, s.accountsKey(), a.Name, b)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis account %s: %w", a.Name, err)
	}
	return nil
}

// Account returns an account by name, or store.ErrNotFound.
func (s *Store) Account(ctx context.Context, name string) (store.Account, error) {
	p := s.c.Pipeline()
	get := p.HGet(ctx, s.accountsKey(), name)
	_, err := p.Exec(ctx)
	switch {
	case errors.Is(err, goredis.Nil):
		return store.Account{}, fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	case err != nil:
		return store.Account{}, fmt.Errorf("redis account %s: %w", name, err)
	}
	var a store.Account
	if err := json.Unmarshal([]byte(get.Val()), &a); err != nil {
		return store.Account{}, fmt.Errorf("redis account %s: %w", name, err)
	}
	return a, nil
}

// AccountList returns every account, by name.
func (s *Store) AccountList(ctx context.Context) ([]store.Account, error) {
	h, err := s.c.HGetAll(ctx, s.accountsKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis accounts: %w", err)
	}
	out := make([]store.Account, 0, len(h))
	for name, v := range h {
		var a store.Account
		if err := json.Unmarshal([]byte(v), &a); err != nil {
			return nil, fmt.Errorf("redis account %s: %w", name, err)
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(x, y store.Account) int { return cmp.Compare(x.Name, y.Name) })
	return out, nil
}

// DeleteAccount removes an account.
func (s *Store) DeleteAccount(ctx context.Context, name string) error {
	p := s.c.Pipeline()
	del := p.HDel(ctx, s.accountsKey(), name)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis account %s: %w", name, err)
	}
	if del.Val() == 0 {
		return fmt.Errorf("account %q: %w", name, store.ErrNotFound)
	}
	return nil
}

// SessionKey returns the shared session key, made by whoever asks first.
func (s *Store) SessionKey(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 32)
	rand.Read(fresh)
	p := s.c.Pipeline()
	p.SetNX(ctx, s.sessionKeyKey(), fresh, 0)
	get := p.Get(ctx, s.sessionKeyKey())
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redis session key: %w", err)
	}
	return []byte(get.Val()), nil
}

// RevokeSession ends a session of the console, for every instance, until ttl
// has passed.
func (s *Store) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	if ttl <= 0 {
		return nil
	}
	p := s.c.Pipeline()
	p.Set(ctx, s.revokedKey(id), 1, max(ttl, time.Millisecond))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis revoke session: %w", err)
	}
	return nil
}

// SessionRevoked reports whether a session was revoked.
func (s *Store) SessionRevoked(ctx context.Context, id string) (bool, error) {
	p := s.c.Pipeline()
	n := p.Exists(ctx, s.revokedKey(id))
	if _, err := p.Exec(ctx); err != nil {
		return false, fmt.Errorf("redis revoked session: %w", err)
	}
	return n.Val() > 0, nil
}

// The accounts are not in the store's fast path: a Fallback asks Redis for
// them, and says so when Redis is away.
var _ store.Accounts = (*Fallback)(nil)

func (f *Fallback) PutAccount(ctx context.Context, a store.Account) error {
	return f.primary.PutAccount(ctx, a)
}

func (f *Fallback) Account(ctx context.Context, name string) (store.Account, error) {
	return f.primary.Account(ctx, name)
}

func (f *Fallback) AccountList(ctx context.Context) ([]store.Account, error) {
	return f.primary.AccountList(ctx)
}

func (f *Fallback) DeleteAccount(ctx context.Context, name string) error {
	return f.primary.DeleteAccount(ctx, name)
}

func (f *Fallback) SessionKey(ctx context.Context) ([]byte, error) { return f.primary.SessionKey(ctx) }

func (f *Fallback) RevokeSession(ctx context.Context, id string, ttl time.Duration) error {
	return f.primary.RevokeSession(ctx, id, ttl)
}

func (f *Fallback) SessionRevoked(ctx context.Context, id string) (bool, error) {
	return f.primary.SessionRevoked(ctx, id)
}
