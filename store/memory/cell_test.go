package memory

import (
	"math/rand/v2"
	"testing"
	"unsafe"
)

// TestCell follows one counter from one timestamp to a ring and back: the
// counts are those a ring alone would give, and the ring is given back as soon as one
// timestamp is left.
func TestCell(t *testing.T) {
	const sec = int64(1000) // in milliseconds
	const length = 10 * sec
	steps := []struct {
		at     int64
		incr   bool
		want   int64
		ring   bool
		wantEx int64
	}{
		{at: 100 * sec, incr: true, want: 1, wantEx: 110 * sec}, // how Observe makes a cell
		{at: 103 * sec, want: 1, wantEx: 110 * sec},             // read only
		{at: 105 * sec, incr: true, want: 2, ring: true, wantEx: 115 * sec},
		{at: 104 * sec, incr: true, want: 3, ring: true, wantEx: 115 * sec}, // a late one
		{at: 114 * sec, want: 1, wantEx: 115 * sec},                         // 100 and 104 left: back to one
		{at: 126 * sec, want: 0},                                            // empty
	}
	c := cell{one: 100 * sec, keep: keepCode(length)}
	sh := &shard{}
	for i, s := range steps[1:] {
		got := sh.observe(&c, s.at, length, s.incr, 100)
		if got != s.want || (c.ring != 0) != s.ring || (got > 0 && c.expiry() != s.wantEx) {
			t.Fatalf("step %d at %d: count %d ring %v expiry %d; want %d ring %v expiry %d",
				i+1, s.at, got, c.ring != 0, c.expiry(), s.want, s.ring, s.wantEx)
		}
		// what the slot keeps gives the same cell back
		if got > 0 {
			if back := sh.unpack(c.pack(5)); back != c {
				t.Fatalf("step %d: cell %+v is %+v once packed", i+1, c, back)
			}
		}
	}
	if sh.rings.rings != 0 || sh.rings.heads != nil || sh.rings.blocks != nil {
		t.Errorf("%d rings in %d heads and %d blocks; want the one given back", sh.rings.rings, len(sh.rings.heads), len(sh.rings.blocks))
	}
}

// TestKeepCode: a window is kept at least as long as it lasts, at most a
// quarter longer.
func TestKeepCode(t *testing.T) {
	for _, ms := range []int64{0, 1, 999, 1000, 7000, 8000, 9500, 10_000, 60_000, 600_000, 3_600_000, 86_400_000, 30 * 86_400_000, 1 << 40} {
		got := keepOfCode(keepCode(ms))
		if got < ms || got > ms+ms/4+1000 {
			t.Errorf("window %d ms is kept %d ms", ms, got)
		}
	}
}

// TestTable runs random inserts, deletions and sweeps against a Go map:
// every key stays found after the entries before it were shifted back, and
// none comes back once deleted.
func TestTable(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	var tb table
	want := map[uint64]uint64{}
	// few distinct fingerprints, so that runs are long and wrap around
	keys := make([]uint64, 3000)
	for i := range keys {
		keys[i] = rnd.Uint64() | 1
		if i%3 == 0 {
			keys[i] = ^(uint64(i) << 50) // crowded at the end of the table: runs wrap around
		}
	}
	check := func(step int) {
		t.Helper()
		if tb.len() != len(want) {
			t.Fatalf("step %d: table holds %d, want %d", step, tb.len(), len(want))
		}
		for _, fp := range keys {
			i := tb.find(fp, 3)
			v, ok := want[fp]
			if (i >= 0) != ok || ok && tb.at(i).v != v {
				t.Fatalf("step %d: key %x found at %d, want %v", step, fp, i, ok)
			}
		}
	}
	for step := range 20_000 {
		fp := keys[rnd.IntN(len(keys))]
		i := tb.find(fp, 3)
		switch {
		case i < 0:
			v := tagged(3, uint64(step))
			tb.insert(fp, v, 0)
			want[fp] = v
		case rnd.IntN(2) == 0:
			tb.del(i)
			delete(want, fp)
		}
		if step%2000 == 1999 {
			check(step)
			tb.deleteFunc(func(s slot) bool { return s.fp%3 == 0 })
			for k := range want {
				if k%3 == 0 {
					delete(want, k)
				}
			}
			check(step)
		}
	}
	tb.deleteFunc(func(slot) bool { return true })
	if tb.len() != 0 || len(tb.cur.slots) > 64 || len(tb.old.slots) > 0 {
		t.Errorf("emptied table holds %d in %d+%d slots", tb.len(), len(tb.cur.slots), len(tb.old.slots))
	}
}

// TestTableSizings: a dense table grows once nine tenths of its slots would
// be used, by a quarter; a roomy one at four fifths, to twice its length; both find
// every key they were given.
func TestTableSizings(t *testing.T) {
	for _, tc := range []struct {
		name       string
		tb         table
		full, grow int
	}{
		{"dense", table{}, 90, 125},
		{"roomy", table{full: roomyFull, grow: roomyGrow}, 80, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tb := tc.tb
			fps := make([]uint64, 5000)
			grown := 0
			for i := range fps {
				fps[i] = uint64(i+1)*0x9E3779B97F4A7C15 | 1
				n := len(tb.cur.slots)
				tb.insert(fps[i], tagged(3, uint64(i)), 0)
				if m := len(tb.cur.slots); m != n && n > 0 {
					grown++
					if want := max(16, n*tc.grow/100); m != want {
						t.Fatalf("%d slots grew to %d; want %d", n, m, want)
					}
					if (i+1)*100 <= n*tc.full {
						t.Fatalf("%d slots grew with %d entries, before %d%% of them were used", n, i+1, tc.full)
					}
				}
				if tb.len()*100 > len(tb.cur.slots)*tc.full {
					t.Fatalf("%d entries in %d slots: more than %d%%", tb.len(), len(tb.cur.slots), tc.full)
				}
			}
			if grown == 0 {
				t.Fatal("the table never grew")
			}
			for i, fp := range fps {
				if j := tb.find(fp, 3); j < 0 || tb.at(j).v != tagged(3, uint64(i)) {
					t.Fatalf("key %d not found", i)
				}
			}
		})
	}
}

// TestSweepGivesTableBack: once a burst's counters expired, the sweep
// shrinks the shard's table.
func TestSweepGivesTableBack(t *testing.T) {
	sh := &shard{strikesExp: 1 << 62}
	for i := range 10_000 {
		c := cell{one: int64(i) * 1000, keep: keepCode(10_000)}
		sh.windows.insert(uint64(i)*0x9E3779B97F4A7C15|1, c.pack(0), 10_000)
	}
	big := len(sh.windows.cur.slots)
	sh.sweep(9_000 * 1000)
	if sh.windows.len() != 1009 {
		t.Fatalf("%d windows left; want 1009", sh.windows.len())
	}
	if len(sh.windows.cur.slots)+len(sh.windows.old.slots) >= big/4 {
		t.Errorf("the table kept %d+%d slots of %d for 1009 windows", len(sh.windows.cur.slots), len(sh.windows.old.slots), big)
	}
}

// TestTableMoves grows a table through several moves to a new array and
// shrinks it back, with lookups, deletions and sweeps while a move is under
// way, against a Go map: every key is found with its value, none comes back
// once deleted, and the old array is given back once empty.
func TestTableMoves(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	tb := table{arena: newArena()}
	defer tb.arena.release()
	want := map[uint64]uint64{}
	keys := make([]uint64, 0, 20_000)
	fresh := func() uint64 {
		fp := rnd.Uint64() | 1
		if len(keys)%5 == 0 {
			fp = ^(uint64(len(keys)) << 44) // crowded at the end of the array: runs wrap around
		}
		keys = append(keys, fp)
		return fp
	}
	var checks, midMove, moves int
	check := func(what string) {
		t.Helper()
		checks++
		if tb.old.n > 0 {
			midMove++
		}
		if tb.len() != len(want) {
			t.Fatalf("%s: table holds %d, want %d", what, tb.len(), len(want))
		}
		for _, fp := range keys {
			i := tb.find(fp, 3)
			v, ok := want[fp]
			if (i >= 0) != ok || ok && tb.at(i).v != v {
				t.Fatalf("%s: key %x found at %d, want %v (move under way: %v)", what, fp, i, ok, tb.old.n > 0)
			}
		}
	}
	sweep := func(dead func(fp uint64) bool) {
		tb.deleteFunc(func(s slot) bool { return dead(s.fp) })
		for k := range want {
			if dead(k) {
				delete(want, k)
			}
		}
	}
	del := func() {
		for fp := range want { // a random key of the map
			tb.del(tb.find(fp, 3))
			delete(want, fp)
			return
		}
	}
	size := len(tb.cur.slots)
	step := 0
	op := func() {
		step++
		switch r := rnd.IntN(10); {
		case r < 7:
			fp := fresh()
			v := tagged(3, uint64(step))
			tb.insert(fp, v, 0)
			want[fp] = v
		case r < 9:
			del()
		default:
			// a key of the table written in place, as Observe does
			if fp := keys[rnd.IntN(len(keys))]; want[fp] != 0 {
				i := tb.find(fp, 3)
				want[fp] = tagged(3, uint64(step))
				tb.at(i).v = want[fp]
			}
		}
		if len(tb.cur.slots) != size {
			size = len(tb.cur.slots)
			moves++
		}
		if tb.old.n > 0 && step%11 == 0 {
			check("mid-move")
			sweep(func(fp uint64) bool { return fp%7 == 0 })
			check("swept mid-move")
		}
		if step%1000 == 0 {
			check("step")
		}
	}
	for range 3 {
		for tb.len() < 1500 {
			op()
		}
		// the plan expects more: the next growth goes straight to room for it
		tb.want = 4000
		for tb.len() < 3000 {
			op()
		}
		tb.want = 0
		// back down: the sweeps shrink it
		for tb.len() > 200 {
			del()
			if rnd.IntN(50) == 0 {
				op()
			}
		}
		sweep(func(fp uint64) bool { return fp%3 == 0 })
		check("shrunk")
		if len(tb.cur.slots) > 8*tb.len() || len(tb.old.slots) != 0 {
			t.Errorf("%d entries kept in %d+%d slots after the sweep", tb.len(), len(tb.cur.slots), len(tb.old.slots))
		}
	}
	if n := len(tb.arena.live); n > 2 {
		t.Errorf("%d mappings live, want at most the two arrays", n)
	}
	if moves < 10 || midMove < 10 {
		t.Errorf("%d moves, %d checks of %d while one was under way: the test did not test moves", moves, midMove, checks)
	}
	t.Logf("%d moves, %d checks, %d while a move was under way", moves, checks, midMove)
}

// TestPlanSizesTable: counters arriving at a steady rate make the table
// grow, after the first minute, straight to the room the rate times their
// window needs; once they stop and expire, the sweep gives the room back.
func TestPlanSizesTable(t *testing.T) {
	const minute = int64(60_000)
	const window, perMinute = 10 * minute, 2000
	sh := &shard{strikesExp: 1 << 62}
	var sizes []int
	fp := uint64(0)
	for m := range int64(5) {
		for i := range int64(perMinute) {
			at := 1_000_000 + m*minute + i*minute/perMinute
			if i == 0 {
				sh.sweep(at)
			}
			fp += 0x9E3779B97F4A7C15
			c := cell{one: at, keep: keepCode(window)}
			sh.windows.insert(fp|1, c.pack(0), keepOfCode(c.keep)+minute)
		}
		sizes = append(sizes, len(sh.windows.cur.slots))
	}
	// 2000 a minute living 640 s and a minute's sweep: about 23,300
	need := int(perMinute * (keepOfCode(keepCode(window)) + minute) / minute)
	if sh.windows.want < need*9/10 || sh.windows.want > need*11/10 {
		t.Errorf("the table expects %d entries, want about %d", sh.windows.want, need)
	}
	if sizes[1] < need || sizes[4] != sizes[1] {
		t.Errorf("slots at the end of each minute %v: want room for %d from the second minute on, no growth after", sizes, need)
	}
	// no more arrivals: the next sweeps learn it, and drop the counters
	// once expired
	sh.sweep(1_000_000 + 6*minute)
	sh.sweep(1_000_000 + 20*minute)
	if n, slots := sh.windows.len(), len(sh.windows.cur.slots)+len(sh.windows.old.slots); n != 0 || slots > 64 {
		t.Errorf("%d counters in %d slots after they expired; want none in at most 64", n, slots)
	}
}

// TestShardLayout: a shard fills whole cache lines and the default store's
// shards each begin one, with what an observation reads after taking a
// shard's lock (when the sweep is due, the counters' table's arrays and
// counts) in the lock's line.
func TestShardLayout(t *testing.T) {
	var sh shard
	if size := unsafe.Sizeof(sh); size%64 != 0 {
		t.Errorf("a shard is %d bytes, not a multiple of 64", size)
	}
	w := unsafe.Offsetof(sh.windows)
	for name, end := range map[string]uintptr{
		"nextSweep":       unsafe.Offsetof(sh.nextSweep) + 8,
		"windows.cur":     w + unsafe.Offsetof(sh.windows.cur) + unsafe.Sizeof(sh.windows.cur),
		"windows.old.len": w + unsafe.Offsetof(sh.windows.old) + 16,
	} {
		if end > 64 {
			t.Errorf("%s ends at byte %d of the shard, past the lock's line", name, end)
		}
	}
	s := New()
	if at := uintptr(unsafe.Pointer(&s.shards[0])); at%64 != 0 {
		t.Errorf("the shards begin at %#x, not on a cache line", at)
	}
}
