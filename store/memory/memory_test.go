package memory_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New() })
}

func TestOpenCap(t *testing.T) {
	storetest.RunOpenCap(t, func(t *testing.T, n int) store.Store { return memory.New(memory.WithOpenCaseCap(n)) })
}

// TestSmallShards runs the contract with every key in one shard and tiny caps,
// where the bookkeeping of shared shards shows.
func TestSmallShards(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New(memory.WithShards(1)) })
}

// TestRoomyTables runs the contract on the tables a replay's stores use.
func TestRoomyTables(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return memory.New(memory.WithRoomyTables()) })
}

func TestBounds(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	observe := func(t *testing.T, st *memory.Store, o store.Observation) store.Result {
		t.Helper()
		res, err := st.Observe(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Run("counter saturates at the cap", func(t *testing.T) {
		st := memory.New(memory.WithMaxPerKey(5))
		var last int64
		for i := range 20 {
			res := observe(t, st, store.Observation{At: t0.Add(time.Duration(i) * time.Second), Platform: "p",
				Counters: []store.CounterOp{{Name: "n", Key: "k", Window: time.Hour, Incr: true}}})
			last = res.Counts[0]
		}
		if last != 5 {
			t.Errorf("count = %d, want the cap 5", last)
		}
	})
	// A counter at its cap keeps its newest events: an event stamped
	// before all of them (judged late) is the oldest, and is the one left
	// out, not the oldest of those kept. (It pushed that one out, and the
	// counter read one less until the window moved on.)
	t.Run("a late event at the cap does not push out a newer one", func(t *testing.T) {
		for _, cap := range []int{1, 3} {
			st := memory.New(memory.WithMaxPerKey(cap))
			op := func(incr bool) []store.CounterOp {
				return []store.CounterOp{{Name: "n", Key: "k", Window: 10 * time.Second, Incr: incr}}
			}
			for i := range cap {
				observe(t, st, store.Observation{At: t0.Add(time.Duration(10+i) * time.Second), Platform: "p", Counters: op(true)})
			}
			observe(t, st, store.Observation{At: t0, Platform: "p", Counters: op(true)})
			res := observe(t, st, store.Observation{At: t0.Add(time.Duration(9+cap) * time.Second), Platform: "p", Counters: op(false)})
			if res.Counts[0] != int64(cap) {
				t.Errorf("cap %d: count = %d after a late event, want the cap %d", cap, res.Counts[0], cap)
			}
		}
	})
	t.Run("oldest ids forgotten beyond the cap", func(t *testing.T) {
		st := memory.New(memory.WithShards(1), memory.WithMaxSeen(3))
		for i := range 4 {
			observe(t, st, store.Observation{At: t0, Platform: "p", EventID: fmt.Sprint(i)})
		}
		if observe(t, st, store.Observation{At: t0, Platform: "p", EventID: "0"}).Duplicate {
			t.Error("id 0 still remembered beyond the cap of 3")
		}
		if !observe(t, st, store.Observation{At: t0, Platform: "p", EventID: "3"}).Duplicate {
			t.Error("id 3 forgotten within the cap")
		}
	})
	t.Run("audit ring keeps the newest", func(t *testing.T) {
		st := memory.New(memory.WithAuditCap(2))
		for i := range 5 {
			if err := st.AppendAudit(ctx, store.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Mode: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
		}
		got, _ := st.Audit(ctx, time.Time{})
		if len(got) != 2 || got[0].Mode != "3" || got[1].Mode != "4" {
			t.Errorf("audit = %+v, want entries 3 and 4", got)
		}
	})
	t.Run("audit ring across its blocks", func(t *testing.T) {
		// a cap of several blocks and a part, read while filling, once
		// full and after going round more than once
		const capped = 700
		st := memory.New(memory.WithAuditCap(capped))
		for i := range 2 * capped {
			if err := st.AppendAudit(ctx, store.AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Mode: fmt.Sprint(i)}); err != nil {
				t.Fatal(err)
			}
			if n := i + 1; n == 300 || n == capped || n == capped+257 || n == 2*capped {
				got, _ := st.Audit(ctx, time.Time{})
				first := max(0, n-capped)
				if len(got) != n-first {
					t.Fatalf("after %d entries: %d kept, want %d", n, len(got), n-first)
				}
				for k, e := range got {
					if e.Mode != fmt.Sprint(first+k) {
						t.Fatalf("after %d entries: entry %d is %s, want %d", n, k, e.Mode, first+k)
					}
				}
				since, _ := st.Audit(ctx, t0.Add(time.Duration(n-10)*time.Second))
				if len(since) != 10 || since[0].Mode != fmt.Sprint(n-10) {
					t.Fatalf("after %d entries: %d since entry %d, want 10", n, len(since), n-10)
				}
			}
		}
	})
	t.Run("decided cases beyond the cap are forgotten", func(t *testing.T) {
		st := memory.New(memory.WithCaseCap(1))
		var ids []string
		for range 3 {
			c, _ := st.OpenCase(ctx, store.Case{Opened: t0})
			ids = append(ids, c.ID)
		}
		for _, id := range ids[:2] {
			if _, err := st.DecideCase(ctx, id, "keep", "cm", "", t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := st.Case(ctx, ids[0]); err == nil {
			t.Errorf("%s kept beyond the cap of one decided case", ids[0])
		}
		for _, id := range ids[1:] {
			if _, err := st.Case(ctx, id); err != nil {
				t.Errorf("%s: %v", id, err)
			}
		}
	})
	// Ids are kept three days (the default TTL): a steady stream holds three
	// days of them and no more, swept as the events' clock moves on (a shard
	// sweeps when an event reaches it: one shard here, to count exactly).
	t.Run("ids kept for the dedupe TTL only", func(t *testing.T) {
		st := memory.New(memory.WithShards(1))
		const every = 10 * time.Minute
		perTTL := int(store.DefaultDedupeTTL / every)
		for i := range 3 * perTTL {
			at := t0.Add(time.Duration(i) * every)
			observe(t, st, store.Observation{At: at, Platform: "p", EventID: fmt.Sprint(i)})
			// A sweep is due once a minute of the events' clock per shard,
			// and drops what expired a minute before the event (clocks of
			// sources a little apart): the ids of the last TTL and a minute.
			if n := st.Len(); n > perTTL+2 {
				t.Fatalf("after %s of events: %d ids kept, want at most the %d of the last %s and a minute",
					at.Sub(t0), n, perTTL+2, store.DefaultDedupeTTL)
			}
		}
		last := t0.Add(time.Duration(3*perTTL-1) * every)
		if !observe(t, st, store.Observation{At: last, Platform: "p", EventID: fmt.Sprint(2*perTTL + 1)}).Duplicate {
			t.Error("an id seen less than the TTL ago is not a duplicate")
		}
		st.Sweep(last.Add(store.DefaultDedupeTTL))
		if n := st.Len(); n != 0 {
			t.Errorf("%d ids left a TTL after the last event, want 0", n)
		}
	})
	// Beyond the cap of authors, a new author's strike takes the place of
	// another's: the store holds no more authors than the cap, counts those
	// it forgot, and keeps the strikes of the one just struck.
	t.Run("authors with strikes capped", func(t *testing.T) {
		st := memory.New(memory.WithShards(1), memory.WithMaxStrikeAuthors(4))
		for i := range 10 {
			err := st.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: fmt.Sprint("u-", i), At: t0.Add(time.Duration(i) * time.Second)})
			if err != nil {
				t.Fatal(err)
			}
		}
		if n, d := st.Len(), st.StrikeAuthorsDropped(); n != 4 || d != 6 {
			t.Errorf("%d authors kept, %d dropped; want 4 and 6", n, d)
		}
		if got, err := st.Strikes(ctx, "p", "s", "u-9", t0.Add(time.Minute)); err != nil || len(got) != 1 {
			t.Errorf("the last author struck has %d strikes (%v), want 1", len(got), err)
		}
	})
	t.Run("sweep drops expired state", func(t *testing.T) {
		st := memory.New(memory.WithShards(1))
		observe(t, st, store.Observation{At: t0, Platform: "p", EventID: "a", DedupeTTL: time.Minute,
			Counters: []store.CounterOp{{Name: "n", Key: "k", Window: time.Minute, Incr: true}}})
		st.Sweep(t0.Add(2 * time.Minute))
		if n := st.Len(); n != 0 {
			t.Errorf("%d entries left after the sweep, want 0", n)
		}
	})
}

// BenchmarkObserve measures one event through the store the way the engine asks:
// a dedupe id, three counters (author, author with a condition, space) and strikes.
func BenchmarkObserve(b *testing.B) {
	st := memory.New()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var seq atomic.Int64
	authors := make([]string, 10_000)
	for i := range authors {
		authors[i] = fmt.Sprintf("u-%d", i)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		ops := make([]store.CounterOp, 3)
		for pb.Next() {
			n := seq.Add(1)
			author := authors[n%int64(len(authors))]
			ops[0] = store.CounterOp{Name: "msgs", Key: author, Window: 10 * time.Second, Incr: true}
			ops[1] = store.CounterOp{Name: "links", Key: author, Window: time.Hour, Incr: n%4 == 0}
			ops[2] = store.CounterOp{Name: "raid", Key: "guild-1", Window: time.Minute, Incr: n%50 == 0}
			_, err := st.Observe(ctx, store.Observation{
				At: t0.Add(time.Duration(n) * 10 * time.Microsecond), Platform: "discord", Space: "guild-1",
				Author: author, EventID: "m-" + fmt.Sprint(n), Counters: ops, StrikeWindow: 24 * time.Hour,
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestCaseIndex: the index of open cases follows opening (in and out of the
// clock's order) and decisions, through the rebuilds of its queue.
func TestCaseIndex(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := memory.New(memory.WithOpenCaseCap(1 << 20))
	const n = 5000
	var ids []string
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		if i%100 == 99 {
			at = at.Add(-50 * time.Second) // a late one
		}
		prio := ""
		if i%10 == 0 {
			prio = "high"
		}
		c, err := st.OpenCase(ctx, store.Case{Opened: at, Priority: prio, Reason: "r",
			Event: bot.Event{ID: fmt.Sprint("m-", i), Platform: "p", Author: bot.Author{ID: fmt.Sprint("u-", i)}, At: at}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	// Decide the first 3000 but one in ten, and some later ones.
	for i, id := range ids {
		if (i < 3000 && i%10 != 5) || i%7 == 0 {
			if _, err := st.DecideCase(ctx, id, "keep", "cm", "", t0); err != nil {
				t.Fatal(err)
			}
		}
	}
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := st.OpenCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{}
	oldest := open[0].Opened
	for _, c := range open {
		want[c.Priority]++
		if c.Opened.Before(oldest) {
			oldest = c.Opened
		}
	}
	if !maps.Equal(counts.ByPriority, want) || !counts.Oldest.Equal(oldest) || counts.Total() != len(open) {
		t.Errorf("counts %v oldest %s; want %v %s", counts.ByPriority, counts.Oldest, want, oldest)
	}
	from, to := t0.Add(2990*time.Second), t0.Add(4000*time.Second)
	got, err := st.OpenedWithin(ctx, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs []string
	for _, c := range open {
		if !c.Opened.Before(from) && c.Opened.Before(to) {
			wantIDs = append(wantIDs, c.ID)
		}
	}
	var gotIDs []string
	for i, c := range got {
		gotIDs = append(gotIDs, c.ID)
		if i > 0 && c.Opened.Before(got[i-1].Opened) {
			t.Fatalf("not oldest first at %d", i)
		}
	}
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("opened within: %d cases, want %d", len(gotIDs), len(wantIDs))
	}
}

// TestSweepIdle: a store no event comes to frees its expired counters when
// told the time, and leaves alone a shard an event swept within the period.
func TestSweepIdle(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := memory.New(memory.WithShards(1))
	for i := range 100 {
		if _, err := st.Observe(ctx, store.Observation{At: t0, Platform: "p",
			Counters: []store.CounterOp{{Name: "n", Key: fmt.Sprint(i), Window: 10 * time.Second, Incr: true}}}); err != nil {
			t.Fatal(err)
		}
	}
	st.SweepIdle(t0.Add(30 * time.Second)) // swept by the events at t0
	if n := st.Len(); n != 100 {
		t.Errorf("%d counters after a sweep within the period, want 100 kept", n)
	}
	st.SweepIdle(t0.Add(2 * time.Minute))
	if n := st.Len(); n != 0 {
		t.Errorf("%d counters after an idle minute, want 0", n)
	}
}

// TestCardsGoWithTheCase: a decided case forgotten beyond the cap takes the
// places of its cards with it.
func TestCardsGoWithTheCase(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseCap(1))
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 2 {
		c, err := st.OpenCase(ctx, store.Case{Reason: fmt.Sprint("r", i), Opened: t0})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.AddCard(ctx, c.ID, bot.CardRef{Platform: "telegram", Chat: "1", Message: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DecideCase(ctx, c.ID, "keep", "http:ann", "", t0); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	if cards, err := st.CaseCards(ctx, ids[0]); err != nil || len(cards) != 0 {
		t.Errorf("cards of the forgotten case %s = %v, %v; want none", ids[0], cards, err)
	}
	if err := st.AddCard(ctx, ids[0], bot.CardRef{Platform: "telegram", Chat: "1", Message: "9"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCard on the forgotten case: %v, want ErrNotFound", err)
	}
	if cards, err := st.CaseCards(ctx, ids[1]); err != nil || len(cards) != 1 {
		t.Errorf("cards of the kept case %s = %v, %v; want one", ids[1], cards, err)
	}
}

// TestLongKeys: keys too long to be laid out on the stack for hashing are
// hashed another way; they count, dedupe and keep strikes all the same, apart
// from the short keys they start with.
func TestLongKeys(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	long := func(c byte) string { return string(slices.Repeat([]byte{c}, 200)) }
	st := memory.New(memory.WithShards(1))
	for _, author := range []string{"u", long('u')} {
		if err := st.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: author, At: t0, TTL: time.Hour}); err != nil {
			t.Fatal(err)
		}
	}
	keys := []string{"k", long('k'), long('k')[:120], long('j')}
	for n := int64(1); n <= 2; n++ {
		for i, author := range []string{"u", long('u'), long('v')} {
			ops := make([]store.CounterOp, len(keys))
			for j, k := range keys {
				ops[j] = store.CounterOp{Name: "n", Key: k, Window: time.Hour, Incr: true}
			}
			res, err := st.Observe(ctx, store.Observation{At: t0.Add(time.Minute), Platform: "p", Space: "s",
				Author: author, EventID: fmt.Sprint(long('e'), n, i), Counters: ops, StrikeWindow: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if res.Duplicate {
				t.Fatalf("event %d of %d taken for a duplicate", i, n)
			}
			for j, c := range res.Counts {
				if want := 3*(n-1) + int64(i) + 1; c != want {
					t.Errorf("round %d, author %d: counter %d = %d, want %d", n, i, j, c, want)
				}
			}
			if want := 1 - i/2; len(res.Strikes) != want {
				t.Errorf("author %d: %d strikes, want %d", i, len(res.Strikes), want)
			}
		}
		res, err := st.Observe(ctx, store.Observation{At: t0.Add(time.Minute), Platform: "p", EventID: fmt.Sprint(long('e'), n, 0)})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Duplicate {
			t.Errorf("a long event id seen again is not a duplicate")
		}
	}
}

// TestObserveInto: with Observation.Into, the counts and strikes are written
// into the slices lent when they have room, and are those of an
// observation without it.
func TestObserveInto(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	s := memory.New()
	if err := s.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: "a", At: at, Rule: "r"}); err != nil {
		t.Fatal(err)
	}
	obs := func(id string, into *store.Result) store.Result {
		t.Helper()
		res, err := s.Observe(ctx, store.Observation{At: at.Add(time.Second), Platform: "p", Space: "s", Author: "a",
			EventID: id, StrikeWindow: time.Hour, Into: into, Counters: []store.CounterOp{
				{Name: "msgs", Key: "a", Window: time.Minute, Incr: true},
				{Name: "other", Key: "a", Window: time.Minute}}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	plain := obs("1", nil)
	into := store.Result{Counts: make([]int64, 0, 4), Strikes: make([]time.Time, 0, 4)}
	lent := obs("2", &into)
	if !slices.Equal(plain.Counts, []int64{1, 0}) || !slices.Equal(lent.Counts, []int64{2, 0}) {
		t.Errorf("counts %v then %v, want [1 0] then [2 0]", plain.Counts, lent.Counts)
	}
	if !slices.Equal(plain.Strikes, lent.Strikes) || len(lent.Strikes) != 1 {
		t.Errorf("strikes %v then %v, want the one strike both times", plain.Strikes, lent.Strikes)
	}
	if &lent.Counts[0] != &into.Counts[:1][0] || &lent.Strikes[0] != &into.Strikes[:1][0] {
		t.Error("the counts and strikes are not in the slices lent")
	}
	small := store.Result{Counts: make([]int64, 0, 1)}
	if res := obs("3", &small); !slices.Equal(res.Counts, []int64{3, 0}) || cap(small.Counts) != 1 {
		t.Errorf("with too little room lent: counts %v, want [3 0] in a slice of its own", res.Counts)
	}
}
