// Package stopwatch times what a benchmark does: an elapsed time on the
// monotonic clock, never a date, beside the fixed dates a benchmark's own
// clock (handlers.Options.Now) reads.
package stopwatch

import "time"

// Watch measures the time elapsed since Start.
type Watch struct{ started time.Time }

// Start starts a watch.
func Start() Watch { return Watch{started: time.Now()} }

// Elapsed is the time since the watch was started.
func (w Watch) Elapsed() time.Duration { return time.Since(w.started) }
