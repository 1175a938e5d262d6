package main

import (
	"runtime"
	"syscall"
	"unsafe"
)

// hugePageSize is the size of a transparent huge page on amd64 and arm64.
const hugePageSize = 2 << 20

// growHeapHuge maps size bytes of Go heap at once and asks the kernel to
// back them with transparent huge pages where it can (madvise(2)
// MADV_HUGEPAGE: the kernel's default, "madvise", gives them only to memory
// that asks), then lets them go back to the heap's free pages. A heap that
// then grows into them takes a fault every 2 MiB rather than every 4 KiB.
// The memory is not touched here: what is never used is never resident.
//
// A replay's heap grows from nothing to its goal, three times a live heap of
// 15 to 20 MB, as it loads the rules and models and then allocates for every
// event: some 11,000 page faults of 4 KiB, each some 10 µs of system time on
// a virtual machine (docs/speed.md#the-replays-heap-in-huge-pages). The advice is per mapping
// and stays when the runtime gives pages back to the system and takes them
// again; where the kernel refuses it (THP "never") nothing changes.
func growHeapHuge(size int) {
	b := make([]byte, size)
	start := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	lo := (start + hugePageSize - 1) &^ (hugePageSize - 1)
	hi := (start + uintptr(size)) &^ (hugePageSize - 1)
	if lo < hi {
		_ = syscall.Madvise(b[lo-start:hi-start], syscall.MADV_HUGEPAGE)
	}
	// The block was live when allocated, and would count in the heap's
	// goal until a cycle found it dead: a collection now frees it.
	runtime.GC()
}
