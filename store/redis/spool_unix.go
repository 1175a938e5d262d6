//go:build unix

package redis

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockSpool opens and locks the lock file at path; ok is false when another
// process holds it. The lock goes with the process: one that dies lets it go.
func lockSpool(path string) (f *os.File, ok bool, err error) {
	f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("spool: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, fmt.Errorf("spool: lock %s: %w", path, err)
	}
	return f, true, nil
}

// unlockSpool lets the lock go. The lock file stays: removed, a process
// that opened it a moment before would lock a file no other process sees.
func unlockSpool(f *os.File) {
	if f != nil {
		f.Close()
	}
}
