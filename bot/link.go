package bot

import (
	"sync"
	"time"
)

// Link is what a source knows of its connection to its platform: the daemon's
// readiness check and its vigie_source_up and vigie_last_event_timestamp_seconds
// metrics read it.
type Link struct {
	Up bool
	// Since is when Up last changed; zero before the first connection.
	Since time.Time
	// Problem says why the link is down, when that is known.
	Problem string
	// LastEvent is when the platform last handed an event over; zero before the
	// first.
	LastEvent time.Time
}

// Linker is a Source that can tell whether it is connected to its platform.
type Linker interface {
	Link() Link
}

// LinkState keeps a source's Link for several goroutines; the zero value is a
// link that is down, never connected.
type LinkState struct {
	mu   sync.Mutex
	link Link
}

// Up marks the link up, and reports whether it was down.
func (s *LinkState) Up(now time.Time) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.link.Up {
		return false
	}
	s.link.Up, s.link.Since, s.link.Problem = true, now, ""
	return true
}

// Down marks the link down because of problem, and reports whether it was up.
// A link already down keeps its Since and takes the newer problem.
func (s *LinkState) Down(now time.Time, problem string) (changed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.link.Problem = problem
	if !s.link.Up && !s.link.Since.IsZero() {
		return false
	}
	changed = s.link.Up
	s.link.Up, s.link.Since = false, now
	return changed
}

// Event records that the platform handed an event over at t.
func (s *LinkState) Event(t time.Time) {
	s.mu.Lock()
	s.link.LastEvent = t
	s.mu.Unlock()
}

// Link returns the link's state.
func (s *LinkState) Link() Link {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.link
}
