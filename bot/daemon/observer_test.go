package daemon

import (
	"context"
	"strconv"
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
		o.add(bot.Event{ID: strconv.Itoa(i)}, rules.Assessment{})
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
	o.add(bot.Event{ID: "late"}, rules.Assessment{})
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
