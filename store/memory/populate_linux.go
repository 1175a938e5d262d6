package memory

import "syscall"

// madvPopulateWrite is Linux's MADV_POPULATE_WRITE (5.14 and later): the
// pages of the range are faulted in writable, as a write to each would.
const madvPopulateWrite = 23

// populateWrite makes b's pages resident and writable.
func populateWrite(b []byte) error { return syscall.Madvise(b, madvPopulateWrite) }
