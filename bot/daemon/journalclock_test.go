package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
)

// TestJournalLooksOnItsClock: the running look at the journal waits on the
// journal's clock (Config.AfterFunc), every RecoverAfter/4, and takes a
// verdict left unfinished only at the look after RecoverAfter has passed on it.
func TestJournalLooksOnItsClock(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clk := newFakeClock()
	const grace = time.Minute
	set := make(chan time.Duration, 1)
	var fire func()
	var mu sync.Mutex
	d, err := build(ctx, Config{
		ConfigPath:   filepath.Join("..", "..", vigie.ExampleFile),
		Logger:       slog.New(slog.DiscardHandler),
		Getenv:       WithTokenDir(t, nil),
		RecoverAfter: grace,
		Now:          clk.now,
		AfterFunc: func(wait time.Duration, f func()) func() bool {
			mu.Lock()
			fire = f
			mu.Unlock()
			set <- wait
			return func() bool { return false }
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	d.observer = startObserver(d.followAlerts)
	defer d.observer.stop(ctx)
	defer d.lanes.close(ctx)
	var runs atomic.Int32
	d.lanes.run = func(j *job) {
		if runs.Add(1) == 1 {
			defer d.finish(j, false)
			panic("a bug in an action")
		}
		d.act(j)
	}
	body, _ := json.Marshal(map[string]any{"id": "m-1", "platform": "shop", "kind": "message", "space": "s-1",
		"channel": "c-1", "author": map[string]any{"id": "u-1", "name": "Member"},
		"text": "FREE NITRO https://dlscord.gift/claim", "at": clk.now().UTC().Format(time.RFC3339)})
	w := httptest.NewRecorder()
	d.handleEvent(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v1/events", bytes.NewReader(body)))
	if w.Code != http.StatusOK || runs.Load() != 1 {
		t.Fatalf("m-1: %d %s, carried out %d times, want once", w.Code, w.Body, runs.Load())
	}

	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	d.runResume(ctx, &wg)
	// Each look ends by setting the timer of the next: the look is over
	// when it is set.
	for i := 1; i <= 5; i++ {
		if wait := <-set; wait != grace/4 {
			t.Fatalf("look %d set for %v, want RecoverAfter/4 (%v)", i, wait, grace/4)
		}
		if n := runs.Load(); n != 1 {
			t.Fatalf("m-1 carried out again before look %d, %v after it was left unfinished: RecoverAfter is %v", i, time.Duration(i-1)*grace/4, grace)
		}
		clk.advance(grace / 4)
		mu.Lock()
		f := fire
		mu.Unlock()
		f()
	}
	<-set
	if n := runs.Load(); n != 2 {
		t.Errorf("m-1 carried out %d times after the look past RecoverAfter, want twice: cut short, then from the journal", n)
	}
}
