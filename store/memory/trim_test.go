package memory

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// TestCaseCapModel opens and decides cases in a random order and checks the
// store against a plain model of the cap: the oldest decided cases beyond
// it are forgotten (Case says not found, their origins open new cases), the
// others are read in the order they were opened.
func TestCaseCapModel(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	const keep = 7
	st := New(WithCaseCap(keep))
	rng := rand.New(rand.NewPCG(1, 2))
	type mcase struct {
		id, origin string
		decided    bool
	}
	var model []*mcase // kept, oldest first
	byOrigin := map[string]*mcase{}
	var open []*mcase
	kase := func(n int) store.Case {
		return store.Case{Rule: "r", Reason: "x", Holds: true, Event: bot.Event{ID: fmt.Sprint("m-", n), Platform: "p",
			Author: bot.Author{ID: "u"}, At: t0}}
	}
	forgotten := map[string]bool{}
	for step := range 12000 {
		switch {
		case len(open) == 0 || rng.IntN(3) > 0:
			// a new case, or an origin seen before (kept or forgotten)
			n := step
			if step > 10 && rng.IntN(8) == 0 {
				n = rng.IntN(step)
			}
			c := kase(n)
			got, err := st.OpenCase(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if m := byOrigin[c.Origin()]; m != nil {
				if got.ID != m.id {
					t.Fatalf("step %d: origin %s opened %s, want the kept %s", step, c.Origin(), got.ID, m.id)
				}
				continue
			}
			if forgotten[got.ID] {
				t.Fatalf("step %d: id %s again", step, got.ID)
			}
			m := &mcase{id: got.ID, origin: c.Origin()}
			model = append(model, m)
			byOrigin[m.origin] = m
			open = append(open, m)
		default:
			i := rng.IntN(len(open))
			m := open[i]
			open = slices.Delete(open, i, i+1)
			if _, err := st.DecideCase(ctx, m.id, "keep", "cm", "", t0); err != nil {
				t.Fatal(err)
			}
			m.decided = true
			decided := 0
			for _, k := range model {
				if k.decided {
					decided++
				}
			}
			model = slices.DeleteFunc(model, func(k *mcase) bool {
				if decided > keep && k.decided {
					decided--
					delete(byOrigin, k.origin)
					forgotten[k.id] = true
					return true
				}
				return false
			})
		}
		if step%97 != 0 && step != 11999 {
			continue
		}
		for _, status := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
			cs, err := st.Cases(ctx, status)
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, c := range cs {
				got = append(got, c.ID)
			}
			for _, k := range model {
				if k.decided == (status == store.CaseDecided) {
					want = append(want, k.id)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("step %d: %s cases %v, want %v", step, status, got, want)
			}
		}
		pending, err := st.PendingCases(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != len(model) {
			t.Fatalf("step %d: %d pending, want %d", step, len(pending), len(model))
		}
		for id := range forgotten {
			if _, err := st.Case(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Fatalf("step %d: forgotten %s: %v", step, id, err)
			}
		}
	}
	if len(forgotten) < 2048 {
		t.Fatalf("only %d cases forgotten: order was never compacted", len(forgotten))
	}
}
