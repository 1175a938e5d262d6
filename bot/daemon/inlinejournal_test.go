package daemon

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestInlineVerdictCutShortIsJournaled: with the memory store and no platform
// connected, a verdict is carried out on the goroutine of its request. One
// whose carrying out panics is left in the journal and carried out again by
// the first look once RecoverAfter has passed on the journal's clock (not
// before), once, as a verdict journaled before its lane took it was; one
// carried out in full leaves nothing there.
func TestInlineVerdictCutShortIsJournaled(t *testing.T) {
	ctx := context.Background()
	logs := &testsync.Buffer{}
	clk := newFakeClock()
	const grace = time.Minute
	d, err := build(ctx, Config{
		ConfigPath:   filepath.Join("..", "..", vigie.ExampleFile),
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
		Getenv:       WithTokenDir(t, nil),
		RecoverAfter: grace,
		Now:          clk.now,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	d.observer = startObserver(d.followAlerts)
	defer d.observer.stop(ctx)
	defer d.lanes.close(ctx)
	if !d.inline {
		t.Fatal("the memory store without a connector carries out verdicts on the request's goroutine")
	}
	// The first job panics half-way, as act does when an action has a bug:
	// its deferred finish is told it did not complete.
	var runs atomic.Int32
	d.lanes.run = func(j *job) {
		if runs.Add(1) == 1 {
			defer d.finish(j, false)
			panic("a bug in an action")
		}
		d.act(j)
	}
	post := func(id, author string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"id": id, "platform": "shop", "kind": "message", "space": "s-1",
			"channel": "c-1", "author": map[string]any{"id": author, "name": "Member"},
			"text": "FREE NITRO https://dlscord.gift/claim", "at": clk.now().UTC().Format(time.RFC3339)})
		w := httptest.NewRecorder()
		d.handleEvent(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v1/events", bytes.NewReader(body)))
		if w.Code != http.StatusOK {
			t.Fatalf("%s: %d %s", id, w.Code, w.Body)
		}
	}
	unfinished := func() []string {
		t.Helper()
		left, err := d.store.Unfinished(ctx, clk.now().Add(time.Hour), clk.now())
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		for _, e := range left {
			keys = append(keys, e.Key)
		}
		return keys
	}

	post("m-1", "u-1")
	if n := runs.Load(); n != 1 {
		t.Fatalf("m-1 carried out %d times, want once, on its request", n)
	}
	const again = `level=WARN msg="verdict left in the journal, to be carried out again" event=shop:m-1`
	if !strings.Contains(logs.String(), again) {
		t.Fatalf("no line saying m-1 is left in the journal:\n%s", logs)
	}
	// Left unfinished by a live process, it waits RecoverAfter, as one left
	// by a process that died.
	if n := d.resume(ctx); n != 0 {
		t.Fatalf("resume took %d verdicts at once, want none before RecoverAfter", n)
	}
	clk.advance(grace)
	if n := d.resume(ctx); n != 0 {
		t.Fatalf("resume took %d verdicts once RecoverAfter was reached, want none before it is passed", n)
	}
	if n := runs.Load(); n != 1 {
		t.Fatalf("m-1 carried out %d times before RecoverAfter passed, want once", n)
	}
	clk.advance(time.Second)
	if n := d.resume(ctx); n != 1 {
		t.Fatalf("resume took %d verdicts once RecoverAfter passed, want m-1", n)
	}
	if n := runs.Load(); n != 2 {
		t.Fatalf("m-1 carried out %d times, want twice: cut short, then from the journal", n)
	}
	if left := unfinished(); len(left) != 0 {
		t.Errorf("journal after m-1 was carried out again: %q, want nothing", left)
	}

	post("m-2", "u-2")
	if n := runs.Load(); n != 3 {
		t.Fatalf("m-2 carried out %d times in all, want once", n-2)
	}
	if left := unfinished(); len(left) != 0 {
		t.Errorf("journal after m-2 was carried out: %q, want nothing", left)
	}
	if n := d.resume(ctx); n != 0 {
		t.Errorf("resume took %d verdicts after m-2, want none", n)
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "event=shop:m-2") && strings.Contains(line, "journal") {
			t.Errorf("a journal line about m-2, carried out in full: %s", line)
		}
	}
	// Each carried out once in full: its one case, which both its forwards
	// opened.
	if n := strings.Count(logs.String(), `msg="case opened" case=`); n != 2 {
		t.Errorf("%d cases opened, want one for each event:\n%s", n, logs)
	}
	for _, id := range []string{"m-1", "m-2"} {
		if n := strings.Count(logs.String(), "event=shop:"+id+" rule=phishing reason=\"phishing: look-alike link: phishing; scam: scam\""); n != 1 {
			t.Errorf("%s's case opened %d times, want once", id, n)
		}
	}
}
