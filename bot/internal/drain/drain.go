// Package drain hands over, at shutdown, what a connector took from its platform
// but has not passed on yet: the platform will not send it again.
package drain

import (
	"context"
	"strings"
	"time"
)

// Queue takes first, when set, and what q holds now, then passes each on with
// hand for up to timeout; hand reports false when its context ended first. It
// returns how many were handed over and those left, in order. Nothing may send
// on q any more.
func Queue[T any](q <-chan T, first *T, timeout time.Duration, hand func(context.Context, T) bool) (handed int, left []T) {
	var all []T
	if first != nil {
		all = append(all, *first)
	}
	for more := true; more; {
		select {
		case v := <-q:
			all = append(all, v)
		default:
			more = false
		}
	}
	if len(all) == 0 {
		return 0, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for i, v := range all {
		if !hand(ctx, v) {
			return i, all[i:]
		}
	}
	return len(all), nil
}

// Keys lists the keys of the first 50 of items, for a log line that a CM can
// follow up on.
func Keys[T any](items []T, key func(T) string) string {
	ids := make([]string, 0, min(len(items), 50))
	for _, v := range items[:min(len(items), 50)] {
		ids = append(ids, key(v))
	}
	return strings.Join(ids, " ")
}
