//go:build unix

package memory

import "testing"

// TestArena: a large table lives in one mapping at a time, the old one given
// back as it grows, and none once it shrank back to the heap's size.
func TestArena(t *testing.T) {
	a := newArena()
	tb := table{arena: a}
	for i := range 100_000 {
		tb.insert(uint64(i)*0x9E3779B97F4A7C15|1, tagged(1, uint64(i)), 0)
	}
	if want := 1 + min(len(tb.old.slots), 1); len(a.live) != want {
		t.Fatalf("%d mappings live, want the table's %d", len(a.live), want)
	}
	for i := range 100_000 {
		if tb.find(uint64(i)*0x9E3779B97F4A7C15|1, 1) < 0 {
			t.Fatalf("entry %d lost", i)
		}
	}
	tb.deleteFunc(func(s slot) bool { return s.v&msMask >= 10 })
	if tb.len() != 10 || len(a.live) != 0 {
		t.Errorf("%d entries in %d+%d slots, %d mappings live; want 10 entries on the heap", tb.len(), len(tb.cur.slots), len(tb.old.slots), len(a.live))
	}
	a.release()
}
