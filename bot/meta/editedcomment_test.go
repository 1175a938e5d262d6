package meta_test

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
)

// With comments: {delete: hide}, a rule's delete hides an edited comment as it
// hides a new one: the edit was deleted for good (DELETE /{comment-id}), which
// the desk cannot undo.
func TestEditedCommentHiddenNotDeleted(t *testing.T) {
	now := time.Unix(1795731300, 0).UTC().Add(time.Minute) // fb_comment_edited.json's time
	p := newPipeline(t, now)
	rs, err := rules.Parse("page.yaml", []byte(`
comments: {delete: hide}
lists:
  insults: [escrocs]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete]
`), rules.LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	p.eng = rules.NewEngine(rs, p.store, rules.Options{Clock: func() time.Time { return now }})
	verdicts := p.deliver(t, fixture(t, "fb_comment_edited.json"))
	if len(verdicts) != 1 || !verdicts[0].Flagged() {
		t.Fatalf("verdicts = %+v, want the insult", verdicts)
	}
	const cid = "/987654321098765_1122334455667788"
	if n := len(p.callsTo("DELETE", cid)); n != 0 {
		t.Errorf("%d deletes of the edited comment, want none", n)
	}
	hides := p.callsTo("POST", cid)
	if len(hides) != 1 || hides[0].Params.Get("is_hidden") != "true" {
		t.Errorf("hides = %+v, want one is_hidden=true", hides)
	}
}
