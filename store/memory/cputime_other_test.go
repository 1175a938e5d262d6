//go:build !linux

package memory

import "time"

var start = time.Now()

// threadTime is the wall clock where the thread's CPU time is not read.
func threadTime() time.Duration { return time.Since(start) }
