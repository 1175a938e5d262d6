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
	calls := func() (exists, zcount int) {
		t.Helper()
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
