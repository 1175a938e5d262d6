package daemon

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
)

// A lane's queue keeps its jobs in order through growth and wrap-around, and
// gives its room back once empty.
func TestJobQueue(t *testing.T) {
	var q jobQueue
	next, want := 0, 0
	push := func(n int) {
		for range n {
			q.push(&job{ev: bot.Event{ID: strconv.Itoa(next)}})
			next++
		}
	}
	pop := func(n int) {
		for range n {
			var j job
			ok := q.pop(&j)
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
	if q.pop(new(job)) {
		t.Fatal("pop on an empty queue")
	}
	if q.buf != nil {
		t.Errorf("an empty queue keeps room for %d jobs", len(q.buf))
	}
}

// A full lane's jobs go to the spill lane, in order, and submit does not
// wait for them to be made cases: a flood in one place must not hold up the
// goroutine that judges its events.
func TestFullLaneSpillsWithoutWaiting(t *testing.T) {
	hold := make(chan struct{})
	taken := make(chan struct{}, 1)
	var mu sync.Mutex
	var spilled []string
	ls := newLanes(
		func(*job) {
			select {
			case taken <- struct{}{}:
			default:
			}
			<-hold
		},
		func(j *job) {
			<-hold
			mu.Lock()
			spilled = append(spilled, j.ev.ID)
			mu.Unlock()
		},
		slog.New(slog.DiscardHandler), guard.New(slog.New(slog.DiscardHandler), prometheus.NewRegistry()), nil)
	submit := func(i int) {
		ls.submit(&job{ev: bot.Event{Platform: "discord", Space: "g", Channel: "c", ID: strconv.Itoa(i)}})
	}
	// The lane takes the first job before the others come: which jobs wait
	// and which spill does not depend on when it does.
	submit(0)
	<-taken
	const extra = 10
	submitted := make(chan struct{})
	go func() {
		defer close(submitted)
		for i := range laneQueue + extra { // laneQueue waiting, extra spilled
			submit(1 + i)
		}
	}()
	select {
	case <-submitted:
	case <-time.After(10 * time.Second):
		t.Fatal("submit waits for the overflow of a full lane")
	}
	close(hold)
	if !ls.close(context.Background()) {
		t.Fatal("lanes did not finish")
	}
	mu.Lock()
	defer mu.Unlock()
	var want []string
	for i := range extra {
		want = append(want, strconv.Itoa(1+laneQueue+i))
	}
	if !slices.Equal(spilled, want) {
		t.Fatalf("spilled %v, want %v", spilled, want)
	}
}
