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
	// filling are the mappings a goroutine is making resident (populate):
	// one given back meanwhile is unmapped by that goroutine once its chunk
	// under way is done, so that free never waits for a chunk, under the
	// lock of the shard whose table grew.
	filling map[unsafe.Pointer]*filling
}

// filling is a mapping being made resident: size bytes, given back says
// free or release was asked for it meanwhile.
type filling struct {
	size      int
	givenBack bool
}

func newArena() *arena {
	return &arena{live: map[unsafe.Pointer]int{}, filling: map[unsafe.Pointer]*filling{}}
}

// alloc returns n zeroed slots. Those from the heap have each page written
// once (prefault); a mapping is left to fault as it is used: writing its
// pages at once would stall the insert that grew the table for as many
// faults (BenchmarkTableWorst: the slowest insert 0.9-3.1 ms, 13.5-15.8 ms
// with a mapping's pages written), where the table moves its entries a few
// at a time precisely not to.
func (a *arena) alloc(n int) []slot {
	size := n * int(unsafe.Sizeof(slot{}))
	if a == nil || size < mappedMin {
		return prefault(make([]slot, n))
	}
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return prefault(make([]slot, n))
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	a.mu.Lock()
	a.live[p] = size
	a.mu.Unlock()
	return unsafe.Slice((*slot)(p), n)
}

// allocFilled is alloc for an array whose every page is written soon: a
// table's, whose entries are hashed all over it and moved in as it grows.
// A mapping's pages are then made resident by a goroutine of their own
// (populate), rather than by the faults of the inserts and look-ups that
// reach them first: those hold their shard's lock through each fault (some
// 10-20 µs on a virtual machine), and a look-up's read, mapping the shared
// zero page, is followed by the insert's write faulting the page again.
func (a *arena) allocFilled(n int) []slot {
	s := a.alloc(n)
	if size := len(s) * int(unsafe.Sizeof(slot{})); a != nil && size >= mappedMin {
		p := unsafe.Pointer(unsafe.SliceData(s))
		a.mu.Lock()
		var f *filling
		if a.live[p] == size {
			f = &filling{size: size}
			a.filling[p] = f
		}
		a.mu.Unlock()
		if f != nil {
			go a.populate(p, f)
		}
	}
	return s
}

// populateChunk is how much of a mapping populate makes resident at a time.
const populateChunk = 256 << 10

// populate makes the mapping f at p resident, a chunk at a time, until it
// is given back (a table that grows again, a store let go), and then unmaps
// it. The pages are written as zeros in the kernel (madvise), so that the
// table's slots are what a fault would have given them; where the kernel
// cannot (before Linux 5.14, or another system), the pages fault as they
// are used, as before.
func (a *arena) populate(p unsafe.Pointer, f *filling) {
	for off := 0; off < f.size; off += populateChunk {
		a.mu.Lock()
		given := f.givenBack
		a.mu.Unlock()
		if given || populateWrite(unsafe.Slice((*byte)(unsafe.Add(p, off)), min(populateChunk, f.size-off))) != nil {
			break
		}
	}
	a.mu.Lock()
	delete(a.filling, p)
	given := f.givenBack
	a.mu.Unlock()
	if given {
		_ = syscall.Munmap(unsafe.Slice((*byte)(p), f.size))
	}
}

// pageSlots is how many slots a page of memory holds.
const pageSlots = 4096 / int(unsafe.Sizeof(slot{}))

// prefault writes a zero slot in each page of s (from the heap, under
// mappedMin bytes: 16 pages at most).
// Memory fresh from the system (the Go heap's pages that it does not clear)
// is mapped on its first touch: a read maps the shared zero page, and the
// first write after it faults again to copy it, flushing the other cores'
// TLBs on the way. A table's first touch of a page is nearly always a
// look-up's read, then an insert's write: two faults a page, where one write
// makes it one.
func prefault(s []slot) []slot {
	for i := 0; i < len(s); i += pageSlots {
		s[i] = slot{}
	}
	return s
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
	if f := a.filling[p]; ok && f != nil {
		f.givenBack, ok = true, false // populate unmaps it
	}
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
		if f := a.filling[p]; f != nil {
			f.givenBack = true // populate unmaps it
			continue
		}
		_ = syscall.Munmap(unsafe.Slice((*byte)(p), size))
	}
	clear(a.live)
}
