package handlers

import (
	"fmt"
	"testing"
	"time"
)

// TestRecountBounded: the cases waiting for their cards' recount are kept
// only where a desk shows cards, and at most recountKept of them: without
// a desk no round ever empties the set, and a long raid night's grouped
// hits grew it by one id a case, for good.
func TestRecountBounded(t *testing.T) {
	var none Moderator
	for i := range 10 {
		none.recountLater(fmt.Sprint("c-", i))
	}
	if n := len(none.recount); n != 0 {
		t.Errorf("without a desk, %d cases wait for a recount of cards nobody posted, want none", n)
	}
	desk := Moderator{desk: struct{ Desk }{}}
	for i := range recountKept + 500 {
		desk.recountLater(fmt.Sprint("c-", i))
	}
	desk.recountLater("c-0") // one waiting already: still waits, once
	if n := len(desk.recount); n != recountKept {
		t.Errorf("%d cases wait for a recount after %d grouped, want the bound, %d", n, recountKept+500, recountKept)
	}
}

// BenchmarkGroupingBusyPlaces: more places than groupingKept busy within a
// GroupWindow, a case in one of them at a time (a comment flood over many
// Facebook posts, a raid across a large server's channels).
func BenchmarkGroupingBusyPlaces(b *testing.B) {
	var g groupingPlaces
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	const places = 2 * groupingKept
	b.ReportAllocs()
	for i := range b.N {
		now := start.Add(time.Duration(i%100000) * 100 * time.Microsecond)
		g.saw(fmt.Sprint("discord|guild|c-", i%places, "|scam"), "u", now)
	}
}
