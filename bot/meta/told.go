package meta

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// The store's records of the changes told to the desk (Config.Answers),
// under toldPrefix, what changed and its new state: the instances on one
// store find a change each, and the one that claims its record first tells
// it. The same change found by another within toldKeep is not told again.
const (
	toldPrefix = "told "
	toldKeep   = time.Hour
)

// firstToTell reports whether this instance is the one, of those on the
// store, to tell the desk that what (the Page's subscription, the page
// token) went to state, from other, found at now. It claims the change's
// record in one step of the store (store.CallKeeper.ClaimCall): of the
// instances finding it at the same moment, one is given it. Given it, it
// forgets the record of other, so that the next change back is told again,
// however soon. Without a store, or when it does not answer, it is the one:
// a change told twice is better than one untold.
func (c *Connector) firstToTell(what, state, other string, now time.Time) bool {
	if c.cfg.Answers == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), answersWait)
	defer cancel()
	key := toldPrefix + what + " "
	_, first, err := c.cfg.Answers.ClaimCall(ctx, key+state, store.CallRecord{At: now, By: c.graph.id}, toldKeep)
	if err != nil {
		c.log.Warn("the store not asked whether another instance told the desk: told by this one", "change", what+" "+state, "err", err)
		return true
	}
	if !first {
		return false
	}
	// A record older than toldKeep claims nothing; kept a millisecond, it
	// is gone from Redis at once.
	if err := c.cfg.Answers.KeepCall(ctx, key+other, store.CallRecord{At: now.Add(-2 * toldKeep)}, time.Millisecond); err != nil {
		c.log.Warn("the store's record of the desk told of "+what+" "+other+" not forgotten: the next such change may go untold by the others' checks",
			"err", err)
	}
	return true
}
