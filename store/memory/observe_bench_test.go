package memory_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// BenchmarkObserveAuthors observes events shaped as the starter pack's:
// six counters of the author (its messages, its texts, the four bands of
// their sketch), three of the space and two of its alerts' hits, the
// author's strikes, the event's id; 10 ms apart, from 200,000 authors, so
// that the store's tables are far larger than the caches, as in a busy
// store. The first 600,000 events fill them; b.N events are then timed.
//
//	go test ./store/memory -run '^$' -bench ObserveAuthors -benchtime 200000x
func BenchmarkObserveAuthors(b *testing.B) {
	const authors, fill = 200_000, 600_000
	ctx := context.Background()
	s := memory.New()
	start := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	names := []string{"msgs", "same_text", "near0", "near1", "near2", "near3", "copies", "joins", "~hits:insult", "~hits:slur"}
	sums := make([]store.KeySum, len(names))
	for i, n := range names {
		sums[i] = store.SumName(n)
	}
	ids := make([]string, authors)
	for i := range ids {
		ids[i] = "u-" + strconv.Itoa(i)
	}
	ops := make([]store.CounterOp, len(names))
	observe := func(i int) {
		x := uint64(i) * 0x9E3779B97F4A7C15
		author := ids[x%authors]
		text := store.SumNumber(x >> 40 % 50_000) // a text said again now and then
		a := store.SumText(author)
		for j := range 6 {
			ops[j] = store.CounterOp{Name: names[j], Sum: sums[j].Then(a).Then(text).Then(store.SumNumber(uint64(j))),
				ByAuthor: true, Window: 10 * time.Minute, Incr: true}
		}
		ops[0].Window = 10 * time.Second
		ops[6] = store.CounterOp{Name: names[6], Sum: sums[6].Then(store.SumText("g")).Then(text), Window: 10 * time.Minute, Incr: true}
		ops[7] = store.CounterOp{Name: names[7], Sum: sums[7].Then(store.SumText("g")), Window: time.Minute}
		for j := 8; j < 10; j++ {
			ops[j] = store.CounterOp{Name: names[j], Sum: sums[j].Then(store.SumText("g")), Window: 10 * time.Minute, Incr: x>>20%50 == 0}
		}
		_, err := s.Observe(ctx, store.Observation{At: start.Add(time.Duration(i) * 10 * time.Millisecond),
			Platform: "discord", Space: "g", Author: author, EventID: strconv.Itoa(i), Counters: ops, StrikeWindow: 24 * time.Hour})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range fill {
		observe(i)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		observe(fill + i)
	}
}

// BenchmarkStrikesAtTheirCap strikes an author who has his hundred strikes
// already and reads them as an event's observation does (the last 24
// hours), over 20,000 such authors: what a store full of strikes costs an
// event that strikes.
//
//	go test ./store/memory -run '^$' -bench StrikesAtTheirCap
func BenchmarkStrikesAtTheirCap(b *testing.B) {
	const authors = 20_000
	ctx := context.Background()
	s := memory.New()
	start := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ids := make([]string, authors)
	for i := range ids {
		ids[i] = "u-" + strconv.Itoa(i)
	}
	at := func(i int) time.Time { return start.Add(time.Duration(i) * 3 * time.Millisecond) }
	for i := range memory.DefaultMaxStrikes * authors {
		if err := s.AddStrike(ctx, store.Strike{Platform: "discord", Space: "g", Author: ids[i%authors], At: at(i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := memory.DefaultMaxStrikes * authors; b.Loop(); i++ {
		author := ids[i%authors]
		if err := s.AddStrike(ctx, store.Strike{Platform: "discord", Space: "g", Author: author, At: at(i)}); err != nil {
			b.Fatal(err)
		}
		res, err := s.Observe(ctx, store.Observation{At: at(i), Platform: "discord", Space: "g", Author: author, StrikeWindow: 24 * time.Hour})
		if err != nil || len(res.Strikes) != memory.DefaultMaxStrikes {
			b.Fatalf("%d strikes, %v", len(res.Strikes), err)
		}
	}
}

// BenchmarkStrikesOverAWeekend strikes 100,000 authors at random for 48
// hours on the events' clock, at the rate each of the soak's million
// authors is struck (make soak: 3,000 events/s, 0.45 strike an event, 95% of
// the events spread over the million): 128 strikes a second here, each
// author's every 13 minutes. It logs the strikes' memory an author every
// 6 hours: it grows until every author has his 100 strikes, in about 22
// hours, and holds there, as strikes last 30 days.
//
//	go test ./store/memory -run '^$' -bench StrikesOverAWeekend -benchtime 1x -v
func BenchmarkStrikesOverAWeekend(b *testing.B) {
	const authors, perSecond = 100_000, 128
	ctx := context.Background()
	start := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	ids := make([]string, authors)
	for i := range ids {
		ids[i] = "u-" + strconv.Itoa(i)
	}
	for b.Loop() {
		s := memory.New()
		x := uint64(1)
		for i := range 48 * 3600 * perSecond {
			x = x*6364136223846793005 + 1442695040888963407
			at := start.Add(time.Duration(i) * time.Second / perSecond)
			if err := s.AddStrike(ctx, store.Strike{Platform: "discord", Space: "g", Author: ids[x>>33%authors], At: at}); err != nil {
				b.Fatal(err)
			}
			if (i+1)%(6*3600*perSecond) == 0 {
				b.Logf("hour %d: %d bytes of strikes an author", (i+1)/(3600*perSecond), s.Footprint().Strikes/authors)
			}
		}
		b.ReportMetric(float64(s.Footprint().Strikes)/authors, "B/author")
		s.Close()
	}
}
