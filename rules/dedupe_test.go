package rules_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// An event dated weeks ago is judged at the clock less MaxAge, as long ago as
// the store remembers ids: its id is remembered from when the clock saw it, so
// that the same event posted again minutes later, after the day's events, is a
// duplicate and not judged (and struck) twice.
func TestOldEventDeduped(t *testing.T) {
	rs := parse(t, `
lists:
  insults: [connard]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [strike]
`)
	st := memory.New()
	defer st.Close()
	start := paris(t, 5, 22, 0)
	now := start
	eng := rules.NewEngine(rs, st, rules.Options{Clock: func() time.Time { return now }})
	ctx := context.Background()
	old := msg("old", "bob", "quel connard", start.Add(-21*24*time.Hour))
	v, err := eng.Evaluate(ctx, old)
	if err != nil || v.Duplicate || len(v.Matches) != 1 {
		t.Fatalf("first time: %s, %v", summary(v), err)
	}
	// the day's events, which move the store's clock on
	for i := range 1000 {
		now = start.Add(time.Duration(i) * 300 * time.Millisecond)
		if _, err := eng.Evaluate(ctx, msg(fmt.Sprint("live-", i), "bob", "salut", now)); err != nil {
			t.Fatal(err)
		}
	}
	now = start.Add(5 * time.Minute)
	v, err = eng.Evaluate(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Duplicate {
		t.Errorf("posted again 5 minutes later: %s, want a duplicate", summary(v))
	}
}
