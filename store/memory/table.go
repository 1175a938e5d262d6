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
	// pendingBit marks a seen id's slot pending (store.Observation.Pending):
	// the ids' slots hold no code.
	pendingBit = uint64(1) << codeShift
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

// probe is an open-addressing hash table of 16-byte slots with linear
// probing, Robin Hood style: one allocation with no pointer for the garbage
// collector to follow, where a Go map of the same entries costs about three
// times as much (its groups, its load after growth, the tombstones of the
// keys deleted). An entry is placed so that a run holds its entries in the
// order of their homes: a lookup stops at the first entry further from home
// than it would be, so the table is filled to nine tenths before it grows. A
// deleted entry's followers are shifted back, so no tombstone is left, and
// the sweep drops the expired entries in place.
type probe struct {
	slots []slot
	n     int
}

// home is where fp's probe starts: fp scaled to the table's length (the
// length need not be a power of two).
func (p *probe) home(fp uint64) int {
	hi, _ := bits.Mul64(fp, uint64(len(p.slots)))
	return int(hi)
}

// dist is how far slot i is from fp's home.
func (p *probe) dist(i int, fp uint64) int {
	if d := i - p.home(fp); d >= 0 {
		return d
	}
	return i - p.home(fp) + len(p.slots)
}

func (p *probe) next(i int) int {
	if i++; i == len(p.slots) {
		return 0
	}
	return i
}

// find returns the index of fp with tag, or -1.
func (p *probe) find(fp, tag uint64) int {
	if p.n == 0 {
		return -1
	}
	for i, d := p.home(fp), 0; ; i, d = p.next(i), d+1 {
		// fp is not 0, and an entry of fp is as far from home as the
		// probe: the slot that holds it is taken before reading how far
		// from home another key's entry is
		s := &p.slots[i]
		if s.fp == fp && s.v>>tagShift&tagMask == tag {
			return i
		}
		if s.fp == 0 || p.dist(i, s.fp) < d {
			return -1
		}
	}
}

// place puts s in the first slot from its home whose entry is nearer to
// its own home than s would be (or that is empty), and moves the entries
// from there to the next empty slot on by one: the run stays in the order
// of its entries' homes, s after those of its own home. Moving the run at
// once costs a copy, where carrying each displaced entry on, slot by slot,
// read each one's home again. There must be an empty slot.
func (p *probe) place(s slot) {
	i, d := p.home(s.fp), 0
	for {
		o := p.slots[i].fp
		if o == 0 {
			p.slots[i] = s
			p.n++
			return
		}
		if p.dist(i, o) < d {
			break
		}
		i, d = p.next(i), d+1
	}
	e := p.next(i)
	for p.slots[e].fp != 0 {
		e = p.next(e)
	}
	if e > i {
		copy(p.slots[i+1:e+1], p.slots[i:e])
	} else {
		// the run wraps around the end of the array
		n := len(p.slots)
		copy(p.slots[1:e+1], p.slots[:e])
		p.slots[0] = p.slots[n-1]
		copy(p.slots[i+1:], p.slots[i:n-1])
	}
	p.slots[i] = s
	p.n++
}

// del empties slot i, shifting back the entries after it down to the first
// at its home or an empty slot, so that every probe still finds its key.
// Entries only ever move back into slot i and the ones after it.
func (p *probe) del(i int) {
	for {
		j := p.next(i)
		if s := p.slots[j]; s.fp == 0 || p.dist(j, s.fp) == 0 {
			p.slots[i] = slot{}
			p.n--
			return
		}
		p.slots[i] = p.slots[j]
		i = j
	}
}

// deleteFunc deletes the entries dead says to, in place, in one pass: each
// entry kept moves back once, as far as the slots emptied before it in its
// run and its home allow, where deleting each dead entry apart would shift
// the rest of its run back for each. The entries of a run keep their order,
// so every probe still finds its key.
func (p *probe) deleteFunc(dead func(s slot) bool) {
	if p.n == 0 {
		return
	}
	// From an empty slot on, once around; free is the first slot of the
	// run so far left empty by the entries dropped or moved.
	start := 0
	for p.slots[start].fp != 0 {
		start++
	}
	n := len(p.slots)
	free := p.next(start)
	for i, k := free, 0; k < n; i, k = p.next(i), k+1 {
		s := p.slots[i]
		switch {
		case s.fp == 0:
			free = p.next(i)
		case dead(s):
			p.slots[i] = slot{}
			p.n--
		case free == i:
			free = p.next(i)
		default:
			// back by the empty slots before it, but not before its home
			gap := i - free
			if gap < 0 {
				gap += n
			}
			to := i - min(gap, p.dist(i, s.fp))
			if to < 0 {
				to += n
			}
			if to != i {
				p.slots[to], p.slots[i] = s, slot{}
			}
			free = p.next(to)
		}
	}
}

// table is a probe that grows and shrinks a little at a time: moving a
// shard's 150,000 entries to a new array at once takes a few milliseconds,
// which the event that made it grow would wait. The new array (cur) takes
// the inserts at once; the old one keeps serving lookups while each insert
// and deletion moves the next few of its entries across (moveStep), so it
// is empty long before the new one fills. A lookup reads both.
//
// A table also learns how much it will hold: the shard tells it, with
// each new entry, how long the entry will live (insert's life), and once a
// sweep period, how long the period lasted (plan): the entries the table
// will hold are the rate of arrivals times their lives (Little's law), and
// a table that outgrows its array grows straight to the room they need. A
// hashed array's pages are all touched once it holds a few entries per
// page, so the resident memory reaches its plateau in the first minutes,
// not when the longest window first fills.
type table struct {
	cur probe
	// old is being moved into cur from slot moved on; it is empty (with no
	// slots) when no move is under way.
	old   probe
	moved int
	// arena is where the slots come from; nil takes them from the heap.
	arena *arena

	// arrived sums, in milliseconds, the lives of the entries inserted
	// since the plan at since; want is the entries the last plan expects.
	arrived int64
	since   int64
	want    int
	// horizon bounds the life plan counts for an entry (planHorizon when
	// 0). An entry is dropped at the first sweep after it expires, so a
	// table holds at least a sweep period of arrivals: a store that sweeps
	// every 6 hours (a replay) counts lives up to its period and an hour.
	// With an hour alone, its tables shrank to an hour's room at each sweep
	// and grew back by a quarter ten times before the next.
	horizon int64
	// full is the share of the array, in percent, whose use makes the
	// table grow, and grow its new length in percent of the old (90 and
	// 125 when 0): a fuller array costs longer probes, most of all for
	// the inserts, whose run of displaced entries grows as it fills.
	full, grow int
}

// Sizings of a table: dense, the default, keeps memory low; roomy trades
// more of it for shorter probes (WithRoomyTables).
const (
	denseFull, denseGrow = 90, 125
	roomyFull, roomyGrow = 80, 200
)

// sizing is the table's full and grow.
func (t *table) sizing() (full, grow int) {
	if t.full <= 0 {
		return denseFull, denseGrow
	}
	return t.full, t.grow
}

const (
	// moveStep is how many slots of the old array one insert or deletion
	// visits, moving the entries it finds: growing by a quarter, the old
	// array (nine tenths full) is empty after its length over 30 inserts,
	// well before the new one (a quarter larger) fills.
	moveStep = 64
	// planHorizon bounds the life plan counts for an entry: a table is
	// sized for what it will hold within this time at the rate observed,
	// not for a day of 24-hour counters.
	planHorizon = int64(time.Hour / time.Millisecond)
	// planMin is the shortest period plan learns a rate from.
	planMin = int64(10 * time.Second / time.Millisecond)
)

// len is the number of entries.
func (t *table) len() int { return t.cur.n + t.old.n }

// find returns a reference to the slot of fp with tag, or -1: below
// len(t.cur.slots) it is in cur, above in old. It stays valid until the
// next insert or deletion.
func (t *table) find(fp, tag uint64) int {
	if i := t.cur.find(fp, tag); i >= 0 {
		return i
	}
	if len(t.old.slots) > 0 { // a move under way; read beside cur, not old.n
		if i := t.old.find(fp, tag); i >= 0 {
			return len(t.cur.slots) + i
		}
	}
	return -1
}

// at is the slot of a reference from find.
func (t *table) at(i int) *slot {
	if i < len(t.cur.slots) {
		return &t.cur.slots[i]
	}
	return &t.old.slots[i-len(t.cur.slots)]
}

// insert adds fp, not in the table, to live for life milliseconds (for
// plan); v carries the tag already. The table grows once full percent of
// its array would be used (nine tenths by default): by a quarter (grow), or
// to the room plan expects it to need.
func (t *table) insert(fp, v uint64, life int64) {
	horizon := t.horizon
	if horizon <= 0 {
		horizon = planHorizon
	}
	t.arrived += min(max(life, 0), horizon)
	t.moveOn(moveStep)
	full, grow := t.sizing()
	if (t.len()+1)*100 > len(t.cur.slots)*full {
		// A move still under way is done first; with moveStep it is
		// over long before.
		t.moveOn(len(t.old.slots) + t.old.n)
		t.resize(max(16, len(t.cur.slots)*grow/100, t.want*grow/100))
	}
	t.cur.place(slot{fp, v})
}

// del deletes the entry of a reference from find.
func (t *table) del(i int) {
	if i < len(t.cur.slots) {
		t.cur.del(i)
	} else {
		t.old.del(i - len(t.cur.slots))
	}
	t.moveOn(moveStep)
}

// neighbours calls fn with the entries of the first k slots from fp's home,
// in each array holding entries (more slots until one holds an entry).
func (t *table) neighbours(fp uint64, k int, fn func(i int, s slot)) {
	near := func(p *probe, base int) {
		if p.n == 0 {
			return
		}
		seen := false
		for i, j := p.home(fp), 0; j < k || !seen; i, j = p.next(i), j+1 {
			if s := p.slots[i]; s.fp != 0 {
				fn(base+i, s)
				seen = true
			}
		}
	}
	near(&t.cur, 0)
	near(&t.old, len(t.cur.slots))
}

// moveOn moves entries of the old array into cur, visiting at most budget
// of its slots (a little more to finish a run). The old array stays a valid
// probe throughout: its entries leave with the rest of their run, and a
// deletion only shifts entries back into the slot just emptied and after it,
// so the slots before moved stay empty.
func (t *table) moveOn(budget int) {
	p := &t.old
	if len(p.slots) == 0 {
		return
	}
	for budget > 0 && p.n > 0 {
		i := t.moved
		// The entries from moved to the next empty slot are the end of
		// their run: no entry left in the array lies beyond them on its
		// probe, so they leave together, each slot emptied once, where
		// deleting them one by one would shift the rest of the run back
		// for each.
		for ; p.slots[i].fp != 0; i, budget = p.next(i), budget-1 {
			t.cur.place(p.slots[i])
			p.slots[i] = slot{}
			p.n--
		}
		if i == t.moved {
			i, budget = p.next(i), budget-1
		}
		t.moved = i
	}
	if p.n == 0 {
		t.arena.free(p.slots)
		t.old, t.moved = probe{}, 0
	}
}

// resize starts moving every entry to a new array of n slots.
func (t *table) resize(n int) {
	t.moveOn(len(t.old.slots) + t.old.n)
	t.old, t.moved = t.cur, 0
	t.cur = probe{slots: t.arena.allocFilled(n)}
	if t.old.n == 0 {
		t.arena.free(t.old.slots)
		t.old = probe{}
	}
}

// deleteFunc deletes the entries dead says to, in both arrays; dead may
// give back what the entry holds on the side. It then shrinks the table if
// it is left mostly empty and the plan does not expect it to fill again.
func (t *table) deleteFunc(dead func(s slot) bool) {
	t.cur.deleteFunc(dead)
	t.old.deleteFunc(dead)
	t.moveOn(moveStep)
	t.shrink()
}

// shrink gives back the room of a table left mostly empty (after a burst).
// It moves the entries left at once: it comes after a sweep, which read
// every slot, and they are fewer than a quarter of them.
func (t *table) shrink() {
	n := len(t.cur.slots)
	if t.old.n > 0 || n <= 64 || t.cur.n*4 >= n {
		return
	}
	_, grow := t.sizing()
	if to := max(16, t.cur.n*3/2, t.want*grow/100); to*2 <= n {
		t.resize(to)
		t.moveOn(len(t.old.slots) + t.old.n)
	}
}

// plan ends the period since the last plan at the time at (milliseconds):
// the table expects to hold the lives of the entries that arrived in it
// over its length, at most limit.
// A period shorter than planMin (a sweep of every shard soon after the
// events swept them) is not enough to learn a rate from: it is counted in
// the next one.
func (t *table) plan(at int64, limit int) {
	switch {
	case t.since == 0 || at < t.since:
		t.arrived, t.since = 0, at
	case at-t.since >= planMin:
		t.want = int(min(t.arrived/(at-t.since), int64(limit)))
		t.arrived, t.since = 0, at
	}
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
