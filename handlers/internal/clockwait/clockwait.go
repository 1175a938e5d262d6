// Package clockwait waits on the clock the handlers are given
// (Options.AfterFunc): time.AfterFunc's, or a test's that moves by steps.
package clockwait

import (
	"context"
	"time"
)

// AfterFunc is time.AfterFunc's shape: f is called once d has passed on its
// clock, unless stop is called first.
type AfterFunc = func(d time.Duration, f func()) (stop func() bool)

// Sleep waits d on after's clock and returns true; or returns false, its
// timer stopped, when ctx ends first.
func Sleep(ctx context.Context, after AfterFunc, d time.Duration) bool {
	fired := make(chan struct{}, 1)
	stop := after(d, func() {
		select {
		case fired <- struct{}{}:
		default:
		}
	})
	select {
	case <-ctx.Done():
		stop()
		return false
	case <-fired:
		return true
	}
}
