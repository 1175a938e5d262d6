package store

import (
	"context"
	"sync"
	"time"
)

// ToldKeeper is offered by a store that keeps, for each trouble the desk is
// told of (a permission refused, the page token, the Page's subscription),
// the state it was last told in: of the instances on the store finding one
// change, one tells it, and a change back is told again, however soon.
type ToldKeeper interface {
	// ClaimTold claims the telling that what went to state, at r.At by
	// r.By, in one step of the store: it reports false when what's record
	// holds state already, claimed less than ttl from r.At (before or
	// after) by another claimer (an r.By of its own, or none). Given, the
	// record holds state for ttl, in place of the previous state: there is
	// no moment when both are kept, or neither, for a stop or a cut to
	// leave behind. A claimer asking again for the state it holds (its
	// answer lost) is given it again.
	ClaimTold(ctx context.Context, what, state string, r CallRecord, ttl time.Duration) (bool, error)
}

// maxTold bounds the troubles a ToldBook keeps: past it, those past their
// time go, then all (a change told twice rather than memory without end).
const maxTold = 10_000

// ToldBook is a ToldKeeper in the process's memory. Its zero value is ready.
type ToldBook struct {
	mu   sync.Mutex
	told map[string]toldState
}

type toldState struct {
	state string
	r     CallRecord
	until time.Time
}

var _ ToldKeeper = (*ToldBook)(nil)

// ClaimTold is ToldKeeper's.
func (b *ToldBook) ClaimTold(_ context.Context, what, state string, r CallRecord, ttl time.Duration) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if k, ok := b.told[what]; ok && k.state == state && r.At.Sub(k.r.At).Abs() < ttl && (r.By == "" || k.r.By != r.By) {
		return false, nil
	}
	if b.told == nil {
		b.told = map[string]toldState{}
	}
	if _, known := b.told[what]; !known && len(b.told) >= maxTold {
		for k, s := range b.told {
			if !r.At.Before(s.until) {
				delete(b.told, k)
			}
		}
		if len(b.told) >= maxTold {
			clear(b.told)
		}
	}
	b.told[what] = toldState{state: state, r: r, until: r.At.Add(ttl)}
	return true, nil
}
