//go:build unix

package memory

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The strike pool against a plain map of lists: lists added, changed in
// place or to another size, and removed, in any order, read back as they
// were written, and all its memory given back once it holds none.
func TestStrikePool(t *testing.T) {
	for _, tc := range []struct {
		name       string
		lists, max int
		mapped     bool // the pool's arrays outgrow the heap's (mappedMin)
	}{
		{"few short lists", 50, 5, false},
		{"lists past the mapped size", 20_000, 12, true},
		{"long lists", 200, 300, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newArena()
			p := strikePool{arena: a}
			rnd := rand.New(rand.NewPCG(1, uint64(tc.lists)))
			want := map[uint32][]strike{}
			var ids []uint32
			randomList := func() []strike {
				l := make([]strike, 1+rnd.IntN(tc.max))
				for i := range l {
					l[i] = strike{at: int64(i), exp: 1 + rnd.Int64N(1000)}
				}
				return l
			}
			check := func(step int) {
				t.Helper()
				for i, w := range want {
					got := p.list(i)
					if !slices.Equal(got, w) {
						t.Fatalf("step %d: list %d = %v, want %v", step, i, got, w)
					}
					first := w[0].exp
					for _, x := range w {
						first = min(first, x.exp)
					}
					if p.first(i) != first {
						t.Fatalf("step %d: list %d first expiry %d, want %d", step, i, p.first(i), first)
					}
					if p.last(i) != w[len(w)-1].at {
						t.Fatalf("step %d: list %d last strike at %d, want %d", step, i, p.last(i), w[len(w)-1].at)
					}
				}
			}
			for step := range 4 * tc.lists {
				switch op := rnd.IntN(10); {
				case op < 5 || len(ids) == 0:
					l := randomList()
					i := p.add(l)
					if _, ok := want[i]; ok {
						t.Fatalf("step %d: index %d given twice", step, i)
					}
					want[i] = l
					ids = append(ids, i)
				case op < 8:
					// Changed in place, as AddStrike and the sweep do: one
					// strike more when it fits, or one less.
					i := ids[rnd.IntN(len(ids))]
					l := p.list(i)
					if rnd.IntN(2) == 0 {
						l = slices.Insert(l, 0, strike{at: -1, exp: 2000})
					} else if len(l) > 1 {
						l = slices.Delete(l, 0, 1)
					}
					want[i] = slices.Clone(l)
					p.set(i, l)
				default:
					k := rnd.IntN(len(ids))
					i := ids[k]
					ids = slices.Delete(ids, k, k+1)
					delete(want, i)
					p.remove(i)
				}
				if step%997 == 0 {
					check(step)
				}
			}
			check(-1)
			if tc.mapped && len(a.live) == 0 {
				t.Errorf("%d lists in %d heads and %d blocks, none mapped outside the heap", len(ids), len(p.heads), len(p.blocks))
			}
			for _, i := range ids {
				p.remove(i)
			}
			if len(a.live) != 0 || p.heads != nil || p.blocks != nil {
				t.Errorf("empty pool: %d mappings live, %d heads and %d blocks kept; want none", len(a.live), len(p.heads), len(p.blocks))
			}
		})
	}
}
