package memory

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// TestNearAuthor checks that an author's counters (store.CounterOp.ByAuthor)
// are kept in the author's shard, and still count apart, each its own
// window, and go at the sweep.
func TestNearAuthor(t *testing.T) {
	ctx := context.Background()
	s := New()
	start := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	const authors, keys = 2000, 6
	ops := func(author string) []store.CounterOp {
		out := make([]store.CounterOp, keys)
		for j := range out {
			// author.id + "|" + sketch(j), as the engine sums it
			sum := store.SumName(fmt.Sprint("near", j)).Then(store.SumText(author)).Then(store.SumNumber(uint64(j)))
			out[j] = store.CounterOp{Name: "near", Sum: sum, ByAuthor: true, Window: 10 * time.Minute, Incr: true}
		}
		return out
	}
	for round := range 3 {
		for a := range authors {
			author := fmt.Sprint("u-", a)
			res, err := s.Observe(ctx, store.Observation{At: start.Add(time.Duration(round*authors+a) * time.Millisecond),
				Platform: "discord", Space: "g", Author: author, Counters: ops(author)})
			if err != nil {
				t.Fatal(err)
			}
			for j, n := range res.Counts {
				if n != int64(round+1) {
					t.Fatalf("round %d, %s, counter %d: %d, want %d", round, author, j, n, round+1)
				}
			}
		}
	}
	place := placeOf(s, "discord", "g")
	for a := range authors {
		author := fmt.Sprint("u-", a)
		ak := keyOf(s, "discord", "g", author)
		for j, op := range ops(author) {
			k := hkey(store.KeySum(place).Then(op.Sum))
			near := s.nearAuthor(k, ak)
			if s.shardOf(near) != s.shardOf(ak) {
				t.Fatalf("%s: counter %d out of the author's shard", author, j)
			}
			if fpOf(near) != fpOf(k) || tagOf(near) != tagOf(k) {
				t.Fatalf("%s: counter %d kept under other bits than its key's", author, j)
			}
			if s.shardOf(near).windows.find(fpOf(near), tagOf(near)) < 0 {
				t.Fatalf("%s: counter %d not found", author, j)
			}
		}
	}
	s.Sweep(start.Add(time.Hour))
	for i := range s.shards {
		if n := s.shards[i].windows.len(); n != 0 {
			t.Fatalf("shard %d holds %d counters after the sweep", i, n)
		}
	}
}
