package memory

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
	// ring is 1 + the index of the cell's ring in shard.rings, 0 for none.
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

// unpack reads a slot's value back into a cell.
func (sh *shard) unpack(v uint64) cell {
	c := cell{keep: v >> codeShift & 0xff}
	if v&sideBit != 0 {
		c.ring = int32(uint32(v))
		c.one = sh.rings[c.ring-1].newest()
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
// be dropped (dropCell).
func (sh *shard) observe(c *cell, at, length int64, incr bool, maxN int) int64 {
	c.keep = keepCode(length)
	if c.ring == 0 {
		switch {
		case c.one > max(at, c.one)-length && !incr:
			return 1
		case c.one <= max(at, c.one)-length && !incr:
			return 0
		case c.one <= max(at, c.one)-length, maxN <= 1:
			c.one = at // the first in the window, or the counter is full and the oldest goes
			return 1
		}
		c.ring = sh.newRing(c.one)
	}
	w := &sh.rings[c.ring-1]
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
		c.one = w.newest()
	}
	return n
}

// newRing returns 1 + the index of a ring holding t.
func (sh *shard) newRing(t int64) int32 {
	var i int32
	if n := len(sh.freeRings); n > 0 {
		i, sh.freeRings = sh.freeRings[n-1], sh.freeRings[:n-1]
	} else {
		sh.rings = append(sh.rings, window{})
		i = int32(len(sh.rings) - 1)
	}
	w := &sh.rings[i]
	if len(w.buf) == 0 {
		w.buf = make([]int64, 4)
	}
	w.buf[0], w.head, w.n = t, 0, 1
	return i + 1
}

// freeRing gives c's ring back to the shard; a ring that grew large is let
// go, a small one is kept for the next counter.
func (sh *shard) freeRing(c *cell) {
	w := &sh.rings[c.ring-1]
	if len(w.buf) > 64 {
		w.buf = nil
	}
	w.head, w.n = 0, 0
	sh.freeRings = append(sh.freeRings, c.ring-1)
	c.ring = 0
}

// window is the timestamps (unix ms) of a counter that holds more than one,
// ascending, in a ring that grows by doubling up to the per-key cap.
type window struct {
	buf  []int64 // len is a power of two
	head int
	n    int
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
		// Full: the oldest goes, so the counter saturates at maxN.
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

func (w *window) grow() {
	// Powers of two up to the first one that holds maxN.
	nb := make([]int64, max(4, 2*len(w.buf)))
	for i := range w.n {
		nb[i] = w.at(i)
	}
	w.buf, w.head = nb, 0
}

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
