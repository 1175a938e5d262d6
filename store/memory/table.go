package memory

import (
	"math/bits"
	"time"
)

// slot is one entry of a table: 64 bits of its key's hash and 64 bits of
// value, whose top bits (tagShift on) carry 13 more bits of the key's hash.
// A slot whose fp is 0 is empty.
type slot struct {
	fp, v uint64
}

// The layout of a slot's v, in every table: bit 63 says the value lives in
// a side list of the shard (a ring, a list of strikes), bits 50–62 are the
// tag, the rest is the table's own.
const (
	sideBit  = uint64(1) << 63
	tagShift = 50
	tagMask  = uint64(1)<<13 - 1
	// msMask bounds a timestamp in a slot: milliseconds since 1970, 42 bits,
	// up to the year 2109.
	msMask = uint64(1)<<42 - 1
	// codeShift is where a window's or a TTL's 8-bit code sits.
	codeShift = 42
)

// fpOf and tagOf are the parts of k a table keeps: 64 bits of its second word
// and 13 of its first, whose lowest bits picked the shard. Two keys of one
// shard are taken for one only if these 77 bits are equal: a lookup reads a
// few slots, each another key's with a chance of 2^-77 of matching.
func fpOf(k hkey) uint64 {
	if k[1] == 0 {
		return 1
	}
	return k[1]
}

func tagOf(k hkey) uint64 { return k[0] >> 32 & tagMask }

// tagged puts the tag into a value.
func tagged(tag, v uint64) uint64 { return tag<<tagShift | v }

// msOf is a time in milliseconds as a slot holds it, as the Redis store
// counts too; times before 1970 are 1970.
func msOf(t time.Time) int64 { return min(max(t.UnixMilli(), 0), int64(msMask)) }

// table is an open-addressing hash table of 16-byte slots with linear
// probing, Robin Hood style: one allocation per shard with no pointer for
// the garbage collector to follow, where a Go map of the same entries costs
// about three times as much (its groups, its load after growth, the
// tombstones of the keys deleted). An entry is placed so that a run holds
// its entries in the order of their homes: a lookup stops at the first entry
// further from home than it would be, so the table is filled to nine tenths
// before it grows, by a quarter. A deleted entry's followers are shifted
// back, so no tombstone is left, and the sweep drops the expired entries in
// place.
type table struct {
	slots []slot
	n     int
	// arena is where the slots come from; nil takes them from the heap.
	arena *arena
}

// home is where fp's probe starts: fp scaled to the table's length (the
// length need not be a power of two, so the table grows by half).
func (t *table) home(fp uint64) int {
	hi, _ := bits.Mul64(fp, uint64(len(t.slots)))
	return int(hi)
}

// dist is how far slot i is from fp's home.
func (t *table) dist(i int, fp uint64) int {
	if d := i - t.home(fp); d >= 0 {
		return d
	}
	return i - t.home(fp) + len(t.slots)
}

func (t *table) next(i int) int {
	if i++; i == len(t.slots) {
		return 0
	}
	return i
}

// find returns the index of fp with tag, or -1.
func (t *table) find(fp, tag uint64) int {
	if t.n == 0 {
		return -1
	}
	for i, d := t.home(fp), 0; ; i, d = t.next(i), d+1 {
		s := &t.slots[i]
		if s.fp == 0 || t.dist(i, s.fp) < d {
			return -1
		}
		if s.fp == fp && s.v>>tagShift&tagMask == tag {
			return i
		}
	}
}

// insert adds fp, not in the table; v carries the tag already. The table
// grows by a quarter once nine tenths are used.
func (t *table) insert(fp, v uint64) {
	if (t.n+1)*10 > len(t.slots)*9 {
		t.resize(max(16, len(t.slots)*5/4))
	}
	t.place(slot{fp, v})
}

// place puts s in the first slot from its home whose entry is nearer to
// its own home than s would be, and moves that entry on likewise.
func (t *table) place(s slot) {
	for i, d := t.home(s.fp), 0; ; i, d = t.next(i), d+1 {
		o := t.slots[i]
		if o.fp == 0 {
			t.slots[i] = s
			t.n++
			return
		}
		if od := t.dist(i, o.fp); od < d {
			t.slots[i], s, d = s, o, od
		}
	}
}

// del empties slot i, shifting back the entries after it down to the first
// at its home or an empty slot, so that every probe still finds its key.
func (t *table) del(i int) {
	for {
		j := t.next(i)
		if s := t.slots[j]; s.fp == 0 || t.dist(j, s.fp) == 0 {
			t.slots[i] = slot{}
			t.n--
			return
		}
		t.slots[i] = t.slots[j]
		i = j
	}
}

// deleteFunc deletes the entries dead says to, in place; dead may give back
// what the entry holds on the side. It then shrinks the table if it is left
// mostly empty.
func (t *table) deleteFunc(dead func(s slot) bool) {
	if t.n == 0 {
		return
	}
	// From an empty slot on, once around: a deletion only moves entries
	// back within their run, so each is seen once, the one moved into the
	// slot just emptied at once.
	start := 0
	for t.slots[start].fp != 0 {
		start++
	}
	for i, k := start, 0; k < len(t.slots); {
		if s := t.slots[i]; s.fp != 0 && dead(s) {
			t.del(i)
			continue
		}
		i = t.next(i)
		k++
	}
	t.shrink()
}

// shrink gives back the room of a table left mostly empty (after a burst).
func (t *table) shrink() {
	if len(t.slots) > 64 && t.n*4 < len(t.slots) {
		t.resize(max(16, t.n*3/2))
	}
}

func (t *table) resize(n int) {
	old := t.slots
	t.slots, t.n = t.arena.alloc(n), 0
	for _, s := range old {
		if s.fp != 0 {
			t.place(s)
		}
	}
	t.arena.free(old)
}

// keepCode is a length in milliseconds as an 8-bit code of seconds, 3 bits
// of mantissa and 5 of exponent, rounded up: a counter is kept at most a
// quarter longer than its window (640 s for 10 minutes), never shorter.
func keepCode(length int64) uint64 {
	s := uint64(max((length+999)/1000, 0))
	if s < 8 {
		return s
	}
	e := uint64(bits.Len64(s) - 3)
	m := (s + 1<<e - 1) >> e
	if m == 8 {
		e, m = e+1, 4
	}
	if e > 31 {
		return 31<<3 | 7
	}
	return e<<3 | m
}

// keepOfCode is the length in milliseconds of a keepCode.
func keepOfCode(c uint64) int64 { return int64(c&7) << (c >> 3) * 1000 }
