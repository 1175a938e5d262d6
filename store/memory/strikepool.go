package memory

import (
	"math"
	"math/bits"
	"unsafe"
)

// strikePool holds a shard's strike lists (the authors with more than one
// strike) in two arrays of 16-byte slots mapped outside the Go heap, as the
// tables are: an author keeps his strikes for 30 days, so the lists grow
// with the authors struck twice until their cap (a million), and on the
// heap each cost a list header, a slice of its own and, through the
// collector's room (GOGC), twice as much again. heads holds a list's first
// expiry and where it lies; blocks holds the strikes, in blocks of 2, 4,
// 8... slots, a list in the smallest that fits. A freed block is kept for
// the next list of its size (free), so a shard's blocks are the most it
// held at once, and all is given back once the shard holds no list.
type strikePool struct {
	arena *arena
	// heads[i] is list i: fp its first expiry, v its block's offset (high
	// 32 bits), its size class (8 bits) and its length (24 bits).
	heads     []slot
	nHeads    int
	freeHeads []uint32
	// blocks are the strikes, each slot one strike: fp its time, v its
	// expiry (as strike's at and exp).
	blocks []slot
	used   int
	// free[c] are the offsets of the free blocks of class c (2<<c slots).
	free [][]uint32
	// lists counts the lists held.
	lists int
}

// maxListLen is the longest strike list a pool holds (DefaultMaxStrikes is
// well below it).
const maxListLen = 1<<24 - 1

func classOf(n int) int { return max(bits.Len(uint(n-1)), 1) - 1 }

// list returns list i's strikes, oldest first, in place: valid until the
// pool is next changed. Its capacity is its block's, so an insert that
// fits writes in place.
func (p *strikePool) list(i uint32) []strike {
	v := p.heads[i].v
	off, class, n := int(v>>32), int(v>>24&0xff), int(v&maxListLen)
	b := p.blocks[off : off+2<<class]
	return unsafe.Slice((*strike)(unsafe.Pointer(unsafe.SliceData(b))), len(b))[:n]
}

// first is list i's first expiry.
func (p *strikePool) first(i uint32) int64 { return int64(p.heads[i].fp) }

// add stores a new list (at least one strike) and returns its index.
func (p *strikePool) add(list []strike) uint32 {
	var i uint32
	if n := len(p.freeHeads); n > 0 {
		i = p.freeHeads[n-1]
		p.freeHeads = p.freeHeads[:n-1]
	} else {
		if p.nHeads == len(p.heads) {
			p.heads = p.grow(p.heads, p.nHeads, p.nHeads+1)
		}
		i = uint32(p.nHeads)
		p.nHeads++
	}
	p.lists++
	c := classOf(len(list))
	p.heads[i] = slot{v: uint64(p.block(c))<<32 | uint64(c)<<24}
	p.set(i, list)
	return i
}

// set makes list i hold list (at least one strike, at most maxListLen),
// which may be list(i) changed in place.
func (p *strikePool) set(i uint32, list []strike) {
	v := p.heads[i].v
	off, class := int(v>>32), int(v>>24&0xff)
	if want := classOf(len(list)); want != class {
		// Moved before the old block is freed: list may lie in it, and a
		// growth of blocks moves it (block reads list's strikes first).
		tmp := append([]strike(nil), list...)
		p.release(off, class)
		off, class = p.block(want), want
		list = tmp
	}
	dst := unsafe.Slice((*strike)(unsafe.Pointer(unsafe.SliceData(p.blocks[off:]))), 2<<class)
	copy(dst, list)
	first := int64(math.MaxInt64)
	for _, x := range list {
		first = min(first, x.exp)
	}
	p.heads[i] = slot{fp: uint64(first), v: uint64(off)<<32 | uint64(class)<<24 | uint64(len(list))}
}

// remove frees list i.
func (p *strikePool) remove(i uint32) {
	v := p.heads[i].v
	p.release(int(v>>32), int(v>>24&0xff))
	p.heads[i] = slot{}
	p.freeHeads = append(p.freeHeads, i)
	if p.lists--; p.lists == 0 {
		p.arena.free(p.heads)
		p.arena.free(p.blocks)
		*p = strikePool{arena: p.arena}
	}
}

// block returns the offset of a free block of class c.
func (p *strikePool) block(c int) int {
	if c < len(p.free) {
		if n := len(p.free[c]); n > 0 {
			off := p.free[c][n-1]
			p.free[c] = p.free[c][:n-1]
			return int(off)
		}
	}
	size := 2 << c
	if p.used+size > len(p.blocks) {
		p.blocks = p.grow(p.blocks, p.used, p.used+size)
	}
	off := p.used
	p.used += size
	return off
}

func (p *strikePool) release(off, c int) {
	for len(p.free) <= c {
		p.free = append(p.free, nil)
	}
	p.free[c] = append(p.free[c], uint32(off))
}

// grow returns s, of which used slots are in use, moved to room for at
// least need, doubling.
func (p *strikePool) grow(s []slot, used, need int) []slot {
	ns := p.arena.alloc(max(64, 2*len(s), need))
	copy(ns, s[:used])
	p.arena.free(s)
	return ns
}
