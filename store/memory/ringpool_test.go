//go:build unix

package memory

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The counters' rings against a plain model, a sorted slice of timestamps
// per counter: counters read and counted at random times, late events among
// them, up to their cap, give the model's counts as their cells go from one
// timestamp to a ring of the pool and back, the rings grow, are freed and
// taken again; and the pool gives all its memory back once no counter
// holds a ring.
func TestRingPool(t *testing.T) {
	const sec = int64(1000)
	for _, tc := range []struct {
		name     string
		counters int
		perSec   int // how often a counter is seen, a second of the clock
		steps    int
		maxN     int
		mapped   bool // the pool's arrays outgrow the heap's (mappedMin)
	}{
		{"few counters", 40, 1, 20_000, 5, false},
		{"counters past the mapped size", 30_000, 1, 1_500_000, 12, true},
		{"long rings", 60, 50, 200_000, 700, false},
		{"one timestamp each", 500, 1, 20_000, 1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newArena()
			sh := &shard{}
			sh.rings.arena = a
			rnd := rand.New(rand.NewPCG(3, uint64(tc.counters)))
			cells := make([]uint64, tc.counters) // packed, as the table keeps them; 0 is none
			model := make([][]int64, tc.counters)
			lengths := make([]int64, tc.counters)
			for i := range lengths {
				lengths[i] = (1 + rnd.Int64N(20)) * sec
			}
			// modelObserve is window.observe on a plain sorted slice.
			modelObserve := func(ts []int64, at, length int64, incr bool) ([]int64, int64) {
				if len(ts) > 0 {
					horizon := max(at, ts[len(ts)-1]) - length
					ts = slices.DeleteFunc(ts, func(x int64) bool { return x <= horizon })
				}
				switch {
				case !incr:
				case len(ts) >= tc.maxN && at <= ts[0]:
					// full, and the late event is the oldest: it is the one left out
				default:
					if len(ts) >= tc.maxN {
						ts = ts[1:]
					}
					i, _ := slices.BinarySearch(ts, at+1) // after those equal, as insert does
					ts = slices.Insert(ts, i, at)
				}
				var n int64
				for _, x := range ts {
					if x > at-length {
						n++
					}
				}
				return ts, n
			}
			rings, told := 0, 0
			now := int64(1_000_000) * sec
			for step := range tc.steps {
				i := rnd.IntN(tc.counters)
				if step%(tc.counters*tc.perSec) == 0 {
					now += sec // windows of 1 to 20 s fill, and some empty between two sightings
				}
				at := now
				if rnd.IntN(8) == 0 {
					at -= rnd.Int64N(5 * sec) // a late event
				}
				incr := rnd.IntN(4) != 0
				var got int64
				if cells[i] == 0 {
					if !incr {
						continue // Observe reads 0 without a cell
					}
					c := cell{one: at, keep: keepCode(lengths[i])}
					cells[i], got = c.pack(7), 1
				} else {
					// as Store.count reads and writes a slot
					c := unpackRing(cells[i])
					was := c.ring != 0
					got = sh.observe(&c, at, lengths[i], incr, tc.maxN)
					if c.ring != 0 && !was {
						rings++
					} else if c.ring == 0 && was {
						rings--
					}
					cells[i] = sh.rings.pack(c, 7)
					if got == 0 {
						cells[i] = 0
					}
				}
				// what a sweep tells from the slot alone is what the ring says
				if v := cells[i]; v != 0 {
					c := sh.unpack(v)
					for _, dt := range []int64{0, sec, 7 * sec, 19 * sec, 40 * sec, 100 * sec} {
						if sh.liveAt(v, now+dt) {
							told++
							if c.expiry() <= now+dt {
								t.Fatalf("step %d: counter %d told live at %d from its slot, expires at %d", step, i, now+dt, c.expiry())
							}
						}
					}
				}
				var want int64
				model[i], want = modelObserve(model[i], at, lengths[i], incr)
				if got != want {
					t.Fatalf("step %d: counter %d at %d counts %d, want %d (model %v)", step, i, at, got, want, model[i])
				}
				if got == 0 {
					model[i] = nil
				} else if c := sh.unpack(cells[i]); c.one != model[i][len(model[i])-1] {
					t.Fatalf("step %d: counter %d newest %d, want %d", step, i, c.one, model[i][len(model[i])-1])
				}
				if sh.rings.rings != rings {
					t.Fatalf("step %d: pool holds %d rings, the counters %d", step, sh.rings.rings, rings)
				}
				if step%(tc.steps/20) == 0 {
					checkRingPool(t, &sh.rings)
				}
			}
			checkRingPool(t, &sh.rings)
			if told == 0 && tc.maxN > 1 {
				t.Errorf("no ring told live from its slot")
			}
			if tc.maxN == 1 && sh.rings.blocks != nil {
				t.Errorf("counters of one timestamp took %d slots of rings", len(sh.rings.blocks))
			}
			if tc.mapped && len(a.live) == 0 {
				t.Errorf("%d rings in %d heads and %d blocks, none mapped outside the heap", rings, len(sh.rings.heads), len(sh.rings.blocks))
			}
			// Every counter read past its window: the pool empties.
			for i, v := range cells {
				if v == 0 {
					continue
				}
				c := sh.unpack(v)
				if n := sh.observe(&c, now+100*sec, lengths[i], false, tc.maxN); n != 0 {
					t.Fatalf("counter %d counts %d past its window", i, n)
				}
			}
			if sh.rings.rings != 0 || len(a.live) != 0 || sh.rings.heads != nil || sh.rings.blocks != nil {
				t.Errorf("empty pool: %d rings, %d mappings live, %d heads and %d blocks kept; want none", sh.rings.rings, len(a.live), len(sh.rings.heads), len(sh.rings.blocks))
			}
		})
	}
}

// checkRingPool: every head and every slot of blocks in use is a ring's or
// on a free list, none lost and none twice.
func checkRingPool(t *testing.T, p *ringPool) {
	t.Helper()
	freeHeads := map[uint32]bool{}
	for f := p.freeHead; f != 0; f = uint32(p.heads[f-1].v) {
		if freeHeads[f-1] {
			t.Fatalf("head %d twice in the free list", f-1)
		}
		freeHeads[f-1] = true
	}
	owner := make([]int, p.used) // 1 + the ring, or -1 free, by slot
	take := func(off, c, who int) {
		for j := off; j < off+2<<c; j++ {
			if owner[j] != 0 {
				t.Fatalf("slot %d of blocks is %d's and %d's", j, owner[j], who)
			}
			owner[j] = who
		}
	}
	for c, f := range p.free {
		for ; f != 0; f = uint32(p.blocks[f-1].fp) {
			take(int(f-1), c, -1)
		}
	}
	live := 0
	for i := range p.nHeads {
		if freeHeads[uint32(i)] {
			continue
		}
		live++
		h := p.heads[i]
		take(int(h.fp>>32), int(h.fp&0xff), i+1)
		if n := int(uint32(h.v)); n < 2 || n > 4<<(h.fp&0xff) {
			t.Fatalf("ring %d holds %d timestamps in a block of %d", i+1, n, 4<<(h.fp&0xff))
		}
	}
	if live != p.rings {
		t.Fatalf("%d heads in use, %d rings", live, p.rings)
	}
	for j, o := range owner {
		if o == 0 {
			t.Fatalf("slot %d of %d in blocks is neither a ring's nor free", j, p.used)
		}
	}
}

// TestRingHint: a ring's slot names its ring whether or not the bound of
// its newest fits beside it, and the bound is one only within its range.
func TestRingHint(t *testing.T) {
	var p ringPool
	const at = int64(1_800_000_000_000)
	for _, tc := range []struct {
		ring  int32
		one   int64
		hint  bool
		bound int64 // what the slot says of the newest, when hint
	}{
		{ring: 1, one: at, hint: true},
		{ring: 5, one: at + 123_456, hint: true},
		{ring: 1<<hintRingBits - 1, one: at - 1000, hint: true},
		{ring: 1 << hintRingBits, one: at, hint: false}, // too many rings for the bound
		{ring: 1<<31 - 1, one: at, hint: false},
		{ring: 7, one: at - 1<<(hintBits+hintShift-1) - 1, hint: false}, // before the base
		{ring: 7, one: at + 1<<(hintBits+hintShift-1), hint: false},     // past the range
	} {
		c := cell{one: tc.one, keep: keepCode(600_000), ring: tc.ring}
		v := p.pack(c, 9)
		if got := ringOf(v); got != tc.ring {
			t.Errorf("ring %d packed is ring %d", tc.ring, got)
		}
		if v>>tagShift&tagMask != 9 || v&sideBit == 0 || v>>codeShift&0xff != c.keep {
			t.Errorf("ring %d: slot %#x lost its tag, side bit or window", tc.ring, v)
		}
		if (v&hintFlag != 0) != tc.hint {
			t.Errorf("ring %d newest %d: bound in the slot %v, want %v", tc.ring, tc.one, v&hintFlag != 0, tc.hint)
		}
		sh := &shard{rings: p}
		exp := c.expiry()
		if sh.liveAt(v, exp) || sh.liveAt(v, exp+1) {
			t.Errorf("ring %d told live at its expiry %d", tc.ring, exp)
		}
		if tc.hint && !sh.liveAt(v, exp-1<<hintShift) {
			t.Errorf("ring %d not told live %d ms before its expiry", tc.ring, 1<<hintShift)
		}
	}
}
