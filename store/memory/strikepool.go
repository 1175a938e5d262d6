package memory

import (
	"math"
	"math/bits"
	"slices"
	"unsafe"
)

// strikePool holds a shard's strike lists (the authors with more than one
// strike) in two arrays of 16-byte slots mapped outside the Go heap, as the
// tables are: an author keeps his strikes for 30 days, so the lists grow
// with the authors struck twice until their cap (a million), and on the
// heap each cost a list header, a slice of its own and, through the
// collector's room (GOGC), twice as much again. heads holds a list's first
// expiry and where it lies; blocks holds the strikes, in blocks of 2, 4,
// 8... slots, a list in the smallest that fits.
//
// A strike takes 8 bytes, two to a slot: its time in milliseconds (42 bits)
// and its TTL as an index into ttls, which the strikes alone in their
// author's slot of the table share. A list with a strike whose TTL is not
// there (past 256 TTLs in a shard, or a time out of range) takes 16 bytes a
// strike, its time and its expiry (wide). At the cap of 100 strikes a list
// is a block of 64 slots, 1 KiB, where 16 bytes a strike made it 2.
//
// A freed block is kept for the next list of its size (free); when the
// blocks are full and a quarter of them are free, the lists are packed into
// a new array rather than the array doubled: lists that grow together (a
// stream that strikes every author in turn) leave their smaller blocks
// behind them, which no list needs once they are all at their cap, and which
// would double the pool. All is given back once the shard holds no list.
type strikePool struct {
	arena *arena
	// heads[i] is list i: fp its first expiry, v its block's offset (high
	// 32 bits), whether it is wide (bit 31), its size class (7 bits) and
	// its length (24 bits).
	heads     []slot
	nHeads    int
	freeHeads []uint32
	// blocks are the strikes: in a wide list, each slot one strike, fp its
	// time and v its expiry (as strike's at and exp); in the others, each
	// slot two strikes of 8 bytes (pack8).
	blocks []slot
	used   int
	// free[c] are the offsets of the free blocks of class c (2<<c slots),
	// freeSlots their slots in all.
	free      [][]uint32
	freeSlots int
	// lists counts the lists held.
	lists int
	// ttls are the shard's strikes' TTLs in milliseconds, at most 256: a
	// strike names its TTL by its index (ttlIndex).
	ttls []int64
	// buf holds the strikes of a list of 8-byte strikes, read by list;
	// packed a list's strikes in 8 bytes, as set writes them.
	buf    []strike
	packed []uint64
}

// maxListLen is the longest strike list a pool holds (DefaultMaxStrikes is
// well below it).
const maxListLen = 1<<24 - 1

const (
	wideBit   = uint64(1) << 31
	classMask = 0x7f
)

func classOf(n int) int { return max(bits.Len(uint(n-1)), 1) - 1 }

// classFor is the size class of a block for n strikes, wide or not.
func classFor(n int, wide bool) int {
	if wide {
		return classOf(n)
	}
	return classOf((n + 1) / 2)
}

// ttlIndex is the index of a strike's TTL in ttls, added when new; the
// shard keeps at most 256 (a strike of another TTL is kept wide).
func (p *strikePool) ttlIndex(ttl int64) (uint64, bool) {
	if i := slices.Index(p.ttls, ttl); i >= 0 {
		return uint64(i), true
	}
	if len(p.ttls) >= 256 {
		return 0, false
	}
	p.ttls = append(p.ttls, ttl)
	return uint64(len(p.ttls) - 1), true
}

// list returns list i's strikes, oldest first: a wide list in place, valid
// until the pool is next changed (its capacity is its block's, so an
// insert that fits writes in place); the others read into buf, valid until
// list is next called.
func (p *strikePool) list(i uint32) []strike {
	v := p.heads[i].v
	off, class, n := int(v>>32), int(v>>24&classMask), int(v&maxListLen)
	b := p.blocks[off : off+2<<class]
	if v&wideBit != 0 {
		return unsafe.Slice((*strike)(unsafe.Pointer(unsafe.SliceData(b))), len(b))[:n]
	}
	p.buf = p.buf[:0]
	code, ttl := uint64(math.MaxUint64), int64(0)
	for _, x := range p.narrow(b)[:n] {
		if x>>codeShift != code {
			code = x >> codeShift
			ttl = p.ttls[code]
		}
		at := int64(x & msMask)
		p.buf = append(p.buf, strike{at: at, exp: at + ttl})
	}
	return p.buf
}

// last is the time of list i's newest strike.
func (p *strikePool) last(i uint32) int64 {
	v := p.heads[i].v
	off, class, n := int(v>>32), int(v>>24&classMask), int(v&maxListLen)
	b := p.blocks[off : off+2<<class]
	if v&wideBit != 0 {
		return int64(b[n-1].fp)
	}
	return int64(p.narrow(b)[n-1] & msMask)
}

// narrow is a block as 8-byte strikes.
func (p *strikePool) narrow(b []slot) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), 2*len(b))
}

// pack8 writes list's strikes in 8 bytes each to packed, and says whether
// they all fit: their times and their TTLs.
func (p *strikePool) pack8(list []strike) bool {
	p.packed = p.packed[:0]
	ttl, code := int64(-1), uint64(0)
	for _, x := range list {
		if x.at < 0 || x.at > int64(msMask) || x.exp <= x.at {
			return false
		}
		if x.exp-x.at != ttl {
			t, ok := p.ttlIndex(x.exp - x.at)
			if !ok {
				return false
			}
			ttl, code = x.exp-x.at, t<<codeShift
		}
		p.packed = append(p.packed, code|uint64(x.at))
	}
	return true
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
	p.heads[i] = slot{}
	p.set(i, list)
	return i
}

// set makes list i hold list (at least one strike, at most maxListLen),
// which may be list(i) changed in place. A new list (add) has no block yet.
func (p *strikePool) set(i uint32, list []strike) {
	wide := !p.pack8(list)
	v := p.heads[i].v
	off, class := int(v>>32), int(v>>24&classMask)
	want := classFor(len(list), wide)
	if v == 0 || want != class || (v&wideBit != 0) != wide {
		// Moved before the old block is freed: list may lie in it, and a
		// new block may move the blocks (a growth or a packing).
		tmp := append([]strike(nil), list...)
		if v != 0 {
			p.release(off, class)
			p.heads[i].v = 0 // not a list to pack
		}
		off, class = p.block(want), want
		list = tmp
	}
	b := p.blocks[off : off+2<<class]
	first := int64(math.MaxInt64)
	for _, x := range list {
		first = min(first, x.exp)
	}
	v = uint64(off)<<32 | uint64(class)<<24 | uint64(len(list))
	if wide {
		copy(unsafe.Slice((*strike)(unsafe.Pointer(unsafe.SliceData(b))), len(b)), list)
		v |= wideBit
	} else {
		copy(p.narrow(b), p.packed)
	}
	p.heads[i] = slot{fp: uint64(first), v: v}
}

// remove frees list i.
func (p *strikePool) remove(i uint32) {
	v := p.heads[i].v
	p.release(int(v>>32), int(v>>24&classMask))
	p.heads[i] = slot{}
	p.freeHeads = append(p.freeHeads, i)
	if p.lists--; p.lists == 0 {
		p.arena.free(p.heads)
		p.arena.free(p.blocks)
		*p = strikePool{arena: p.arena, ttls: p.ttls, buf: p.buf[:0], packed: p.packed[:0]}
	}
}

// block returns the offset of a free block of class c.
func (p *strikePool) block(c int) int {
	if c < len(p.free) {
		if n := len(p.free[c]); n > 0 {
			off := p.free[c][n-1]
			p.free[c] = p.free[c][:n-1]
			p.freeSlots -= 2 << c
			return int(off)
		}
	}
	size := 2 << c
	if p.used+size > len(p.blocks) {
		if p.freeSlots >= p.used/4 {
			p.pack(size)
		} else {
			p.blocks = p.grow(p.blocks, p.used, p.used+size)
		}
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
	p.freeSlots += 2 << c
}

// pack moves the lists' blocks, end to end, into a new array with room for
// need slots more, and forgets the free blocks.
func (p *strikePool) pack(need int) {
	live := p.used - p.freeSlots
	ns := p.arena.alloc(max(64, 2*(live+need)))
	used := 0
	for i := range p.heads[:p.nHeads] {
		v := p.heads[i].v
		if v == 0 {
			continue
		}
		off, size := int(v>>32), 2<<int(v>>24&classMask)
		copy(ns[used:used+size], p.blocks[off:off+size])
		p.heads[i].v = v&(1<<32-1) | uint64(used)<<32
		used += size
	}
	p.arena.free(p.blocks)
	p.blocks, p.used, p.freeSlots = ns, used, 0
	for c := range p.free {
		p.free[c] = p.free[c][:0]
	}
}

// grow returns s, of which used slots are in use, moved to room for at
// least need, doubling.
func (p *strikePool) grow(s []slot, used, need int) []slot {
	ns := p.arena.alloc(max(64, 2*len(s), need))
	copy(ns, s[:used])
	p.arena.free(s)
	return ns
}
