package bot

import (
	"context"
	"time"
)

// Sleep waits d on the wall clock, or until ctx ends, and reports whether it
// waited the whole time: the pauses between calls to a platform, whose
// Retry-After and limits count real seconds.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
