package memory

import (
	"syscall"
	"time"
	"unsafe"
)

// threadTime is the CPU time of the calling thread: on a busy machine a
// single operation timed on the wall clock is mostly the time it waited
// for a core.
func threadTime() time.Duration {
	const clockThreadCPUTime = 3 // CLOCK_THREAD_CPUTIME_ID
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTime, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}
