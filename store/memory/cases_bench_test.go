package memory

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// BenchmarkOpenCase opens the cases of a raid night's forwards, one event
// each: authors who come back to a case still open (grouped), new authors in
// places that open their own cases (opened), and, with the cap reached,
// cases that are refused (dropped).
func BenchmarkOpenCase(b *testing.B) {
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	ctx := context.Background()
	kase := func(i, authors, places int) store.Case {
		return store.Case{Rule: "scam", Category: "spam", Reason: "forwarded by rule scam", Opened: t0.Add(time.Duration(i) * time.Millisecond),
			Event: bot.Event{ID: "m-" + strconv.Itoa(i), Platform: "discord", Space: "guild-" + strconv.Itoa(i%places), Channel: "general",
				Author: bot.Author{ID: "u-" + strconv.Itoa(i%authors)}, At: t0}}
	}
	run := func(b *testing.B, st *Store, authors, places int) {
		cs := make([]store.Case, 4096)
		for i := range cs {
			cs[i] = kase(i, authors, places)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c := cs[i%len(cs)]
			c.Event.ID = "n-" + strconv.Itoa(i)
			if _, err := st.OpenCase(ctx, c); err != nil && !isCap(err) {
				b.Fatal(err)
			}
		}
	}
	b.Run("grouped", func(b *testing.B) {
		// 512 authors in 64 places: each author's case is open after its first hit.
		run(b, New(), 512, 64)
	})
	b.Run("opened", func(b *testing.B) {
		// Holds: no grouping, every hit opens a case; the cap never binds.
		st := New(WithOpenCaseCap(1 << 30))
		cs := make([]store.Case, 4096)
		for i := range cs {
			cs[i] = kase(i, 1<<20, 64)
			cs[i].Holds = true
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c := cs[i%len(cs)]
			c.Event.ID = "n-" + strconv.Itoa(i)
			if _, err := st.OpenCase(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dropped", func(b *testing.B) {
		st := New(WithOpenCaseCap(16))
		for i := range 16 {
			c := kase(i, 1<<20, 1<<20)
			c.Holds = true
			if _, err := st.OpenCase(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
		cs := make([]store.Case, 4096)
		for i := range cs {
			cs[i] = kase(i, 1<<20, 1<<20)
			cs[i].Holds = true
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			c := cs[i%len(cs)]
			c.Event.ID = "n-" + strconv.Itoa(i)
			if _, err := st.OpenCase(ctx, c); !isCap(err) {
				b.Fatal(err)
			}
		}
	})
}

func isCap(err error) bool { return errors.Is(err, store.ErrCaseCap) }

// BenchmarkDecideCase decides open cases in a random order with the decided
// ones at their cap (DefaultCaseCap): each decision forgets the oldest
// decided case, as the expiry of a raid night's cases does a day later.
func BenchmarkDecideCase(b *testing.B) {
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	ctx := context.Background()
	st := New(WithOpenCaseCap(1 << 30))
	const decidedFirst = DefaultCaseCap
	ids := make([]string, 0, decidedFirst+b.N)
	for i := range decidedFirst + b.N {
		c, err := st.OpenCase(ctx, store.Case{Rule: "r", Reason: "x", Holds: true, Event: bot.Event{ID: "m-" + strconv.Itoa(i),
			Platform: "p", Author: bot.Author{ID: "u"}, At: t0}})
		if err != nil {
			b.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	for _, id := range ids[:decidedFirst] {
		if _, err := st.DecideCase(ctx, id, "keep", "cm", "", t0); err != nil {
			b.Fatal(err)
		}
	}
	rest := ids[decidedFirst:]
	// a shuffle that needs no seed: a stride prime to len(rest)
	order := make([]string, len(rest))
	for i := range rest {
		order[i] = rest[(i*7919)%len(rest)]
	}
	if len(rest)%7919 == 0 {
		copy(order, rest)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, id := range order {
		if _, err := st.DecideCase(ctx, id, "keep", "cm", "", t0); err != nil {
			b.Fatal(err)
		}
	}
}
