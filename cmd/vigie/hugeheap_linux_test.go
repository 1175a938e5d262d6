package main

import (
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestGrowHeapHuge: once growHeapHuge has mapped the heap's room, memory the
// heap then hands out and the program writes takes a fault every huge page,
// not every 4 KiB page. The faults are this thread's own, counted by the
// kernel; the test is skipped where the kernel gives no huge pages.
func TestGrowHeapHuge(t *testing.T) {
	mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled")
	if err != nil || strings.Contains(string(mode), "[never]") {
		t.Skip("no transparent huge pages here")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	faults := func() int64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
			t.Fatal(err)
		}
		return ru.Minflt
	}
	growHeapHuge(replayHugeHeap)
	const size = 16 << 20
	before := faults()
	b := make([]byte, size)
	for i := 0; i < size; i += 4096 {
		b[i] = 1
	}
	got := faults() - before
	runtime.KeepAlive(b)
	if pages := int64(size / 4096); got > pages/8 {
		t.Errorf("%d faults allocating and writing %d pages of heap, want a fault a huge page", got, pages)
	}
}
