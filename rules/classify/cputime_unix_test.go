//go:build unix

package classify

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time the process used so far, all threads. On a machine
// shared with other work, CPU time per event is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
