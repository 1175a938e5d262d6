package redis_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestRaidMemory measures what a raid's hits leave in Redis (docs/store.md,
// "What a raid leaves in Redis"): VIGIE_RAID_HITS hits of one rule in one
// place from VIGIE_RAID_AUTHORS authors (10,000 by default), each opening or
// joining a case, on a redis-server of its own; it logs Redis's used_memory
// before and after, and the keys by family with the longest TTL of each,
// then again once every case was decided.
// Skipped unless VIGIE_RAID_HITS is set:
//
//	VIGIE_RAID_HITS=1000000 VIGIE_RAID_AUTHORS=50000 .ci/with-redis go test -run TestRaidMemory -v ./store/redis/
func TestRaidMemory(t *testing.T) {
	hits, _ := strconv.Atoi(os.Getenv("VIGIE_RAID_HITS"))
	if hits <= 0 {
		t.Skip("VIGIE_RAID_HITS not set")
	}
	authors, _ := strconv.Atoi(os.Getenv("VIGIE_RAID_AUTHORS"))
	if authors <= 0 {
		authors = 10_000
	}
	url := redistest.Start(t).URL()
	ctx := context.Background()
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()
	used := func() int64 {
		s, _ := c.Info(ctx, "memory").Result()
		for _, l := range strings.Split(s, "\r\n") {
			if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return 0
	}
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix), redis.WithOpenCaseCap(hits))
	before := used()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := w; j < hits; j += 8 {
				if _, err := st.OpenCase(ctx, scamCase(fmt.Sprintf("m-%d", j), fmt.Sprintf("a-%d", j%authors))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	census := func(when string, before int64) {
		after := used()
		count := map[string]int{}
		longest := map[string]int64{}
		iter := c.Scan(ctx, 0, prefix+":*", 5000).Iterator()
		for iter.Next(ctx) {
			k := strings.TrimPrefix(iter.Val(), prefix+":")
			fam := k
			if i := strings.Index(k, "}:"); i >= 0 {
				fam = k[:i+2]
				if rest := k[i+2:]; strings.HasPrefix(rest, "c-") {
					fam += "c-ID"
				} else {
					fam += strings.SplitN(rest, ":", 2)[0]
				}
			}
			count[fam]++
			if d := c.PTTL(ctx, iter.Val()).Val(); d.Milliseconds() > longest[fam] {
				longest[fam] = d.Milliseconds()
			}
		}
		t.Logf("%s: used_memory %d -> %d bytes (%.0f a hit), %d keys", when, before, after,
			float64(after-before)/float64(hits), c.DBSize(ctx).Val())
		for _, fam := range slices.Sorted(maps.Keys(count)) {
			t.Logf("%-24s %9d keys, longest TTL %.1f h", fam, count[fam], float64(longest[fam])/3.6e6)
		}
	}
	census(fmt.Sprintf("%d hits from %d authors", hits, authors), before)
	// The desk decides every case: what is left is what the raid leaves for
	// the cases' 90 days.
	cases, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cases {
		if _, err := st.DecideCase(ctx, k.ID, "ban", "telegram:1", "", opened); err != nil {
			t.Fatal(err)
		}
	}
	census(fmt.Sprintf("its %d cases decided", len(cases)), before)
}
