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

	dto "github.com/prometheus/client_model/go"
	goredis "github.com/redis/go-redis/v9"
	vigie "github.com/vigie-bot/vigie"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
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

// TestFailedRenewalCountedAndRetried: the renewal of a slow judge's
// pending mark fails (Redis answers an error: the key is not what vigie
// wrote there). It is counted in vigie_journal_errors_total and logged,
// and tried again on the next round, not half a hold later: the mark
// keeps its old stamp. Before, the failure was only logged, and the mark,
// stamped anew all the same, was not tried again before its hold ran out.
func TestFailedRenewalCountedAndRetried(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	clk := newFakeClock()
	const hold = 10 * time.Second
	var slow atomic.Bool
	slow.Store(true)
	judging, release := make(chan struct{}), make(chan struct{})
	var logs testsync.Buffer
	d, err := build(ctx, Config{
		ConfigPath: filepath.Join("..", "..", vigie.ExampleFile),
		Logger:     testsync.Logger(&logs),
		Getenv: WithTokenDir(t, func(k string) string {
			if k == "VIGIE_REDIS_URL" {
				return srv.URL()
			}
			return ""
		}),
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
	body, _ := json.Marshal(map[string]any{"id": "m-1", "platform": "shop", "kind": "message", "space": "s-1",
		"channel": "c-1", "author": map[string]any{"id": "u-1", "name": "Member"},
		"text": "FREE NITRO https://dlscord.gift/claim", "at": clk.now().UTC().Format(time.RFC3339)})
	done := make(chan int)
	go func() {
		w := httptest.NewRecorder()
		d.handleEvent(w, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v1/events", bytes.NewReader(body)))
		done <- w.Code
	}()
	<-judging
	rc := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer rc.Close()
	keys, err := rc.Keys(ctx, "*:seen").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("the event's seen key: %q, %v", keys, err)
	}
	// A string where vigie keeps a sorted set: Redis answers WRONGTYPE.
	if err := rc.Set(ctx, keys[0], "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	clk.advance(hold/2 + time.Second)
	d.renewSeen(ctx)
	if v := counterValue(d.metrics.journalErrors); v != 1 {
		t.Errorf("vigie_journal_errors_total = %v after a failed renewal, want 1", v)
	}
	if !strings.Contains(logs.String(), "pending mark of an event being judged not renewed") {
		t.Errorf("the failed renewal not logged:\n%s", logs.String())
	}
	clk.advance(hold / 4)
	d.renewSeen(ctx) // the next round tries it again
	if v := counterValue(d.metrics.journalErrors); v != 2 {
		t.Errorf("vigie_journal_errors_total = %v after the next round, want 2 (the renewal tried again)", v)
	}
	if err := rc.Del(ctx, keys[0]).Err(); err != nil {
		t.Fatal(err)
	}
	clk.advance(hold / 4)
	d.renewSeen(ctx)
	if v := counterValue(d.metrics.journalErrors); v != 2 {
		t.Errorf("vigie_journal_errors_total = %v once the renewal went through, want 2", v)
	}
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Errorf("the slow judge's answer: %d", code)
	}
}

// counterValue is c's value.
func counterValue(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return -1
	}
	return m.GetCounter().GetValue()
}
