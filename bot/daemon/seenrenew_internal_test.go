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
	"github.com/vigie-bot/vigie/bot"
)

// TestSlowJudgeRenewsItsMark: a judge still at work past half the pending
// hold renews its event's mark (renewSeen, which runRenewSeen calls every
// hold/4), so that a retry later than the hold after the first mark, but
// within it after the renewal, is a duplicate rather than judged a second
// time; the verdict is carried out once, by the slow judge.
func TestSlowJudgeRenewsItsMark(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	const hold = 10 * time.Second
	var slow atomic.Bool
	slow.Store(true)
	judging, release := make(chan struct{}), make(chan struct{})
	d, err := build(ctx, Config{
		ConfigPath:  filepath.Join("..", "..", vigie.ExampleFile),
		Logger:      slog.New(slog.DiscardHandler),
		Getenv:      WithTokenDir(t, nil),
		Now:         clk.now,
		PendingHold: hold,
		afterJudging: func(ev *bot.Event) {
			if slow.CompareAndSwap(true, false) {
				close(judging)
				<-release
			}
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
		runs.Add(1)
		d.act(j)
	}
	body, _ := json.Marshal(map[string]any{"id": "m-1", "platform": "shop", "kind": "message", "space": "s-1",
		"channel": "c-1", "author": map[string]any{"id": "u-1", "name": "Member"},
		"text": "FREE NITRO https://dlscord.gift/claim", "at": clk.now().UTC().Format(time.RFC3339)})
	post := func() *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		d.handleEvent(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v1/events", bytes.NewReader(body)))
		return w
	}
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- post() }()
	<-judging
	clk.advance(hold/2 + time.Second)
	d.renewSeen(ctx)
	clk.advance(hold/2 + time.Second) // past the hold after the mark, within it after the renewal
	if w := post(); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"duplicate":true`) {
		t.Errorf("a retry while the judge is at work: %d %s, want a duplicate", w.Code, w.Body)
	}
	close(release)
	if w := <-done; w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"duplicate":true`) {
		t.Fatalf("the slow judge's answer: %d %s", w.Code, w.Body)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the verdict was carried out %d times, want once", n)
	}
}
