package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// TestInstagramCommentRemovedBeforeVigieActs: Instagram sends no webhook
// when a comment is removed. Its author deletes it after Meta delivered it
// and before vigie acts: Graph answers the hide, the delete or the public
// reply as it answers any object gone (code 100, subcode 33), and a read
// of the comment says the same. What the action was for is so (the comment
// is no longer shown, and there is no one left to answer under it): no
// case, the log says why, and the removal is remembered. A comment still
// there whose action Graph answers so (a permission it may not show) is
// still a case. Before, each was a failure and a case.
func TestInstagramCommentRemovedBeforeVigieActs(t *testing.T) {
	const cid = "17865799348089039" // ig_comment.json
	for _, tc := range []struct {
		name, do, method, path string
	}{
		{"hide", "hide", "POST", "/" + cid},
		{"delete", "delete", "DELETE", "/" + cid},
		{"public reply", `'reply("Du lundi au samedi, 9h-19h.")'`, "POST", "/" + cid + "/replies"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPipelineWith(t, igCommentSent.Add(time.Minute), `
timezone: Europe/Paris
rules:
  - name: hours
    when: lower(text) contains "horaires"
    do: [`+tc.do+`]
`)
			p.h.graph.mu.Lock()
			p.h.graph.gone[cid] = true // removed by its author
			p.h.graph.mu.Unlock()
			p.deliver(t, fixture(t, "ig_comment.json"))
			if cs, _ := p.store.Cases(context.Background(), store.CaseOpen); len(cs) != 0 {
				t.Fatalf("a case for an Instagram comment its author removed: %s", cs[0].Reason)
			}
			if n := len(p.callsTo(tc.method, tc.path)); n != 1 {
				t.Errorf("%d calls %s %s, want 1", n, tc.method, tc.path)
			}
			if !strings.Contains(p.h.logs.String(), "comment removed on Instagram before vigie's") {
				t.Errorf("the log does not say the comment was removed before vigie acted:\n%s", p.h.logs)
			}
		})
	}

	t.Run("still there", func(t *testing.T) {
		p := newPipelineWith(t, igCommentSent.Add(time.Minute), `
timezone: Europe/Paris
rules:
  - name: hours
    when: lower(text) contains "horaires"
    do: [hide]
`)
		p.h.graph.failNext("POST", "/"+cid, 400, graphErrorJSON(100, 33, "GraphMethodException",
			"Unsupported post request. Object with ID '"+cid+"' does not exist, cannot be loaded due to missing permissions, or does not support this operation."), nil)
		p.deliver(t, fixture(t, "ig_comment.json"))
		if cs, _ := p.store.Cases(context.Background(), store.CaseOpen); len(cs) != 1 {
			t.Fatalf("%d cases for a hide Graph refused on a comment still there, want 1", len(cs))
		}
	})
}
