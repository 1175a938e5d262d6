//go:build unix

package redistest

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time this process used so far, all threads: on a
// machine shared with other work it is steadier than wall time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
