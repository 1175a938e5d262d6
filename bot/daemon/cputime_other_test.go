//go:build !unix

package daemon_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
