package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"time"
)

// staffMisses remembers, per platform and place (a Discord guild, a Telegram
// chat), that the platform did not say in time whether an author of an event
// posted over HTTP is staff (staffFromPlatform): for a window after such a
// miss, the place's events are judged at once as not staff with roles
// unknown, as on a miss, rather than each wait staffLookupWait for an answer
// that is not coming. The window doubles with each miss in a row, from
// staffMissFirst up to staffMissMax: a platform that is down is asked again
// within a minute, a place it does not know (the event's own word) less and
// less often. An answer ends the streak. The places are the events' to name,
// so at most staffMissPlaces are kept.
type staffMisses struct {
	mu     sync.Mutex
	places map[string]*staffMiss
}

type staffMiss struct {
	until  time.Time // end of the window
	streak int       // misses in a row
}

const (
	staffMissFirst  = 30 * time.Second
	staffMissMax    = 10 * time.Minute
	staffMissPlaces = 4096
)

// staffMissKey names a platform's place; an overlong place (an event's own
// word) by its hash, so that a key stays small.
func staffMissKey(platform, place string) string {
	if len(place) > 64 {
		sum := sha256.Sum256([]byte(place))
		place = "#" + hex.EncodeToString(sum[:16])
	}
	return platform + "\x00" + place
}

// missing reports whether key is in a window after a miss at now.
func (m *staffMisses) missing(key string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.places[key]
	return e != nil && now.Before(e.until)
}

// missed records a miss of key at now. It returns the window it opened and
// the misses in a row, or first false when a window was already open (a
// concurrent event's miss): the miss is then said once.
func (m *staffMisses) missed(key string, now time.Time) (window time.Duration, streak int, first bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.places[key]
	if e != nil && now.Before(e.until) {
		return 0, e.streak, false
	}
	if e == nil {
		if m.places == nil {
			m.places = make(map[string]*staffMiss)
		}
		if len(m.places) >= staffMissPlaces {
			m.evict(now)
		}
		e = &staffMiss{}
		m.places[key] = e
	}
	if !e.until.IsZero() && now.Sub(e.until) > staffMissMax {
		e.streak = 0 // answered nothing, but asked about long ago
	}
	e.streak++
	window = staffMissFirst
	for i := 1; i < e.streak && window < staffMissMax; i++ {
		window *= 2
	}
	window = min(window, staffMissMax)
	e.until = now.Add(window)
	return window, e.streak, true
}

// answered ends key's streak of misses, returning how long it was.
func (m *staffMisses) answered(key string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.places[key]
	if e == nil {
		return 0
	}
	delete(m.places, key)
	return e.streak
}

// evict makes room for a place: the places whose window has ended go, or,
// when every window is open, one of them.
func (m *staffMisses) evict(now time.Time) {
	for k, e := range m.places {
		if !now.Before(e.until) {
			delete(m.places, k)
		}
	}
	if len(m.places) < staffMissPlaces {
		return
	}
	for k := range m.places {
		delete(m.places, k)
		return
	}
}
