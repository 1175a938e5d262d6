package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestReadCounters checks an observation's counters only read, for every set
// of them that is there among six (counter i holds i+1 events when there),
// and what Redis runs for them: one EXISTS when none is there, and halves
// asked in turn when a few are, rather than a ZCOUNT for each (one counter
// there among eight: at most four EXISTS and one ZCOUNT).
func TestReadCounters(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	// calls says how many EXISTS and ZCOUNT Redis ran since the last call.
	calls := func() (exists, zcount int) { return existsAndZcounts(t, c) }
	for _, n := range []int{6, 8} {
		for set := range 1 << n {
			space := fmt.Sprintf("g%d-%d", n, set)
			ops := make([]store.CounterOp, n)
			for i := range ops {
				ops[i] = store.CounterOp{Name: fmt.Sprint("c", i), Key: "k", Window: time.Hour}
			}
			for i := range n {
				if set&(1<<i) == 0 {
					continue
				}
				inc := []store.CounterOp{{Name: ops[i].Name, Key: "k", Window: time.Hour, Incr: true}}
				for e := range i + 1 {
					o := store.Observation{At: at.Add(time.Duration(e) * time.Second), Platform: "p", Space: space, Author: "a", Counters: inc}
					if _, err := st.Observe(ctx, o); err != nil {
						t.Fatal(err)
					}
				}
			}
			calls()
			res, err := st.Observe(ctx, store.Observation{At: at.Add(time.Minute), Platform: "p", Space: space, Author: "a",
				EventID: "m-" + space, Counters: ops})
			if err != nil {
				t.Fatal(err)
			}
			exists, zcount := calls()
			there := 0
			for i, got := range res.Counts {
				want := int64(0)
				if set&(1<<i) != 0 {
					want = int64(i + 1)
					there++
				}
				if got != want {
					t.Errorf("%d counters, set %b: counter %d = %d, want %d", n, set, i, got, want)
				}
			}
			switch {
			case there == 0 && (exists != 1 || zcount != 0):
				t.Errorf("%d counters, none there: %d EXISTS and %d ZCOUNT, want 1 and 0", n, exists, zcount)
			case there == 1 && n == 8 && (exists > 4 || zcount != 1):
				t.Errorf("8 counters, set %b: %d EXISTS and %d ZCOUNT, want at most 4 and 1", set, exists, zcount)
			case exists+zcount > 1+2*n:
				t.Errorf("%d counters, set %b: %d EXISTS and %d ZCOUNT", n, set, exists, zcount)
			}
		}
	}
}

// TestReadFound checks that a counter only read that was there the last
// time it was read (a place's hit counter, read by every event beside an
// author's absent ones) is counted at once, the others asked with EXISTS
// first: one EXISTS and one ZCOUNT where the halves took four EXISTS; and
// that once read absent (its key expired) it goes back to EXISTS. The
// counts are the same either way.
func TestReadFound(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	calls := func() (exists, zcount int) { return existsAndZcounts(t, c) }
	// seven of an author's counters, absent, and the place's, there from
	// the first event on: each event of another author reads them all
	hit := store.CounterOp{Name: "~hits:insult:10m", Key: "g", Window: 10 * time.Minute, Incr: true}
	if _, err := st.Observe(ctx, store.Observation{At: at, Platform: "p", Space: "g", Author: "x", Counters: []store.CounterOp{hit}}); err != nil {
		t.Fatal(err)
	}
	read := func(e int, after time.Duration, want int64) (exists, zcount int) {
		t.Helper()
		author := fmt.Sprint("u", e)
		ops := make([]store.CounterOp, 8)
		for i := range 7 {
			ops[i] = store.CounterOp{Name: fmt.Sprint("near", i), Key: author + "|", Window: 10 * time.Minute}
		}
		ops[7] = store.CounterOp{Name: hit.Name, Key: "g", Window: hit.Window}
		calls()
		res, err := st.Observe(ctx, store.Observation{At: at.Add(after), Platform: "p", Space: "g", Author: author,
			EventID: fmt.Sprint("e", e), Counters: ops})
		if err != nil {
			t.Fatal(err)
		}
		if w := []int64{0, 0, 0, 0, 0, 0, 0, want}; fmt.Sprint(res.Counts) != fmt.Sprint(w) {
			t.Errorf("event %d: counts %v, want %v", e, res.Counts, w)
		}
		return calls()
	}
	if exists, zcount := read(1, time.Second, 1); exists > 4 || zcount != 1 {
		t.Errorf("first event: %d EXISTS and %d ZCOUNT, want at most 4 and 1", exists, zcount)
	}
	for e := 2; e <= 4; e++ {
		if exists, zcount := read(e, time.Second, 1); exists != 1 || zcount != 1 {
			t.Errorf("event %d, the place's counter there before: %d EXISTS and %d ZCOUNT, want 1 and 1", e, exists, zcount)
		}
	}
	// its key gone (expired): counted at once, found absent, then asked
	// with EXISTS again
	keys, err := c.Keys(ctx, "*:c:"+hit.Name).Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("hit keys %v, %v", keys, err)
	}
	if err := c.Del(ctx, keys[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if exists, zcount := read(5, time.Second, 0); exists != 1 || zcount != 1 {
		t.Errorf("the place's counter gone: %d EXISTS and %d ZCOUNT, want 1 and 1", exists, zcount)
	}
	if exists, zcount := read(6, time.Second, 0); exists != 1 || zcount != 0 {
		t.Errorf("the place's counter read absent before: %d EXISTS and %d ZCOUNT, want 1 and 0", exists, zcount)
	}
}

// existsAndZcounts says how many EXISTS and ZCOUNT the Redis of c ran since
// it was last asked.
func existsAndZcounts(t *testing.T, c *goredis.Client) (exists, zcount int) {
	t.Helper()
	ctx := context.Background()
	info, err := c.Info(ctx, "commandstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
		if !ok {
			continue
		}
		n, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
		switch name {
		case "cmdstat_exists":
			exists = n
		case "cmdstat_zcount":
			zcount = n
		}
	}
	return exists, zcount
}

// TestManyCountersAddedTo checks an observation that adds to a thousand
// counters and more (no rule file comes near, but none is refused for it):
// each counts the event, as with a few.
func TestManyCountersAddedTo(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL())
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	for _, n := range []int{999, 1000, 2001} {
		ops := make([]store.CounterOp, n)
		for i := range ops {
			ops[i] = store.CounterOp{Name: fmt.Sprint("c", i), Key: "k", Window: time.Hour, Incr: true}
		}
		space := fmt.Sprint("g", n)
		for e := range 2 {
			res, err := st.Observe(ctx, store.Observation{At: at.Add(time.Duration(e) * time.Second), Platform: "p", Space: space,
				Author: "a", EventID: fmt.Sprint(space, "-e", e), Counters: ops})
			if err != nil {
				t.Fatalf("%d counters, event %d: %v", n, e, err)
			}
			if len(res.Counts) != n {
				t.Fatalf("%d counters, event %d: %d counts", n, e, len(res.Counts))
			}
			for i, got := range res.Counts {
				if got != int64(e+1) {
					t.Fatalf("%d counters, event %d: counter %d = %d, want %d", n, e, i, got, e+1)
				}
			}
		}
	}
}
