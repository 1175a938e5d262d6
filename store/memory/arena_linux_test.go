//go:build linux

package memory

import (
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// TestArenaPagesWritten: a table's slots from the heap have each page
// written when they are handed out, so a look-up's read then an insert's
// write do not fault twice a page (the zero page, then its copy); a
// mapping's are not, so that the insert that grew its table does not wait
// for all its faults at once. The faults are this thread's own, counted by
// the kernel.
func TestArenaPagesWritten(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	faults := func() int64 { return threadFaults(t) }
	a := newArena()
	defer a.release()
	for _, tc := range []struct {
		n      int
		mapped bool
	}{{mappedMin / 16 / 2, false}, {mappedMin / 16 * 64, true}} {
		n := tc.n
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
		got := faults() - before
		switch {
		case !tc.mapped && got > pages/8:
			t.Errorf("%d slots from the heap: %d faults reading then writing their %d pages, want none", n, got, pages)
		case tc.mapped && got < pages:
			t.Errorf("%d slots mapped: %d faults reading then writing their %d pages, want them faulted on use", n, got, pages)
		}
	}
}

// TestArenaPopulate: a mapping populated, as a table's array is by a
// goroutine of its own (allocFilled), reads zero and is then read and
// written without a fault: the inserts and look-ups that reach its pages
// first no longer fault for them under their shard's lock.
func TestArenaPopulate(t *testing.T) {
	probe, err := syscall.Mmap(-1, 0, 4096, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Munmap(probe)
	if err := populateWrite(probe); err == syscall.EINVAL {
		t.Skipf("this kernel cannot populate a mapping (MADV_POPULATE_WRITE, Linux 5.14): %v", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	a := newArena()
	defer a.release()
	n := mappedMin / 16 * 64
	s, p, f := mappedFilling(a, n)
	a.populate(p, f)
	before := threadFaults(t)
	sum := uint64(0)
	for i := 0; i < n; i += pageSlots {
		sum += s[i].fp | s[i].v
	}
	for i := 0; i < n; i += pageSlots {
		s[i].fp = sum + 1
	}
	pages := int64(n / pageSlots)
	if got := threadFaults(t) - before; got > pages/8 {
		t.Errorf("%d slots populated: %d faults reading then writing their %d pages, want none", n, got, pages)
	}
	if sum != 0 {
		t.Errorf("populated slots read %d, want zero", sum)
	}
}

// TestArenaGivenBackWhileFilling: a mapping given back while a goroutine
// makes it resident is unmapped by that goroutine, not by free, which then
// does not wait for it.
func TestArenaGivenBackWhileFilling(t *testing.T) {
	a := newArena()
	defer a.release()
	s, p, f := mappedFilling(a, mappedMin/16*4)
	a.free(s)
	if len(a.live) != 0 || !f.givenBack {
		t.Fatalf("%d mappings live, given back %v; want none live, given back", len(a.live), f.givenBack)
	}
	a.populate(p, f)
	if len(a.filling) != 0 {
		t.Errorf("%d mappings still filling, want none", len(a.filling))
	}
	// mincore fails with ENOMEM on a range that is not mapped.
	vec := make([]byte, f.size/4096)
	if _, _, errno := syscall.Syscall(syscall.SYS_MINCORE, uintptr(p), uintptr(f.size), uintptr(unsafe.Pointer(&vec[0]))); errno != syscall.ENOMEM {
		t.Errorf("mincore of the mapping given back: %v, want ENOMEM (unmapped)", errno)
	}
}

// threadFaults is the page faults of the calling thread (locked to it),
// counted by the kernel.
func threadFaults(t *testing.T) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
		t.Fatal(err)
	}
	return ru.Minflt
}

// mappedFilling maps n slots from a and marks them as being made resident, as
// allocFilled does, without starting the goroutine: the test calls
// populate itself.
func mappedFilling(a *arena, n int) ([]slot, unsafe.Pointer, *filling) {
	s := a.alloc(n)
	p := unsafe.Pointer(unsafe.SliceData(s))
	f := &filling{size: n * int(unsafe.Sizeof(slot{}))}
	a.filling[p] = f
	return s, p, f
}
