package bot

import (
	"sync/atomic"
	"time"
)

// Turn spaces what would otherwise be done for each event of a flood (a log
// line, a key's expiry pushed): it has its turn at most once an interval. It
// counts on the clock it is given, a wall clock's readings included (a Unix
// time is what it keeps), and a clock stepped back (an NTP correction, a VM
// restored from a snapshot) gives it its turn at once, rather than put it
// off until the clock is back where it was: a warning is not silenced, an
// expiry not left to run out. Its zero value has its turn.
type Turn struct{ last atomic.Int64 }

// Take reports whether the turn has come at now, an interval every after
// the last one taken, and takes it.
func (t *Turn) Take(now time.Time, every time.Duration) bool {
	n := now.UnixNano()
	last := t.last.Load()
	if last != 0 && n >= last && n-last < int64(every) {
		return false
	}
	return t.last.CompareAndSwap(last, n)
}

// Forget gives the next Take its turn.
func (t *Turn) Forget() { t.last.Store(0) }
