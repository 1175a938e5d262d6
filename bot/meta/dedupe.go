package meta

// seenSet remembers the last n keys, oldest forgotten first. Meta retries a
// delivery it thinks failed, sometimes hours later; the recent ones stop here,
// the older ones at the store's own dedupe.
type seenSet struct {
	keys map[string]struct{}
	ring []string
	next int
}

func newSeenSet(n int) *seenSet {
	return &seenSet{keys: make(map[string]struct{}, n), ring: make([]string, n)}
}

func (s *seenSet) has(k string) bool {
	_, ok := s.keys[k]
	return ok
}

func (s *seenSet) add(k string) {
	if s.has(k) {
		return
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.keys, old)
	}
	s.ring[s.next] = k
	s.keys[k] = struct{}{}
	s.next = (s.next + 1) % len(s.ring)
}
