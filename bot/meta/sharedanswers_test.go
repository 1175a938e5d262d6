package meta_test

import (
	"context"
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
		st, err := redis.Open(srv.URL(), redis.WithPrefix(prefix), redis.WithConsumer(name))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
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
		const cid = "987654321098765_1122334455667788"
		now := time.Unix(1795731300, 0).UTC().Add(time.Minute) // fb_comment_edited.json's time
		first, second := two(t, now, `
timezone: Europe/Paris
lists:
  insults: [escrocs]
rules:
  - name: insult
    when: has_any(text, lists.insults)
    do: ['reply("Nous lisons tous les commentaires.")', 'warn("Merci de rester courtois.")']
`)
		first.deliver(t, fixture(t, "fb_comment_add.json"))
		second.deliver(t, fixture(t, "fb_comment_edited.json"))
		if n := len(first.h.graph.repliesUnder(cid)); n != 1 {
			t.Errorf("%d public replies under the comment, want 1", n)
		}
		if n := len(first.callsTo("POST", "/"+pageID+"/messages")); n < 1 {
			t.Errorf("no private reply sent")
		}
		cs, err := first.store.Cases(context.Background(), store.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			t.Errorf("case opened: %s", c.Reason)
		}
	})

	t.Run("message", func(t *testing.T) {
		const answer = "Nous sommes ouverts du lundi au samedi, 9h-19h."
		now := time.UnixMilli(1795732100123).UTC().Add(time.Minute) // messenger_edit.json's time
		first, second := two(t, now, `
timezone: Europe/Paris
rules:
  - name: opening
    when: lower(text) contains "ouverts"
    do: ['reply("`+answer+`")']
`)
		first.deliver(t, fixture(t, "messenger_text.json"))
		second.deliver(t, fixture(t, "messenger_edit.json"))
		var answers int
		for _, c := range first.callsTo("POST", "/"+pageID+"/messages") {
			if jsonField(c.JSON, "message.text") == answer {
				answers++
			}
		}
		if answers != 1 {
			t.Errorf("%d answers in the conversation, want 1", answers)
		}
	})
}
