//go:build unix

package memory

import "testing"

// TestArena: a large table lives in one mapping at a time, the old one given
// back as it grows, and none once it shrank back to the heap's size.
func TestArena(t *testing.T) {
	a := newArena()
	tb := table{arena: a}
	for i := range 100_000 {
		tb.insert(uint64(i)*0x9E3779B97F4A7C15|1, tagged(1, uint64(i)))
	}
	if len(a.live) != 1 {
		t.Fatalf("%d mappings live, want the table's one", len(a.live))
	}
	for i := range 100_000 {
		if tb.find(uint64(i)*0x9E3779B97F4A7C15|1, 1) < 0 {
			t.Fatalf("entry %d lost", i)
		}
	}
	tb.deleteFunc(func(s slot) bool { return s.v&msMask >= 10 })
	if tb.n != 10 || len(a.live) != 0 {
		t.Errorf("%d entries in %d slots, %d mappings live; want 10 entries on the heap", tb.n, len(tb.slots), len(a.live))
	}
	a.release()
}
