package main

import (
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"unsafe"
)

// hugePageSize is the size of a transparent huge page on amd64 and arm64.
const hugePageSize = 2 << 20

// growReplayHeap gives the replay's heap its room in huge pages
// (growHeapHuge), unless the machine is a virtual machine whose balloon
// reports free memory to the hypervisor (hugePagesCostly).
func growReplayHeap() {
	if !hugePagesCostly(os.DirFS(balloonDriver)) {
		growHeapHuge(replayHugeHeap)
	}
}

// balloonDriver is where Linux lists the virtio balloons.
const balloonDriver = "/sys/bus/virtio/drivers/virtio_balloon"

// balloonReporting is the feature bit of a virtio balloon that reports free
// pages to the hypervisor (VIRTIO_BALLOON_F_REPORTING).
const balloonReporting = 5

// hugePagesCostly reports whether a virtio balloon in fsys (balloonDriver's
// folder) reports free pages: the guest's kernel then tells the hypervisor
// of each block of 2 MiB that stays free a couple of seconds, and the
// hypervisor takes it back. A huge page is such a block whole; the first
// write to it has the hypervisor back its 512 pages again, where a heap of
// 4 KiB pages is mostly given pages freed a moment before, which the kernel
// does not report. On such a machine (a hypervisor that offers the feature,
// as Firecracker and QEMU's free-page-reporting do) 64 MiB written in huge
// pages took 7 to 9 ms when the blocks had just been freed and 0.4 to 1 s
// when they had been reported, in 4 KiB pages 23 ms each time; the replay's
// system time went from 0.02 to 0.78 s from one run to the next with its
// room, 0.01 to 0.10 s without (docs/speed.md#the-replays-heap-in-huge-pages).
// Each balloon's features file is a string of 0s and 1s, one a bit, the bit
// i at i.
func hugePagesCostly(fsys fs.FS) bool {
	files, _ := fs.Glob(fsys, "virtio*/features")
	for _, name := range files {
		b, err := fs.ReadFile(fsys, name)
		if err == nil && len(b) > balloonReporting && b[balloonReporting] == '1' {
			return true
		}
	}
	return false
}

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
