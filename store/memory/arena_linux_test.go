//go:build linux

package memory

import (
	"runtime"
	"syscall"
	"testing"
)

// TestArenaPagesWritten: a table's slots, mapped or from the heap, have each
// page written when they are handed out, so a look-up's read then an
// insert's write do not fault twice a page (the zero page, then its copy).
// The faults are this thread's own, counted by the kernel.
func TestArenaPagesWritten(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	faults := func() int64 {
		var ru syscall.Rusage
		if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
			t.Fatal(err)
		}
		return ru.Minflt
	}
	a := newArena()
	defer a.release()
	for _, n := range []int{mappedMin / 16 * 64, mappedMin / 16 / 2} {
		s := a.alloc(n)
		before := faults()
		sum := uint64(0)
		for i := 0; i < n; i += pageSlots {
			sum += s[i].fp
		}
		for i := 0; i < n; i += pageSlots {
			s[i].fp = sum + 1
		}
		pages := int64(n / pageSlots)
		if got := faults() - before; got > pages/8 {
			t.Errorf("%d slots: %d faults reading then writing their %d pages, want none", n, got, pages)
		}
	}
}
