//go:build !unix

package daemon

// openFiles is 0, unknown: Windows has no limit of a process's files of
// this kind.
func openFiles() uint64 { return 0 }
