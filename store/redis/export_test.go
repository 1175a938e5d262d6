package redis

// SlotOf is slotOf, for the tests that compare it with Redis's CLUSTER KEYSLOT.
var SlotOf = slotOf

// ParseLatest is parseLatest, for its test against encoding/json.
var ParseLatest = parseLatest

// MaxMapped is how many local case ids a Fallback remembers of each kind.
const MaxMapped = maxMapped

// LocalCases is how many local case ids f remembers.
func (f *Fallback) LocalCases() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cases)
}
