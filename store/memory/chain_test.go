package memory

import "testing"

// TestHashChain gives three counters the same hash, as a collision of the 64-bit
// hash would: each is found, dropped and swept on its own.
func TestHashChain(t *testing.T) {
	sh := &shard{windows: map[uint64]*window{}}
	keys := []counterKey{{"p", "s", "a", "1"}, {"p", "s", "a", "2"}, {"p", "s", "b", "1"}}
	var ws []*window
	for i, k := range keys {
		w := &window{key: k}
		w.buf = w.small[:]
		w.observe(int64(10*(i+1)), 15, true, 100)
		sh.addWindow(7, w)
		ws = append(ws, w)
	}
	for i, k := range keys {
		if got := sh.window(7, &k); got != ws[i] {
			t.Fatalf("window(%v) = %p, want %p", k, got, ws[i])
		}
	}
	if w := sh.window(7, &counterKey{"p", "s", "c", "1"}); w != nil {
		t.Fatalf("an unknown key found %v", w.key)
	}
	sh.dropWindow(7, ws[1])
	if sh.window(7, &keys[1]) != nil || sh.window(7, &keys[0]) != ws[0] || sh.window(7, &keys[2]) != ws[2] || sh.nWindows != 2 {
		t.Fatalf("after dropping the middle one: %d windows", sh.nWindows)
	}
	// at 26 the first (newest 10, window 15) is gone, the third (30) stays
	sh.strikesExp = 1 << 62
	sh.sweep(26)
	if sh.window(7, &keys[0]) != nil || sh.window(7, &keys[2]) != ws[2] || sh.nWindows != 1 {
		t.Fatalf("after the sweep: %d windows", sh.nWindows)
	}
	sh.sweep(100)
	if len(sh.windows) != 0 || sh.nWindows != 0 {
		t.Fatalf("after the last sweep: %d windows", sh.nWindows)
	}
}
