package main

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"time"
)

// runHeapRoom is how far vigie run's heap may grow over its live bytes
// before the collector runs. The percent alone makes the heap's resident
// memory follow its live bytes three to one: a daemon whose live state grows
// by 50 MB over the minutes its strikes, cases and rings fill took 150 MB
// more. A fixed room instead keeps the memory flat once the live state is
// full, and the collector's work per event falls as the live heap shrinks
// (it runs as often as the room fills, and reads the live heap each time):
// the percent is the room over the live heap, between the runtime's 100 and
// maxGCPercent.
const runHeapRoom = 256 << 20

// maxGCPercent bounds the percent of a small live heap: under 32 MiB live,
// the room is eight times the live heap, not runHeapRoom.
const maxGCPercent = 800

// heapRoomEvery is how often the live heap is read: it changes with each
// collection, a few a second under load, and a second late is no matter.
const heapRoomEvery = time.Second

// gcPercentFor is the collector's percent for a live heap of live bytes:
// the room runHeapRoom gives it, between 100 and maxGCPercent;
// runGCPercent before the live heap is known.
func gcPercentFor(live uint64) int {
	if live == 0 {
		return runGCPercent
	}
	p := uint64(runHeapRoom) * 100 / live
	return int(min(max(p, 100), maxGCPercent))
}

// boundHeapRoom follows the live heap with the collector's percent
// (gcPercentFor) until the returned function is called, which sets
// runGCPercent back.
func boundHeapRoom() (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		// On the wall clock: the heap is read, not dated.
		tick := time.NewTicker(heapRoomEvery)
		defer tick.Stop()
		percent := runGCPercent
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			metrics.Read(sample)
			if sample[0].Value.Kind() != metrics.KindUint64 {
				continue
			}
			// A change under a twentieth is left alone: the live heap
			// moves a little with each collection.
			if p := gcPercentFor(sample[0].Value.Uint64()); p != percent && (p == runGCPercent || 20*abs(p-percent) >= percent) {
				percent = p
				debug.SetGCPercent(percent)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
		debug.SetGCPercent(runGCPercent)
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
