package meta_test

import (
	"context"

	"github.com/vigie-bot/vigie/bot"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// A comment its author deleted before vigie hid it: Meta sends the removal
// (verb remove), and Graph answers the hide as it answers any object gone
// (code 100, subcode 33). The comment is no longer shown, which is what the
// hide was for: no case on the desk for it, and nothing tried again.
func TestCommentRemovedByItsAuthorBeforeTheHide(t *testing.T) {
	p := newPipeline(t, fbCommentAddSent.Add(10*time.Minute))
	const cid = "987654321098765_1122334455667788"

	// The insult, then its author deletes it, both delivered before vigie acts.
	p.h.mustPost(fixture(t, "fb_comment_add.json"))
	p.h.mustPost(fixture(t, "fb_comment_remove.json"))
	p.h.graph.mu.Lock()
	p.h.graph.gone[cid] = true
	p.h.graph.mu.Unlock()
	p.judge(t)

	if cs, _ := p.store.Cases(context.Background(), store.CaseOpen); len(cs) != 0 {
		var reasons []string
		for _, c := range cs {
			reasons = append(reasons, c.Reason)
		}
		t.Fatalf("cases opened for a comment its author removed: %s", strings.Join(reasons, " | "))
	}
	if n := len(p.callsTo("POST", "/"+cid)); n > 1 {
		t.Fatalf("%d hide calls, want at most one", n)
	}
	if !strings.Contains(p.h.logs.String(), "removed on Facebook before vigie") {
		t.Fatalf("the log does not say the comment was removed before vigie acted:\n%s", p.h.logs.String())
	}
}

// judge evaluates and handles every event the deliveries posted so far produced.
func (p *pipeline) judge(t *testing.T) []bot.Verdict {
	t.Helper()
	var out []bot.Verdict
	for _, ev := range p.h.collect() {
		v, err := p.eng.Evaluate(context.Background(), ev)
		if err != nil {
			t.Fatalf("evaluate %s: %v", ev.Key(), err)
		}
		if err := p.mod.Handle(context.Background(), ev, v); err != nil {
			t.Fatalf("handle %s: %v", ev.Key(), err)
		}
		out = append(out, v)
	}
	return out
}
