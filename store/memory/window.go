package memory

import "unsafe"

// cell is one sliding-window counter, as Observe reads it from its slot in
// the shard's table (unpack) and writes it back (pack). Most counters hold
// one timestamp (an author's message counted under its text's fingerprint,
// which is seldom sent twice): such a one is its slot and nothing else; a
// second timestamp moves them to a ring of the shard. Times are in
// milliseconds, as the Redis store counts.
type cell struct {
	// one is the timestamp when ring is 0, else the ring's newest: a sweep
	// reads when the counter empties from the slot alone, or from the ring's
	// newest.
	one int64
	// keep is the window length last asked for (keepCode): once the events'
	// clock passes the newest timestamp plus keep, the counter is empty (see
	// expiry).
	keep uint64
	// ring is 1 + the index of the cell's ring in the shard's pool (rings),
	// 0 for none.
	ring int32
}

// pack is c as its slot's value, with the key's tag.
func (c cell) pack(tag uint64) uint64 {
	v := tag<<tagShift | c.keep<<codeShift
	if c.ring != 0 {
		return sideBit | v | uint64(uint32(c.ring))
	}
	return v | uint64(c.one)
}

// A ring's cell keeps in its slot, when the ring's index is below
// 1<<hintRingBits (the usual: a shard seldom holds four million rings), a
// bound on the ring's newest timestamp, so that a sweep tells most rings
// still in their window from the slot alone: reading the ring to know would
// be two cache misses (its head, then its block) for each ring of each
// table swept. The bound is in units of 1<<hintShift ms (33 s) from the
// pool's base, rounded down: the newest of a ring only grows, so a bound
// written stays a bound until the slot is written again.
const (
	hintFlag     = uint64(1) << 41 // with sideBit: the slot has the bound
	hintRingBits = 22              // the ring's index, below the bound
	hintShift    = 15
	hintBits     = 19 // the bound, bits 22–40: 2^34 ms (199 days) from the base
	hintRingMask = uint64(1)<<hintRingBits - 1
)

// pack is c as its slot's value, with the key's tag and, for a ring, the
// bound of its newest (c.one) when it fits.
func (p *ringPool) pack(c cell, tag uint64) uint64 {
	v := c.pack(tag)
	if c.ring == 0 || uint64(uint32(c.ring)) > hintRingMask {
		return v
	}
	if !p.based {
		// half the range before the first ring's newest: late events fit
		p.base, p.based = c.one-1<<(hintBits+hintShift-1), true
	}
	d := c.one - p.base
	if d < 0 || d >= 1<<(hintBits+hintShift) {
		return v
	}
	return v | hintFlag | uint64(d>>hintShift)<<hintRingBits
}

// ringOf is the ring of a slot's value with sideBit.
func ringOf(v uint64) int32 {
	if v&hintFlag != 0 {
		return int32(v & hintRingMask)
	}
	return int32(uint32(v))
}

// liveAt says the counter of a slot's value is still in its window at the
// time at, from the slot alone; false when only its ring could tell.
func (sh *shard) liveAt(v uint64, at int64) bool {
	if v&(sideBit|hintFlag) != sideBit|hintFlag {
		return false
	}
	newest := sh.rings.base + int64(v>>hintRingBits&(1<<hintBits-1))<<hintShift
	return newest+keepOfCode(v>>codeShift&0xff) > at
}

// unpack reads a slot's value back into a cell.
func (sh *shard) unpack(v uint64) cell {
	c := cell{keep: v >> codeShift & 0xff}
	if v&sideBit != 0 {
		c.ring = ringOf(v)
		c.one = sh.rings.newest(c.ring)
		return c
	}
	c.one = int64(v & msMask)
	return c
}

// unpackRing is unpack without reading a ring's newest (c.one is 0 when
// c.ring is not): observe reads the ring itself.
func unpackRing(v uint64) cell {
	c := cell{keep: v >> codeShift & 0xff}
	if v&sideBit != 0 {
		c.ring = ringOf(v)
		return c
	}
	c.one = int64(v & msMask)
	return c
}

// expiry is when c is empty: its newest timestamp plus its window length.
func (c cell) expiry() int64 {
	return c.one + keepOfCode(c.keep)
}

// observe is window.observe for the cell c; a result of 0 leaves it empty, to
// be dropped (Store.count deletes its slot).
func (sh *shard) observe(c *cell, at, length int64, incr bool, maxN int) int64 {
	c.keep = keepCode(length)
	maxN = min(maxN, maxRingLen)
	if c.ring == 0 {
		switch {
		case c.one > max(at, c.one)-length && !incr:
			return 1
		case c.one <= max(at, c.one)-length && !incr:
			return 0
		case c.one <= max(at, c.one)-length, maxN <= 1:
			// the first in the window, or the counter is full and the
			// oldest goes: a late event's own time when it is older
			c.one = max(c.one, at)
			return 1
		}
		c.ring = sh.rings.add(c.one)
	}
	w := sh.rings.view(c.ring)
	n := w.observe(at, length, incr, maxN)
	switch w.n {
	case 0:
		sh.freeRing(c)
		return 0
	case 1:
		// Back to one: the ring is let go at once, not at the next sweep.
		one := w.at(0)
		sh.freeRing(c)
		c.one = one
	default:
		sh.rings.put(&w)
		c.one = w.newest()
	}
	return n
}

// freeRing gives c's ring back to the shard's pool.
func (sh *shard) freeRing(c *cell) {
	sh.rings.remove(c.ring)
	c.ring = 0
}

// The rings' sizes: a ring of class c holds 4<<c timestamps, up to
// maxRingLen (a counter keeps at most that many, whatever WithMaxPerKey).
const (
	maxRingClass = 28
	maxRingLen   = 4 << maxRingClass
)

// ringPool holds a shard's rings (the counters of more than one timestamp)
// in two arrays of 16-byte slots mapped outside the Go heap, as the tables
// are: a busy store holds hundreds of thousands of them for as long as its
// longest window, and on the heap each cost a ring header, a slice of its
// own and the collector's room on top (GOGC, bounded by vigie run). heads holds
// where a ring lies, its head and its length; blocks holds the timestamps,
// in blocks of 4, 8, 16... (2, 4, 8... slots), a ring in the smallest that
// holds it. A freed head or block waits, in a list threaded through the
// free ones themselves, for the next ring (of its size, for a block), so
// the pool keeps nothing on the heap, its arrays are the most it held at
// once, and all is given back once the shard holds no ring.
type ringPool struct {
	arena *arena
	// base is what the slots' bounds of the rings' newest count from
	// (pack), set by the first ring packed once the pool is empty.
	base  int64
	based bool
	// heads[i] is ring i+1 (cell.ring): fp its block's offset in blocks
	// (in slots, high 32 bits) and class (low 8 bits), v its head (high 32
	// bits) and length. A free head's v is 1 + the next free head's index,
	// 0 for none.
	heads    []slot
	nHeads   int    // heads in use or free; the rest is room
	freeHead uint32 // 1 + the first free head's index, 0 for none
	// blocks are the timestamps, two a slot. A free block's first slot's
	// fp is 1 + the offset of the next free block of its class, 0 for none.
	blocks []slot
	used   int
	free   [maxRingClass + 1]uint32 // 1 + the first free block's offset, by class
	// rings counts the rings held.
	rings int
}

// add returns 1 + the index of a new ring holding t.
func (p *ringPool) add(t int64) int32 {
	var i uint32
	if p.freeHead != 0 {
		i = p.freeHead - 1
		p.freeHead = uint32(p.heads[i].v)
	} else {
		if p.nHeads == len(p.heads) {
			p.heads = p.grow(p.heads, p.nHeads, p.nHeads+1)
		}
		i = uint32(p.nHeads)
		p.nHeads++
	}
	p.rings++
	off := p.block(0)
	p.blocks[off] = slot{fp: uint64(t)}
	p.heads[i] = slot{fp: uint64(off) << 32, v: 1}
	return int32(i + 1)
}

// view returns ring r (1 + its index) in place: valid until the pool is
// next changed other than through it, and written back by put.
func (p *ringPool) view(r int32) window {
	h := p.heads[r-1]
	off, class := int(h.fp>>32), int(h.fp&0xff)
	return window{
		buf:  p.timestamps(off, class),
		head: int(h.v >> 32),
		n:    int(uint32(h.v)),
		pool: p,
		ring: r,
	}
}

// newest is ring r's newest timestamp.
func (p *ringPool) newest(r int32) int64 {
	w := p.view(r)
	return w.newest()
}

// put writes w's head and length back into its ring's head, when they
// changed: a counter only read (a space's, which every event reads) leaves
// the head's cache line as it was, shared by the cores that read it.
func (p *ringPool) put(w *window) {
	h := &p.heads[w.ring-1]
	if v := uint64(w.head)<<32 | uint64(w.n); h.v != v {
		h.v = v
	}
}

// remove frees ring r.
func (p *ringPool) remove(r int32) {
	i := uint32(r - 1)
	h := p.heads[i]
	p.release(int(h.fp>>32), int(h.fp&0xff))
	p.heads[i] = slot{v: uint64(p.freeHead)}
	p.freeHead = i + 1
	if p.rings--; p.rings == 0 {
		p.arena.free(p.heads)
		p.arena.free(p.blocks)
		*p = ringPool{arena: p.arena}
	}
}

// enlarge moves w's timestamps to a block twice as large, oldest first.
func (p *ringPool) enlarge(w *window) {
	h := p.heads[w.ring-1]
	off, class := int(h.fp>>32), int(h.fp&0xff)
	// The block is taken before the old one is read again: a growth of
	// blocks moves them (and leaves w.buf where they were).
	nOff := p.block(class + 1)
	old, nb := p.timestamps(off, class), p.timestamps(nOff, class+1)
	for i := range w.n {
		nb[i] = old[(w.head+i)&(len(old)-1)]
	}
	p.release(off, class)
	p.heads[w.ring-1].fp = uint64(nOff)<<32 | uint64(class+1)
	w.buf, w.head = nb, 0
}

// timestamps is the block of class c at off, as timestamps.
func (p *ringPool) timestamps(off, c int) []int64 {
	b := p.blocks[off : off+2<<c]
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(b))), 4<<c)
}

// block returns the offset of a free block of class c.
func (p *ringPool) block(c int) int {
	if f := p.free[c]; f != 0 {
		p.free[c] = uint32(p.blocks[f-1].fp)
		return int(f - 1)
	}
	size := 2 << c
	if p.used+size > len(p.blocks) {
		p.blocks = p.grow(p.blocks, p.used, p.used+size)
	}
	off := p.used
	p.used += size
	return off
}

func (p *ringPool) release(off, c int) {
	p.blocks[off].fp = uint64(p.free[c])
	p.free[c] = uint32(off + 1)
}

// grow returns s, of which used slots are in use, moved to room for at
// least need, doubling.
func (p *ringPool) grow(s []slot, used, need int) []slot {
	ns := p.arena.alloc(max(64, 2*len(s), need))
	copy(ns, s[:used])
	p.arena.free(s)
	return ns
}

// window is the timestamps (unix ms) of a counter that holds more than one,
// ascending, in a ring of its shard's pool that grows by doubling up to the
// per-key cap.
type window struct {
	buf  []int64 // len is a power of two
	head int
	n    int
	pool *ringPool
	ring int32 // 1 + the ring's index in pool
}

func (w *window) at(i int) int64 { return w.buf[(w.head+i)&(len(w.buf)-1)] }

func (w *window) newest() int64 { return w.at(w.n - 1) }

// observe drops what left the window, adds at when incr, and returns how many
// timestamps are newer than at-length. Timestamps after at count too: live, two
// events evaluated at once read the clock in one order and reach the store in the
// other, and the later-stamped one is no less in the window. Replayed events come
// in order, so there is then nothing after at.
func (w *window) observe(at, length int64, incr bool, maxN int) int64 {
	horizon := at - length
	if w.n > 0 {
		// An event older than the newest must not prune what the newest still needs.
		horizon = max(at, w.newest()) - length
	}
	for w.n > 0 && w.buf[w.head] <= horizon {
		w.head = (w.head + 1) & (len(w.buf) - 1)
		w.n--
	}
	if incr {
		w.insert(at, maxN)
	}
	if w.n == 0 {
		return 0
	}
	if w.buf[w.head] > at-length {
		return int64(w.n) // the usual case: everything kept is in the window
	}
	return int64(w.n - w.upper(at-length))
}

// upper returns the number of timestamps <= t.
func (w *window) upper(t int64) int {
	lo, hi := 0, w.n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if w.at(m) <= t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (w *window) insert(t int64, maxN int) {
	if w.n >= maxN {
		// Full: the oldest goes, so the counter saturates at maxN. A late
		// event older than every one kept is that oldest: left out, not
		// let in in place of a newer one.
		if t <= w.at(0) {
			return
		}
		w.head = (w.head + 1) & (len(w.buf) - 1)
		w.n--
	}
	if w.n == len(w.buf) {
		w.grow()
	}
	mask := len(w.buf) - 1
	i := w.n
	// Events mostly come in order; a late one is slid into place.
	for i > 0 && w.at(i-1) > t {
		w.buf[(w.head+i)&mask] = w.at(i - 1)
		i--
	}
	w.buf[(w.head+i)&mask] = t
	w.n++
}

func (w *window) grow() { w.pool.enlarge(w) }

// fifo is a growable ring of seen ids in the order they were first seen, so that
// expiry and the cap pop from the front without scanning the map.
type fifo struct {
	// arena maps buf outside the Go heap once it is large (a million ids
	// take 16 MB, which the collector's room would count three times).
	arena *arena
	buf   []slot
	head  int
	n     int
}

func (q *fifo) push(it seenItem) {
	if q.n == len(q.buf) {
		nb := q.arena.alloc(max(16, 2*len(q.buf)))
		for i := range q.n {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.arena.free(q.buf)
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = slot(it)
	q.n++
}

func (q *fifo) peek() seenItem { return seenItem(q.buf[q.head]) }

func (q *fifo) pop() seenItem {
	it := seenItem(q.buf[q.head])
	q.buf[q.head] = slot{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	if q.n == 0 && len(q.buf) > 1024 {
		q.arena.free(q.buf) // give a burst's memory back
		q.buf, q.head = nil, 0
	}
	return it
}
