package handlers

import (
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// groupingPlaces are the places (store.Case.PlaceGroup) where a case of
// the rule was opened or joined lately, as this vigie saw it, its actions
// carried out: a raid under way there, or starting. A case opened while its
// message's actions are still being tried (early.go) is grouped in such a
// place, as the case its verdict would open once they end, rather than
// holding them on a card of its own: behind a rate limit, every message of
// a raid is slow.
type groupingPlaces struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// groupingKept bounds the places remembered: past it, those not seen for a
// GroupWindow are forgotten.
const groupingKept = 1024

// saw says that a case of place was opened, or a hit joined one, at now.
func (g *groupingPlaces) saw(place string, now time.Time) {
	if place == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.seen == nil {
		g.seen = map[string]time.Time{}
	}
	if len(g.seen) >= groupingKept {
		for p, at := range g.seen {
			if now.Sub(at) >= store.GroupWindow {
				delete(g.seen, p)
			}
		}
	}
	g.seen[place] = now
}

// active reports whether a case of place was opened or joined within a
// GroupWindow of now.
func (g *groupingPlaces) active(place string, now time.Time) bool {
	if place == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	at, ok := g.seen[place]
	return ok && now.Sub(at) < store.GroupWindow
}
