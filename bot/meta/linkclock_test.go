package meta_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestLinkTimesOnTheConnectorsClock: the link's times, which /-/ready
// ("down since") and vigie_last_event_timestamp_seconds show, are read on
// the connector's clock (Config.Now, the daemon's): when it came up, when
// it last handed an event over, when it stopped.
func TestLinkTimesOnTheConnectorsClock(t *testing.T) {
	g := newFakeGraph(t)
	clk := stepclock.New(fixedNow)
	c, out, stop := runOnClock(t, g, clk, 0)
	testsync.Eventually(t, "the link up", func() bool { return c.Link().Up })
	if l := c.Link(); !l.Since.Equal(fixedNow) {
		t.Errorf("up since %v, want %v", l.Since, fixedNow)
	}

	clk.Step(2 * time.Hour)
	_, body := sentinel(1, clk.Now())
	req := httptest.NewRequest(http.MethodPost, "/webhooks/meta", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Hub-Signature-256", meta.Sign(appSecret, body))
	rec := httptest.NewRecorder()
	c.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("POST answered %d %q, want 200", rec.Code, rec.Body.String())
	}
	testsync.Next(t, out)
	testsync.Eventually(t, "the event in the link", func() bool { return !c.Link().LastEvent.IsZero() })
	if l := c.Link(); !l.LastEvent.Equal(fixedNow.Add(2 * time.Hour)) {
		t.Errorf("last event at %v, want %v", l.LastEvent, fixedNow.Add(2*time.Hour))
	}

	clk.Step(time.Hour)
	stop()
	if l := c.Link(); l.Up || !l.Since.Equal(fixedNow.Add(3*time.Hour)) || l.Problem != "stopped" {
		t.Errorf("link once stopped: %+v, want down since %v: stopped", l, fixedNow.Add(3*time.Hour))
	}
}

// runOnClock runs a connector of the Page pageID on the Graph fake g and
// the clock clk, its token checked every tokenCheckEvery (0: never), until
// stop, which the test's end calls too; its events go to out.
func runOnClock(t *testing.T, g *fakeGraph, clk *stepclock.Clock, tokenCheckEvery time.Duration) (c *meta.Connector, out chan bot.Event, stop func()) {
	t.Helper()
	c = meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(), PageID: pageID,
		TokenCheckEvery: tokenCheckEvery, Now: clk.Now, Logger: testsync.Logger(&testsync.Buffer{})})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	out = make(chan bot.Event, 10)
	go func() { done <- c.Run(ctx, out) }()
	stop = sync.OnceFunc(func() { cancel(); <-done })
	t.Cleanup(stop)
	return c, out, stop
}
