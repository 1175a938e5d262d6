package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestRemovalKnownToEveryInstance: two instances on one Redis, behind one
// address. Meta delivers a comment's removal by its author to the first,
// and the comment itself to the second, whose hide Graph answers "does not
// exist" (code 100, subcode 33). The second knows of the removal through
// the store: no case on the desk, and the log says why. Before, the removal
// was known to the instance that received it only, and the second opened a
// case for a comment no longer shown.
func TestRemovalKnownToEveryInstance(t *testing.T) {
	srv := redistest.Start(t)
	open := func(prefix, name string) store.Store {
		return redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
	}
	prefix := redistest.Prefix("removed-test")
	now := fbCommentAddSent.Add(10 * time.Minute)
	first := newPipelineOn(t, now, pageRules, open(prefix, "a"))
	second := newPipelineOn(t, now, pageRules, open(prefix, "b"), func(c *meta.Config) {
		c.GraphURL, c.PageToken = first.h.graph.URL(), first.h.graph.token
	})
	const cid = "987654321098765_1122334455667788"

	first.deliver(t, fixture(t, "fb_comment_remove.json"))
	first.h.graph.mu.Lock()
	first.h.graph.gone[cid] = true
	first.h.graph.mu.Unlock()
	second.deliver(t, fixture(t, "fb_comment_add.json"))

	if cs, _ := second.store.Cases(context.Background(), store.CaseOpen); len(cs) != 0 {
		var reasons []string
		for _, c := range cs {
			reasons = append(reasons, c.Reason)
		}
		t.Fatalf("cases opened by the second instance for a comment whose removal reached the first: %s", strings.Join(reasons, " | "))
	}
	if !strings.Contains(second.h.logs.String(), "removed on Facebook before vigie") {
		t.Fatalf("the second instance's log does not say the comment was removed before vigie acted:\n%s", second.h.logs.String())
	}
}
