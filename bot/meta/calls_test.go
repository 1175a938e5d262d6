package meta

import (
	"fmt"
	"testing"
	"time"
)

// TestCallsFullForgetsTheOldest: a busy Page fills the memory of the
// actions not to be done twice (callsMost). The ones forgotten then are the
// oldest: a call whose answer was lost a moment ago, whose retry comes in
// seconds, is still known, and is not done twice.
func TestCallsFullForgetsTheOldest(t *testing.T) {
	start := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := start
	g := &graph{now: func() time.Time { return now }}
	key := func(i int) string { return fmt.Sprintf("delete c-%d", i) }
	for i := range callsMost {
		now = start.Add(time.Duration(i) * time.Second)
		g.done(key(i))
	}
	now = now.Add(time.Second)
	g.done("delete last")
	if _, ok := g.callOf("delete last"); !ok {
		t.Fatal("the newest call is not remembered")
	}
	var lost []int
	for i := callsMost / 5; i < callsMost; i++ {
		if _, ok := g.callOf(key(i)); !ok {
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of the newest %d calls forgotten (the first %d), want only the oldest forgotten",
			len(lost), callsMost*4/5, lost[:min(len(lost), 5)])
	}
	if _, ok := g.callOf(key(0)); ok {
		t.Error("the oldest call still remembered once full")
	}
	if n := len(g.calls); n > callsMost {
		t.Errorf("%d calls remembered, want at most %d", n, callsMost)
	}
}
