package memory

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

var _ store.LoginLimits = (*Store)(nil)

// loginBook is the console's failed logins and known clients of one process.
type loginBook struct {
	mu sync.Mutex
	// failures are each key's failures, oldest first.
	failures map[string][]kept
	// known is the last login of each pair.
	known map[string]kept
	// tries numbers the failures LoginTry counts.
	tries uint64
}

// kept is a time and until when it is kept (on the clock of whoever
// recorded it); a failure LoginTry counted has an id, for LoginUncount.
type kept struct {
	at, until time.Time
	id        string
}

// forgetAbove is how many keys a map of the book holds before those past
// their time are dropped.
const forgetAbove = 10_000

// LoginFailures returns the failures of each key at or after since, and the
// last login of pair.
func (s *Store) LoginFailures(_ context.Context, keys []string, since time.Time, pair string) ([][]time.Time, time.Time, error) {
	b := &s.book.logins
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([][]time.Time, len(keys))
	for i, k := range keys {
		for _, f := range b.failures[k] {
			if !f.at.Before(since) {
				out[i] = append(out[i], f.at)
			}
		}
	}
	return out, b.known[pair].at, nil
}

// LoginFailed records a failure against each key.
func (s *Store) LoginFailed(_ context.Context, keys []string, at time.Time, keep time.Duration) error {
	b := &s.book.logins
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail(keys, at, keep, "")
	return nil
}

// LoginTry counts a failure against the key of each limit, unless one has
// its Max failures after since already.
func (s *Store) LoginTry(_ context.Context, limits []store.LoginLimit, since, at time.Time, keep time.Duration) (string, bool, error) {
	b := &s.book.logins
	b.mu.Lock()
	defer b.mu.Unlock()
	keys := make([]string, len(limits))
	for i, l := range limits {
		n := 0
		for _, f := range b.failures[l.Key] {
			if f.at.After(since) {
				n++
			}
		}
		if n >= l.Max {
			return "", false, nil
		}
		keys[i] = l.Key
	}
	b.tries++
	id := strconv.FormatUint(b.tries, 10)
	b.fail(keys, at, keep, id)
	return id, true, nil
}

// LoginUncount takes back the failure id LoginTry counted against keys.
func (s *Store) LoginUncount(_ context.Context, keys []string, id string) error {
	b := &s.book.logins
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, k := range keys {
		fs := slices.DeleteFunc(b.failures[k], func(f kept) bool { return f.id == id })
		if len(fs) == 0 {
			delete(b.failures, k)
			continue
		}
		b.failures[k] = fs
	}
	return nil
}

// fail records a failure against each key; b.mu is held.
func (b *loginBook) fail(keys []string, at time.Time, keep time.Duration, id string) {
	if b.failures == nil {
		b.failures = map[string][]kept{}
	}
	if len(b.failures) > forgetAbove {
		for k, fs := range b.failures {
			if !at.Before(fs[len(fs)-1].until) {
				delete(b.failures, k)
			}
		}
	}
	for _, k := range keys {
		fs := slices.DeleteFunc(b.failures[k], func(f kept) bool { return !at.Before(f.until) })
		fs = append(fs, kept{at: at, until: at.Add(keep), id: id})
		slices.SortStableFunc(fs, func(x, y kept) int { return x.at.Compare(y.at) })
		if len(fs) > store.LoginFailuresKept {
			fs = fs[len(fs)-store.LoginFailuresKept:]
		}
		b.failures[k] = fs
	}
}

// LoginSucceeded records the last login of pair.
func (s *Store) LoginSucceeded(_ context.Context, pair string, at time.Time, keep time.Duration) error {
	b := &s.book.logins
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.known == nil {
		b.known = map[string]kept{}
	}
	if len(b.known) > forgetAbove {
		for k, v := range b.known {
			if !at.Before(v.until) {
				delete(b.known, k)
			}
		}
	}
	b.known[pair] = kept{at: at, until: at.Add(keep)}
	return nil
}
