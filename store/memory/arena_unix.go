//go:build unix

package memory

import (
	"sync"
	"syscall"
	"unsafe"
)

// mappedMin is the size in bytes from which a table's slots are mapped from
// the system rather than taken from the Go heap.
const mappedMin = 1 << 16

// arena maps the large tables of a store outside the Go heap: the garbage
// collector lets the heap grow to twice what it holds live before it runs
// (GOGC), and the tables, most of what a busy store holds, would count in
// that twice over though they hold no pointer for it to follow. Their memory
// is given back to the system as soon as a table grows or shrinks, and all of
// it once the store is unreachable (New registers release as its cleanup).
type arena struct {
	mu   sync.Mutex
	live map[unsafe.Pointer]int // the first slot → bytes mapped (memory the GC does not manage)
}

func newArena() *arena { return &arena{live: map[unsafe.Pointer]int{}} }

// alloc returns n zeroed slots.
func (a *arena) alloc(n int) []slot {
	size := n * int(unsafe.Sizeof(slot{}))
	if a == nil || size < mappedMin {
		return make([]slot, n)
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return make([]slot, n)
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	a.mu.Lock()
	a.live[p] = size
	a.mu.Unlock()
	return unsafe.Slice((*slot)(p), n)
}

// free gives back slots from alloc, when they were mapped.
func (a *arena) free(s []slot) {
	if a == nil || len(s) == 0 {
		return
	}
	p := unsafe.Pointer(unsafe.SliceData(s))
	a.mu.Lock()
	size, ok := a.live[p]
	delete(a.live, p)
	a.mu.Unlock()
	if ok {
		_ = syscall.Munmap(unsafe.Slice((*byte)(p), size))
	}
}

// release gives back every mapping: the store is gone.
func (a *arena) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p, size := range a.live {
		_ = syscall.Munmap(unsafe.Slice((*byte)(p), size))
	}
	clear(a.live)
}
