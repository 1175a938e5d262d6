package bot

import (
	"sync"
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

// maxTurns bounds the keys Turns keeps: past it, all are forgotten (a turn
// given again rather than memory without end).
const maxTurns = 1000

// Turns are a Turn by key (a server or a chat, and what it refused). Its
// zero value is ready.
type Turns struct {
	mu    sync.Mutex
	turns map[string]*Turn
}

// Take reports whether key's turn has come at now, as Turn.Take does, and
// takes it.
func (ts *Turns) Take(key string, now time.Time, every time.Duration) bool {
	ts.mu.Lock()
	t := ts.turns[key]
	if t == nil {
		if ts.turns == nil || len(ts.turns) >= maxTurns {
			ts.turns = map[string]*Turn{}
		}
		t = &Turn{}
		ts.turns[key] = t
	}
	ts.mu.Unlock()
	return t.Take(now, every)
}
