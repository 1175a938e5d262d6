package meta_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

// vigie stops (a deploy) with an @mention Meta was told it received: its
// text is read and the mention judged within the drain, as the comments
// are, whether it was still queued or being read as Run stopped, not made
// a case for the desk ("vigie stopped before reading it").
func TestMentionReadAsVigieStops(t *testing.T) {
	for _, tc := range []struct {
		name string
		// before is done before Run stops; it returns what lets the
		// mention be read then.
		before func(t *testing.T, h *harness) (after func())
	}{
		{"queued behind a comment", func(t *testing.T, h *harness) func() {
			h.mustPost(fixture(t, "ig_comment.json")) // Run holds it: nobody reads out yet
			testsync.Eventually(t, "the comment taken from the queue", func() bool { return h.c.Queued() == 0 })
			h.mustPost(fixture(t, "ig_mention.json"))
			return func() {}
		}},
		{"being read", func(t *testing.T, h *harness) func() {
			release := h.graph.holdCalls(t, "GET", "/"+igID)
			h.mustPost(fixture(t, "ig_mention.json"))
			testsync.Eventually(t, "the mention's text asked", func() bool {
				for _, c := range h.graph.Calls() {
					if c.Method == "GET" && c.Path == "/"+igID {
						return true
					}
				}
				return false
			})
			return release
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newFakeGraph(t)
			logs := &testsync.Buffer{}
			now := func() time.Time { return igCommentSent.Add(time.Minute) }
			c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(),
				HTTPClient: &http.Client{}, DrainTimeout: testsync.Patience, Logger: testsync.Logger(logs), Now: now})
			h := &harness{t: t, c: c, h: c.Handler(), graph: g, logs: logs, events: make(chan bot.Event), now: now}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx, h.events) }()
			stopped := false
			defer func() {
				cancel()
				if !stopped {
					<-done
				}
			}()

			after := tc.before(t, h)
			cancel()
			after()
			timeout := time.After(testsync.Patience)
			for {
				select {
				case ev := <-h.events:
					if ev.ID == mentionComment+":mention" {
						if ev.Text == "" {
							t.Errorf("mention = %+v, want its text", ev)
						}
						return
					}
				case <-done:
					// Run waits for the mentions it took: it returned
					// without handing this one over.
					stopped = true
					t.Fatalf("vigie stopped without judging the mention; logs:\n%s", logs)
				case <-timeout:
					t.Fatalf("the mention not judged as vigie stopped; logs:\n%s", logs)
				}
			}
		})
	}
}
