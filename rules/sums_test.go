package rules_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// textKeyed hides the memory store's store.SumKeyed: the engine sends it
// the counters' keys as text, as it does to Redis.
type textKeyed struct{ store.Store }

// TestCounterSums checks that the starter pack decides the same with the
// counters' keys sent as sums (store.KeySum) as with their text: the same
// counts, matches and alerts for every event of the corpus.
func TestCounterSums(t *testing.T) {
	rs, err := rules.Load(filepath.Join("..", "rules.example.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	summed := memory.New()
	if !store.TakesSums(summed) || store.TakesSums(textKeyed{memory.New()}) {
		t.Fatal("the memory store should take sums, the wrapper not")
	}
	bySum := rules.NewEngine(rs, summed, rules.Options{})
	byText := rules.NewEngine(rs, textKeyed{memory.New()}, rules.Options{})
	p := prepare(t)
	ctx := context.Background()
	n := min(len(p.events), 3000)
	counted := 0
	for i := range n {
		ev := p.event(i)
		a, err := bySum.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		b, err := byText.Assess(ctx, ev)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.Verdict, b.Verdict) || !reflect.DeepEqual(a.Alerts, b.Alerts) {
			t.Fatalf("event %d (%q): by sums %+v %+v, by text %+v %+v", i, ev.Text, a.Verdict, a.Alerts, b.Verdict, b.Alerts)
		}
		for _, c := range a.Verdict.Counters {
			if c > 1 {
				counted++
				break
			}
		}
	}
	// the corpus repeats texts and authors: counters go past one
	if counted == 0 {
		t.Fatal("no counter went past one: the test compares nothing")
	}
	t.Logf("%d events, %d with a counter past one", n, counted)
}
