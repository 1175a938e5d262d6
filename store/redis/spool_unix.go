//go:build unix

package redis

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// spoolLocks: a spool file's lock tells whether its process runs, so that
// a running process may take over the files of the stopped ones.
const spoolLocks = true

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

// ownedByMe reports whether fi belongs to the user this process runs as,
// and when not, whose it is.
func ownedByMe(fi fs.FileInfo) (owner string, mine bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Getuid() {
		return "", true
	}
	uid := strconv.FormatUint(uint64(st.Uid), 10)
	if u, err := user.LookupId(uid); err == nil {
		return u.Username + " (uid " + uid + ")", false
	}
	return "uid " + uid, false
}
