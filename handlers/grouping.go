package handlers

import (
	"sync"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// groupingPlaces are the places (store.Case.PlaceGroup) where cases of the
// rule were opened or joined lately, as this vigie saw it, and by whom: a
// raid under way there once store.GroupAuthors authors had one within a
// store.GroupWindow. A case opened while its message's actions are still
// being tried (early.go) is grouped in such a place, as the case its
// verdict would open once they end, rather than holding them on a card of
// its own: behind a rate limit, every message of a raid is slow.
type groupingPlaces struct {
	mu     sync.Mutex
	places map[string]*placeSeen
	// swept is when the places were last swept of those not seen for a
	// GroupWindow: once a GroupWindow at most, so that more than
	// groupingKept places busy at once do not cost a sweep per case.
	swept time.Time
}

type placeSeen struct {
	start, last time.Time
	authors     []string // at most store.GroupAuthors, since start
}

// groupingKept bounds the places remembered: past it, those not seen for a
// GroupWindow are forgotten, at most once a GroupWindow (the places seen
// within two windows stay, however many).
const groupingKept = 1024

// saw says that author's case of place was opened, or a hit of theirs
// joined one, at now.
func (g *groupingPlaces) saw(place, author string, now time.Time) {
	if place == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sawLocked(place, author, now)
}

func (g *groupingPlaces) sawLocked(place, author string, now time.Time) {
	if g.places == nil {
		g.places = map[string]*placeSeen{}
	}
	if len(g.places) >= groupingKept && now.Sub(g.swept) >= store.GroupWindow {
		g.swept = now
		for k, p := range g.places {
			if now.Sub(p.last) >= store.GroupWindow {
				delete(g.places, k)
			}
		}
	}
	p := g.places[place]
	if p == nil || now.Sub(p.start) >= store.GroupWindow && len(p.authors) < store.GroupAuthors {
		p = &placeSeen{start: now}
		g.places[place] = p
	}
	p.last = now
	for _, a := range p.authors {
		if a == author {
			return
		}
	}
	if len(p.authors) < store.GroupAuthors {
		p.authors = append(p.authors, author)
	}
}

// raid reports whether store.GroupAuthors authors had a case of place
// opened or joined within a GroupWindow, the last of them within one of
// now, and then says that author's case of place is being opened (saw), at
// once: of the slow messages of a raid's start, three are the first.
func (g *groupingPlaces) raid(place, author string, now time.Time) bool {
	if place == "" {
		return false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.places[place]
	raid := p != nil && len(p.authors) >= store.GroupAuthors && now.Sub(p.last) < store.GroupWindow
	g.sawLocked(place, author, now)
	return raid
}
