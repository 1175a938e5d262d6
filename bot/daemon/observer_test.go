package daemon

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// The observer sees the events in the order they were judged, sync waits
// for those judged before it, and an event judged after stop is still seen,
// last.
func TestObserverKeepsOrder(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	release := make(chan struct{})
	o := startObserver(func(ev bot.Event, _ rules.Assessment) {
		<-release
		mu.Lock()
		seen = append(seen, ev.ID)
		mu.Unlock()
	})
	const n = 100
	for i := range n {
		o.add(bot.Event{ID: strconv.Itoa(i)}, rules.Assessment{}, false)
	}
	close(release)
	o.sync(context.Background())
	mu.Lock()
	if len(seen) != n {
		t.Fatalf("sync returned with %d of %d events observed", len(seen), n)
	}
	mu.Unlock()
	if !o.stop(context.Background()) {
		t.Fatal("stop did not finish")
	}
	o.add(bot.Event{ID: "late"}, rules.Assessment{}, true)
	o.sync(context.Background()) // stopped: returns at once
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n+1 || seen[n] != "late" {
		t.Fatalf("an event judged after stop: seen %d, last %q", len(seen), seen[len(seen)-1])
	}
	for i := range n {
		if seen[i] != strconv.Itoa(i) {
			t.Fatalf("observed out of order: %v", seen[:i+1])
		}
	}
}

// Inline, an event is observed on the judging goroutine when nothing is
// queued or being observed, and queued behind what is: the order is kept.
func TestObserverInline(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	taken := make(chan struct{})
	release := make(chan struct{})
	o := startObserver(func(ev bot.Event, _ rules.Assessment) {
		if ev.ID == "slow" {
			close(taken)
			<-release
		}
		mu.Lock()
		seen = append(seen, ev.ID)
		mu.Unlock()
	})
	defer o.stop(context.Background())
	o.add(bot.Event{ID: "first"}, rules.Assessment{}, true)
	mu.Lock()
	if len(seen) != 1 {
		t.Fatalf("nothing queued, yet the inline event was not observed by the time add returned: %v", seen)
	}
	mu.Unlock()
	o.add(bot.Event{ID: "slow"}, rules.Assessment{}, false)
	<-taken
	// The observer is at "slow": these wait behind it, in order.
	for i := range 10 {
		o.add(bot.Event{ID: strconv.Itoa(i)}, rules.Assessment{}, true)
	}
	close(release)
	o.sync(context.Background())
	o.add(bot.Event{ID: "last"}, rules.Assessment{}, true)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"first", "slow", "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "last"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("observed %v, want %v", seen, want)
	}
}

// Judging goroutines observing inline and through the queue at once: every
// event is observed once, each goroutine's in the order it judged them.
func TestObserverInlineConcurrent(t *testing.T) {
	var mu sync.Mutex
	var seen []bot.Event
	o := startObserver(func(ev bot.Event, _ rules.Assessment) {
		mu.Lock()
		seen = append(seen, ev)
		mu.Unlock()
	})
	const judges, each = 8, 500
	var wg sync.WaitGroup
	for g := range judges {
		wg.Go(func() {
			for i := range each {
				o.add(bot.Event{Space: strconv.Itoa(g), ID: strconv.Itoa(i)}, rules.Assessment{}, i%3 != 0)
			}
		})
	}
	wg.Wait()
	if !o.stop(context.Background()) {
		t.Fatal("stop did not finish")
	}
	if len(seen) != judges*each {
		t.Fatalf("%d events observed, want %d", len(seen), judges*each)
	}
	next := map[string]int{}
	for _, ev := range seen {
		if ev.ID != strconv.Itoa(next[ev.Space]) {
			t.Fatalf("judge %s: event %s observed when %d was due", ev.Space, ev.ID, next[ev.Space])
		}
		next[ev.Space]++
	}
}
