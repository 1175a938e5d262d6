package memory_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The footprint follows what the store holds, part by part: counters of one
// timestamp take no ring, a second one does, and a sweep past every expiry
// gives the rings all back and the rest nearly so.
func TestFootprint(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := memory.New()
	defer st.Close()
	if f := st.Footprint(); f != (memory.Footprint{}) {
		t.Fatalf("empty store: %+v", f)
	}
	observe := func(i int, at time.Time) {
		t.Helper()
		_, err := st.Observe(ctx, store.Observation{At: at, Platform: "p", Space: "s", Author: fmt.Sprint("u", i), EventID: fmt.Sprint(i, at.Unix()),
			Counters: []store.CounterOp{{Name: "n", Key: fmt.Sprint("u", i), Window: 10 * time.Minute, Incr: true}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	const n = 50_000
	for i := range n {
		observe(i, t0)
	}
	once := st.Footprint()
	if once.Counters < n*16 || once.Dedupe < n*16 || once.Rings != 0 || once.Strikes != 0 {
		t.Errorf("%d counters of one timestamp: %+v; want room for each in the counters and the ids, no ring, no strike", n, once)
	}
	for i := range n {
		observe(i, t0.Add(time.Second))
		if i%2 == 0 {
			if err := st.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: fmt.Sprint("u", i), At: t0, TTL: time.Hour}); err != nil {
				t.Fatal(err)
			}
		}
	}
	twice := st.Footprint()
	// a ring's head and a block of four timestamps
	if twice.Rings < n*(16+32) || twice.Strikes < n/2*16 || twice.Counters != once.Counters {
		t.Errorf("%d counters of two timestamps, %d authors struck: %+v; want a ring each, room for the strikes, the counters' table as it was (%d)", n, n/2, twice, once.Counters)
	}
	st.Sweep(t0.Add(100 * time.Hour))
	swept := st.Footprint()
	if swept.Rings != 0 || swept.Counters > twice.Counters/10 || swept.Dedupe > twice.Dedupe/10 || swept.Strikes > twice.Strikes/10 {
		t.Errorf("swept past every expiry: %+v, from %+v; want no ring and a tenth of the rest at most", swept, twice)
	}
}

// What a full strike store holds is its authors at their cap of strikes,
// the bound a weekend at a raid's rate reaches (a million authors struck
// every few minutes each fill their hundred in two days, and strikes last 30
// days): a strike takes 8 bytes, its list's block at most twice them (its
// size class), and the blocks the lists left on their way up to the cap are
// taken back, not kept beside them.
func TestFootprintOfStrikesAtTheirCap(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := memory.New()
	defer st.Close()
	const authors = 20_000
	// Every author struck once a round, as a stream spread over many
	// authors strikes them: each list grows through every size class.
	for round := range memory.DefaultMaxStrikes + 20 {
		for i := range authors {
			at := t0.Add(time.Duration(round)*time.Minute + time.Duration(i)*time.Microsecond)
			if err := st.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: fmt.Sprint("u", i), At: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, i := range []int{0, authors / 2, authors - 1} {
		got, err := st.Strikes(ctx, "p", "s", fmt.Sprint("u", i), t0.Add(24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != memory.DefaultMaxStrikes || !got[0].Equal(t0.Add(20*time.Minute+time.Duration(i)*time.Microsecond).Truncate(time.Millisecond)) {
			t.Fatalf("author %d: %d strikes from %v, want the last %d from minute 20", i, len(got), got[0], memory.DefaultMaxStrikes)
		}
	}
	f := st.Footprint()
	perAuthor := f.Strikes / authors
	t.Logf("%d authors at %d strikes: %d bytes of strikes, %d an author", authors, memory.DefaultMaxStrikes, f.Strikes, perAuthor)
	// 100 strikes of 8 bytes in a block of 128, a list's head, the author's
	// slot in the table: 1,060 bytes; a quarter more for the blocks freed
	// since the pool was last packed.
	if perAuthor > 1_400 {
		t.Errorf("%d bytes of strikes an author at the cap of %d, want at most 1,400", perAuthor, memory.DefaultMaxStrikes)
	}
}
