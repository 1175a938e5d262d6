package daemon

import (
	"strconv"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// A lane's queue keeps its jobs in order through growth and wrap-around, and
// gives its room back once empty.
func TestJobQueue(t *testing.T) {
	var q jobQueue
	next, want := 0, 0
	push := func(n int) {
		for range n {
			q.push(job{ev: bot.Event{ID: strconv.Itoa(next)}})
			next++
		}
	}
	pop := func(n int) {
		for range n {
			j, ok := q.pop()
			if !ok || j.ev.ID != strconv.Itoa(want) {
				t.Fatalf("pop = %q, %v; want %d", j.ev.ID, ok, want)
			}
			want++
		}
	}
	push(3)
	pop(2)
	push(5) // wraps around, then grows
	pop(3)
	push(laneQueue)
	if q.n != 3+laneQueue {
		t.Fatalf("%d jobs waiting, want %d", q.n, 3+laneQueue)
	}
	pop(3 + laneQueue)
	if _, ok := q.pop(); ok {
		t.Fatal("pop on an empty queue")
	}
	if q.buf != nil {
		t.Errorf("an empty queue keeps room for %d jobs", len(q.buf))
	}
}
