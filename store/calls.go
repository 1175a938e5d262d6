package store

import (
	"context"
	"slices"
	"sync"
	"time"
)

// CallRecord is what is known of an action not to be done twice, such as
// an answer given to a comment or a message: when it was carried out, or
// when its call went unanswered (Meta may have carried it out: the next try
// looks before doing it again).
type CallRecord struct {
	At time.Time `json:"at"`
	// Done: carried out; else its outcome is unknown.
	Done bool `json:"done,omitempty"`
	// By names what claimed it (an event's key), when it matters that the
	// same claimer asking again be given it (ClaimCall); "" otherwise.
	By string `json:"by,omitempty"`
}

// CallKeeper is offered by a store that keeps the answers already given,
// so that another process on the store, or this one after a restart, does
// not give them again.
type CallKeeper interface {
	// Call returns what is kept of the action key, and whether anything is.
	Call(ctx context.Context, key string) (CallRecord, bool, error)
	// KeepCall keeps r for the action key for ttl from r.At, in place of
	// what was kept.
	KeepCall(ctx context.Context, key string, r CallRecord, ttl time.Duration) error
	// ClaimCall keeps r for the action key for ttl, as KeepCall, unless a
	// record is kept whose At is less than ttl from r.At (before it, or
	// after it: the processes' clocks differ a little): that one is
	// returned, false. Of the processes claiming one key at once, one gets
	// true. A claim that finds the very record it would keep (a store
	// asked again, its answer lost) is given, and so is one whose By is
	// that of the record kept (the same event judged again).
	ClaimCall(ctx context.Context, key string, r CallRecord, ttl time.Duration) (CallRecord, bool, error)
}

// MessageCallKeep is how long what was done to a message once for all (an
// answer, a warning, a strike) is remembered, so that an edit of it, judged
// again, does not get it again: as long as Meta's private replies may be
// given, 7 days.
const MessageCallKeep = 7 * 24 * time.Hour

// MaxCalls bounds the actions a CallBook keeps: past it, the oldest go.
const MaxCalls = 50_000

// CallBook is a CallKeeper in the process's memory. Its zero value is ready.
// It keeps the troubles told to the desk as well (ToldKeeper), apart.
type CallBook struct {
	mu    sync.Mutex
	calls map[string]keptCall
	told  ToldBook
}

type keptCall struct {
	r     CallRecord
	until time.Time
}

var (
	_ CallKeeper = (*CallBook)(nil)
	_ ToldKeeper = (*CallBook)(nil)
)

// ClaimTold is ToldKeeper's.
func (b *CallBook) ClaimTold(ctx context.Context, what, state string, r CallRecord, ttl time.Duration) (bool, error) {
	return b.told.ClaimTold(ctx, what, state, r, ttl)
}

// Call is CallKeeper's.
func (b *CallBook) Call(_ context.Context, key string) (CallRecord, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k, ok := b.calls[key]
	return k.r, ok, nil
}

// KeepCall is CallKeeper's. The book sweeps by the records' own clock: one
// kept at At is forgotten once a record is kept ttl after it.
func (b *CallBook) KeepCall(_ context.Context, key string, r CallRecord, ttl time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.keep(key, r, ttl)
	return nil
}

// keep keeps r for key; mu is held.
func (b *CallBook) keep(key string, r CallRecord, ttl time.Duration) {
	if b.calls == nil {
		b.calls = map[string]keptCall{}
	}
	if _, known := b.calls[key]; !known && len(b.calls) >= MaxCalls {
		b.forgetOldest(r.At)
	}
	b.calls[key] = keptCall{r: r, until: r.At.Add(ttl)}
}

// ClaimCall is CallKeeper's.
func (b *CallBook) ClaimCall(_ context.Context, key string, r CallRecord, ttl time.Duration) (CallRecord, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k, ok := b.calls[key]; ok && r.At.Sub(k.r.At).Abs() < ttl && !(r.By != "" && k.r.By == r.By) {
		return k.r, false, nil
	}
	b.keep(key, r, ttl)
	return r, true, nil
}

// forgetOldest makes room: those past their time go, then the oldest until
// a tenth is free, so that this is not done for each record once full.
func (b *CallBook) forgetOldest(now time.Time) {
	type aged struct {
		key string
		at  time.Time
	}
	left := make([]aged, 0, len(b.calls))
	for k, c := range b.calls {
		if !now.Before(c.until) {
			delete(b.calls, k)
			continue
		}
		left = append(left, aged{k, c.r.At})
	}
	extra := len(left) - MaxCalls*9/10
	if extra <= 0 {
		return
	}
	slices.SortFunc(left, func(a, b aged) int { return a.at.Compare(b.at) })
	for _, a := range left[:extra] {
		delete(b.calls, a.key)
	}
}
