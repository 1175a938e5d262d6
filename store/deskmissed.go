package store

import (
	"context"
	"sync"
)

// DeskMissedKeeper is offered by a store that keeps, for each desk, the
// cases it was passed over for while it did not answer, that the other
// desks showed: shared by the instances on the store and kept over a
// restart, so that the desk, once it answers, is shown them once across the
// instances, whichever passed it over.
type DeskMissedKeeper interface {
	// AddDeskMissed adds the case id to those desk missed (one added twice
	// is kept once, in its first place), and says how many desk has missed.
	AddDeskMissed(ctx context.Context, desk, id string) (int, error)
	// TakeDeskMissed empties the cases desk missed and returns them, in the
	// order they were added, in one step of the store: of the instances
	// that take them at once, one gets them.
	TakeDeskMissed(ctx context.Context, desk string) ([]string, error)
}

// MaxDeskMissed bounds the cases kept for one desk: past it, the newest
// are not kept (counted by the desk's line, not shown: /queue lists them).
const MaxDeskMissed = 10_000

// DeskMissedBook is a DeskMissedKeeper in the process's memory. Its zero
// value is ready.
type DeskMissedBook struct {
	mu     sync.Mutex
	missed map[string]*missedList
}

type missedList struct {
	ids  []string
	seen map[string]bool
}

var _ DeskMissedKeeper = (*DeskMissedBook)(nil)

// AddDeskMissed is DeskMissedKeeper's.
func (b *DeskMissedBook) AddDeskMissed(_ context.Context, desk, id string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.missed[desk]
	if l == nil {
		if b.missed == nil {
			b.missed = map[string]*missedList{}
		}
		l = &missedList{seen: map[string]bool{}}
		b.missed[desk] = l
	}
	if len(l.ids) < MaxDeskMissed && !l.seen[id] {
		l.seen[id] = true
		l.ids = append(l.ids, id)
	}
	return len(l.ids), nil
}

// TakeDeskMissed is DeskMissedKeeper's.
func (b *DeskMissedBook) TakeDeskMissed(_ context.Context, desk string) ([]string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.missed[desk]
	delete(b.missed, desk)
	if l == nil {
		return nil, nil
	}
	return l.ids, nil
}
