//go:build !unix

package redis

import (
	"fmt"
	"io/fs"
	"os"
)

// spoolLocks: without flock, nothing tells a running process's file from a
// stopped one's: the files are read at start only.
const spoolLocks = false

// lockSpool opens the lock file at path. Without flock, two processes on one
// machine must be given two spool directories (VIGIE_SPOOL_DIR).
func lockSpool(path string) (*os.File, bool, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("spool: %w", err)
	}
	return f, true, nil
}

func unlockSpool(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// ownedByMe is true where files have no unix owner.
func ownedByMe(fs.FileInfo) (owner string, mine bool) { return "", true }
