// Package told has the instances of vigie on one store tell the desk each
// change of a trouble once (a permission refused and granted again, the
// page token refused and taken, the Page's subscription lost and back),
// rather than once by each instance that finds it.
package told

import (
	"context"
	"log/slog"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// Keep is how long a change told is claimed: the same change found by
// another instance within it is not told again. A change back is told at
// once, however soon.
const Keep = time.Hour

// wait bounds the store's answer to a claim.
const wait = 5 * time.Second

// Desk decides, for one instance, which changes it tells.
type Desk struct {
	// Store keeps the state each trouble was last told in; nil, or a store
	// that keeps none, makes this instance the one to tell each change.
	Store store.ToldKeeper
	// By names this instance in its claims, so that it is given a claim
	// again when the store's answer was lost.
	By  string
	Log *slog.Logger
}

// New is the Desk of the instance named by on st, when st keeps the
// troubles told (store.ToldKeeper).
func New(st any, by string, log *slog.Logger) Desk {
	tk, _ := st.(store.ToldKeeper)
	return Desk{Store: tk, By: by, Log: log}
}

// First reports whether this instance is the one, of those on the store,
// to tell the desk that what went to state, found at now. The claim is one
// step of the store (store.ToldKeeper.ClaimTold), which replaces the state
// told before: of the instances finding the change at once, one is given
// it, and the next change back is told again, a stop or a cut in between
// notwithstanding. Without a store, or when it does not answer, it is the
// one: a change told twice is better than one untold.
func (d Desk) First(what, state string, now time.Time) bool {
	if d.Store == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	first, err := d.Store.ClaimTold(ctx, what, state, store.CallRecord{At: now, By: d.By}, Keep)
	if err != nil {
		d.Log.Warn("the store not asked whether another instance told the desk: told by this one", "change", what+" "+state, "err", err)
		return true
	}
	return first
}
