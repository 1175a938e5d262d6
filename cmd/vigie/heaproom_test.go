package main

import "testing"

// The collector's percent follows the live heap: the room of runHeapRoom,
// maxGCPercent at the most, the runtime's 100 at the least.
func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, runGCPercent},
		{1 << 20, maxGCPercent},
		{runHeapRoom / 8, maxGCPercent},
		{runHeapRoom/8 + 1<<20, 775},
		{runHeapRoom / 2, 200},
		{runHeapRoom/2 + 1<<20, 198},
		{runHeapRoom * 2 / 3, 150},
		{runHeapRoom, 100},
		{runHeapRoom * 4, 100},
		{1 << 62, 100},
	} {
		got := gcPercentFor(tc.live)
		if got != tc.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
		if room := tc.live * uint64(got) / 100; tc.live > 0 && room > runHeapRoom && got > 100 {
			t.Errorf("gcPercentFor(%d MiB) = %d: room %d MiB over runHeapRoom", tc.live>>20, got, room>>20)
		}
	}
}
