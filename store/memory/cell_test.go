package memory

import (
	"testing"
	"time"
)

// TestCell follows one counter from one timestamp to a ring and back: the
// counts are those a ring alone would give, and the ring is given back as soon as one
// timestamp is left.
func TestCell(t *testing.T) {
	const length = 10 * int64(time.Second)
	const sec = int64(time.Second)
	var c cell
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
	c = cell{one: 100 * sec, keep: 10}
	sh := &shard{}
	for i, s := range steps[1:] {
		got := sh.observe(&c, s.at, length, s.incr, 100)
		if got != s.want || (c.ring != 0) != s.ring || (got > 0 && c.expiry() != s.wantEx) {
			t.Fatalf("step %d at %d: count %d ring %v expiry %d; want %d ring %v expiry %d",
				i+1, s.at, got, c.ring != 0, c.expiry(), s.want, s.ring, s.wantEx)
		}
	}
	if len(sh.rings) != 1 || len(sh.freeRings) != 1 {
		t.Errorf("%d rings, %d free; want the one given back", len(sh.rings), len(sh.freeRings))
	}
}

// TestSweepGivesMapBack: once a burst's counters expired, the sweep rebuilds
// the shard's map, which Go would not shrink.
func TestSweepGivesMapBack(t *testing.T) {
	sh := &shard{windows: map[hkey]cell{}, seen: map[hkey]int64{}, strikes: map[hkey]strikeList{}, strikesExp: 1 << 62}
	for i := range 10_000 {
		sh.windows[hkey{uint64(i), 1}] = cell{one: int64(i) * int64(time.Second), keep: 10}
	}
	sh.peakWindows = len(sh.windows)
	old := sh.windows
	sh.sweep(9_000 * int64(time.Second))
	if len(sh.windows) != 1009 || sh.peakWindows != 1009 {
		t.Fatalf("%d windows left, peak %d; want 1009", len(sh.windows), sh.peakWindows)
	}
	old[hkey{1 << 40, 1}] = cell{}
	if _, ok := sh.windows[hkey{1 << 40, 1}]; ok {
		t.Error("the map was not rebuilt")
	}
}
