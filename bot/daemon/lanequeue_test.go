package daemon

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
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

// A full lane's jobs, once the room shared by the lanes is spent too, go to
// the spill lane, in order, and submit does not wait for them to be made
// cases: a flood in one place must not hold up the goroutine that judges its
// events.
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
		for i := range laneQueue + floodRoom + extra { // laneQueue and floodRoom waiting, extra spilled
			submit(1 + i)
		}
	}()
	select {
	case <-submitted:
	case <-time.After(testsync.Patience):
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
		want = append(want, strconv.Itoa(1+laneQueue+floodRoom+i))
	}
	if !slices.Equal(spilled, want) {
		t.Fatalf("spilled %v, want %v", spilled, want)
	}
}

// TestBrigadeWaitsInItsLane: 500 verdicts to hide come for one post while
// the platform carries out its first (a brigade under a Page post, Graph
// answering a call at a time). Every one waits in the post's lane and is
// carried out, in order, none handed to overflow: before, the 243 past the
// lane's 256 became a case each for the CMs, the insults left up. The room
// the lane borrowed is given back once it is carried out.
func TestBrigadeWaitsInItsLane(t *testing.T) {
	hold := make(chan struct{})
	taken := make(chan struct{}, 1)
	var mu sync.Mutex
	var done, spilled []string
	ls := newLanes(
		func(j *job) {
			select {
			case taken <- struct{}{}:
				<-hold
			default:
			}
			mu.Lock()
			done = append(done, j.ev.ID)
			mu.Unlock()
		},
		func(j *job) {
			mu.Lock()
			spilled = append(spilled, j.ev.ID)
			mu.Unlock()
		},
		slog.New(slog.DiscardHandler), guard.New(slog.New(slog.DiscardHandler), prometheus.NewRegistry()), nil)
	const brigade = 500
	var want []string
	for i := range brigade {
		want = append(want, strconv.Itoa(i))
		ls.submit(&job{ev: bot.Event{Platform: "facebook", Space: "page", Channel: "page_post", ID: strconv.Itoa(i)}})
		if i == 0 {
			<-taken // the first is being carried out while the others come
		}
	}
	if n := ls.borrowed.Load(); n != brigade-1-laneQueue {
		t.Errorf("the lane borrowed %d of the shared room, want %d", n, brigade-1-laneQueue)
	}
	close(hold)
	if !ls.close(context.Background()) {
		t.Fatal("lanes did not finish")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(spilled) > 0 {
		t.Errorf("%d of %d verdicts handed to overflow (made cases), want none: %v", len(spilled), brigade, spilled)
	}
	if !slices.Equal(done, want) {
		t.Errorf("carried out %d verdicts, want all %d in order", len(done), brigade)
	}
	if n := ls.borrowed.Load(); n != 0 {
		t.Errorf("the lanes still hold %d of the shared room once carried out", n)
	}
}

// A job carried out inline on an idle lane is done by the time runInline
// returns; jobs submitted while it runs wait for it, and one that finds the
// lane busy is left to submit: a place's jobs keep their order either way,
// and close carries out what waits.
func TestLaneInline(t *testing.T) {
	synctest.Test(t, testLaneInline)
}

func testLaneInline(t *testing.T) {
	var mu sync.Mutex
	var done []string
	gates := map[string]chan struct{}{"inline-slow": make(chan struct{}), "queued-slow": make(chan struct{})}
	started := make(chan string, 4)
	ls := newLanes(
		func(j *job) {
			if g := gates[j.ev.ID]; g != nil {
				started <- j.ev.ID
				<-g
			}
			mu.Lock()
			done = append(done, j.ev.ID)
			mu.Unlock()
		},
		func(j *job) { t.Errorf("job %s overflowed", j.ev.ID) },
		slog.New(slog.DiscardHandler), guard.New(slog.New(slog.DiscardHandler), prometheus.NewRegistry()), nil)
	mk := func(id string) *job {
		return &job{ev: bot.Event{Platform: "discord", Space: "g", Channel: "c", ID: id}}
	}
	if !ls.runInline(mk("a")) {
		t.Fatal("an idle lane's job was not carried out inline")
	}
	mu.Lock()
	if len(done) != 1 {
		t.Fatalf("runInline returned before its job was done: %v", done)
	}
	mu.Unlock()

	// An inline job under way: what is submitted meanwhile waits for it.
	inlineDone := make(chan bool)
	go func() { inlineDone <- ls.runInline(mk("inline-slow")) }()
	<-started
	ls.submit(mk("b"))
	ls.submit(mk("queued-slow"))
	// The lane's goroutine, woken, must not take b before inline-slow is
	// done.
	synctest.Wait()
	mu.Lock()
	if len(done) != 1 {
		t.Fatalf("jobs carried out while an inline one was under way: %v", done)
	}
	mu.Unlock()
	if ls.runInline(mk("never")) {
		t.Fatal("a job was carried out inline while another was")
	}
	close(gates["inline-slow"])
	if !<-inlineDone {
		t.Fatal("the slow job was not carried out inline")
	}
	// The lane's goroutine is at queued-slow: a job now is left to submit.
	<-started
	if ls.runInline(mk("never")) {
		t.Fatal("a job was carried out inline while the lane's goroutine was at one")
	}
	ls.submit(mk("c"))
	close(gates["queued-slow"])
	if !ls.close(context.Background()) {
		t.Fatal("close did not finish")
	}
	want := "a inline-slow b queued-slow c"
	if got := strings.Join(done, " "); got != want {
		t.Fatalf("carried out %q, want %q", got, want)
	}
	if ls.runInline(mk("late")) {
		t.Fatal("a job was carried out inline after close")
	}
}
