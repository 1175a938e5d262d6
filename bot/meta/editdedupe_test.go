package meta_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// An edit is judged when it is made, as Discord's are: the edit of a comment
// written a month ago was judged at the comment's time, which the engine
// brings to 72 hours back at most, so that the store forgot its id at once;
// Meta's retry of it then reached a second instance, or this one after a
// restart, and was judged again: a second strike, a second case.
func TestEditOfAnOldCommentJudgedOnce(t *testing.T) {
	clock := func() time.Time { return fixedNow }
	sent := fixedNow.Add(-time.Minute)
	body := feedDelivery(feedEntry{"c_9", "edited", sent, sent.AddDate(0, 0, -30)})

	rs, err := rules.Parse("page.yaml", []byte(pageRules), rules.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	// The daemon's engine: on the wall clock.
	eng := rules.NewEngine(rs, st, rules.Options{Clock: clock})

	// Two instances behind one address, on one store (or one instance and
	// its restart).
	first := newHarness(t, func(c *meta.Config) { c.Now = clock })
	second := newHarness(t, func(c *meta.Config) { c.Now = clock })

	first.mustPost(body)
	evs := first.collect()
	if len(evs) != 1 {
		t.Fatalf("events = %+v, want the edit", evs)
	}
	if !evs[0].At.Equal(sent) {
		t.Errorf("edit at %v, want %v: when Meta sent it, not when the comment was written", evs[0].At, sent)
	}
	v, err := eng.Evaluate(context.Background(), evs[0])
	if err != nil {
		t.Fatal(err)
	}
	if v.Duplicate || !v.Flagged() {
		t.Fatalf("first delivery: %+v, want it judged and flagged", v)
	}

	// Quiet minutes: the daemon sweeps what expired by the wall clock (the
	// first minute finds the shards the edit came to, the next sweeps them).
	st.SweepIdle(fixedNow.Add(2 * time.Minute))
	st.SweepIdle(fixedNow.Add(3 * time.Minute))

	second.mustPost(body)
	again := second.collect()
	if len(again) != 1 {
		t.Fatalf("events = %+v, want the retried edit (the second instance has not seen it)", again)
	}
	v, err = eng.Evaluate(context.Background(), again[0])
	if err != nil {
		t.Fatal(err)
	}
	if !v.Duplicate {
		t.Errorf("Meta's retry of the edit: %+v, want a duplicate", v)
	}
}
