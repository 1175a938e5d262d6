package meta_test

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestAnswersGivenShared: two instances on one Redis, behind one address
// (or one instance and its restart). A comment answered by one, in public
// and privately, then edited and judged by the other, is not answered
// again in public, and Meta's refusal of a second private reply is not a
// case: the first went out. A Messenger message answered by one and edited
// is not answered again in the conversation by the other.
func TestAnswersGivenShared(t *testing.T) {
	srv := redistest.Start(t)
	open := func(t *testing.T, prefix, name string) store.Store {
		return redistest.Open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
	}
	// two builds the instances on one store, the second calling the
	// first's Graph API.
	two := func(t *testing.T, now time.Time, text string) (first, second *pipeline) {
		prefix := redistest.Prefix("answers-test")
		first = newPipelineOn(t, now, text, open(t, prefix, "a"))
		first.h.graph.now = func() time.Time { return now }
		second = newPipelineOn(t, now, text, open(t, prefix, "b"), func(c *meta.Config) {
			c.GraphURL, c.PageToken = first.h.graph.URL(), first.h.graph.token
		})
		return first, second
	}

	t.Run("comment", func(t *testing.T) {
		first, second := two(t, commentEditedAt, insultRules)
		first.deliver(t, fixture(t, "fb_comment_add.json"))
		second.deliver(t, fixture(t, "fb_comment_edited.json"))
		first.wantCommentAnsweredOnce(t)
	})

	t.Run("message", func(t *testing.T) {
		first, second := two(t, messageEditedAt, openingRules)
		first.deliver(t, fixture(t, "messenger_text.json"))
		second.deliver(t, fixture(t, "messenger_edit.json"))
		first.wantAnsweredOnce(t)
	})
}
