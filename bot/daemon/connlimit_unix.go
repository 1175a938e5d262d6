//go:build unix

package daemon

import "syscall"

// openFiles is how many files the process may open (its soft
// RLIMIT_NOFILE, which Go raises to the hard one at start), 0 when unknown.
func openFiles() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	return uint64(lim.Cur)
}
