package meta

import (
	"context"
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
	ctx := context.Background()
	key := func(i int) string { return fmt.Sprintf("delete c-%d", i) }
	for i := range callsMost {
		now = start.Add(time.Duration(i) * time.Second)
		g.keep(ctx, key(i), callState{at: now, done: true})
	}
	now = now.Add(time.Second)
	g.keep(ctx, "delete last", callState{at: now, done: true})
	if _, ok := g.callOf(ctx, "delete last"); !ok {
		t.Fatal("the newest call is not remembered")
	}
	var lost []int
	for i := callsMost / 5; i < callsMost; i++ {
		if _, ok := g.callOf(ctx, key(i)); !ok {
			lost = append(lost, i)
		}
	}
	if len(lost) > 0 {
		t.Errorf("%d of the newest %d calls forgotten (the first %d), want only the oldest forgotten",
			len(lost), callsMost*4/5, lost[:min(len(lost), 5)])
	}
	if _, ok := g.callOf(ctx, key(0)); ok {
		t.Error("the oldest call still remembered once full")
	}
	if n := len(g.calls); n > callsMost {
		t.Errorf("%d calls remembered, want at most %d", n, callsMost)
	}
}
