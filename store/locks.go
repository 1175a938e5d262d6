package store

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// PlaceLock is a place closed by vigie for a while (a lockdown, a slow mode
// in a raid): what to undo, and when. It is kept in the store so that the
// process that lifts it may be another one, or this one after a restart.
type PlaceLock struct {
	// Kind is the action that set it: lockdown or slowmode.
	Kind bot.ActionKind `json:"kind"`
	// Event is the event that set it: where the lock is (its platform, space
	// and channel), for the platform's undo.
	Event bot.Event `json:"event"`
	// Prev is the place's settings before, in the platform's words.
	Prev string `json:"prev,omitempty"`
	// Rule is the rule that asked for it.
	Rule    string    `json:"rule,omitempty"`
	Started time.Time `json:"started"`
	// Until is when it is lifted. The store keeps it apart from the rest, so
	// that extending a lock leaves Prev as the first lock found it.
	Until time.Time `json:"-"`
}

// Key names the lock: one lockdown per space, one slow mode per channel.
func (l PlaceLock) Key() string {
	k := string(l.Kind) + "|" + l.Event.Platform + "|" + l.Event.Space
	if l.Kind == bot.ActSlowmode {
		k += "|" + l.Event.Channel
	}
	return k
}

// LockKeeper is offered by a store that keeps the locks on places; the
// handlers check for it by type assertion, and without it cannot lock.
type LockKeeper interface {
	// PutLock records l, or, when a lock of the same key is kept, moves its
	// Until to l.Until if that is later and keeps the rest. It returns the
	// lock kept and whether it is l, new. A kept lock whose Prev is empty
	// takes l's: a process claims the place before it asks the platform, and
	// writes what the platform answered after.
	PutLock(ctx context.Context, l PlaceLock) (PlaceLock, bool, error)
	// DueLocks returns the locks whose Until is not after now.
	DueLocks(ctx context.Context, now time.Time) ([]PlaceLock, error)
	// RemoveLock forgets the lock of key if its Until is still until (it was
	// not extended meanwhile), and reports whether it did.
	RemoveLock(ctx context.Context, key string, until time.Time) (bool, error)
}
