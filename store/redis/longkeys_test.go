package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestLongCounterKeysHashed: a counter keyed by a message's text (same_text)
// is named in Redis by the text's SHA-256 once the text is past 64 bytes,
// not by the text, whichever way the observation reaches Redis (the observe
// script with an event id, the counters' pipeline without, a cluster's
// slots); two texts count apart however long their common start, one text
// counts with itself, and a short key keeps the name it had.
func TestLongCounterKeysHashed(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	long := strings.Repeat("buy cheap followers now ", 350) // 8,400 bytes
	other := long + "!"
	short := strings.Repeat("k", 64)
	for _, tc := range []struct {
		name    string
		cluster bool
		id      bool
	}{{"script", false, true}, {"pipeline", false, false}, {"slots", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			prefix := newPrefix()
			st := redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithClaimIdle(time.Hour), redis.WithCluster(tc.cluster))
			observe := func(i int, key string) int64 {
				t.Helper()
				o := store.Observation{At: night.Add(time.Duration(i) * time.Second), Platform: "discord", Space: "g", Author: "u1",
					Counters: []store.CounterOp{{Name: "same_text", Key: key, Window: time.Hour, Incr: true}}}
				if tc.id {
					o.EventID = fmt.Sprint(i)
				}
				res, err := st.Observe(ctx, o)
				if err != nil {
					t.Fatal(err)
				}
				return res.Counts[0]
			}
			for i, step := range []struct {
				key  string
				want int64
			}{{long, 1}, {other, 1}, {long, 2}, {short, 1}, {other, 2}, {short, 2}} {
				if got := observe(i, step.key); got != step.want {
					t.Errorf("step %d (key of %d bytes): count %d, want %d", i, len(step.key), got, step.want)
				}
			}
			c := goredis.NewClient(mustParseURL(t, url))
			defer c.Close()
			keys, err := c.Keys(ctx, prefix+":*").Result()
			if err != nil {
				t.Fatal(err)
			}
			var counters []string
			for _, k := range keys {
				if len(k) > 200 {
					t.Errorf("key of %d bytes: %.80s...", len(k), k)
				}
				if strings.Contains(k, ":c:") {
					counters = append(counters, k)
				}
			}
			if len(counters) != 3 {
				t.Errorf("%d counter keys, want 3: %q", len(counters), counters)
			}
			shortKey := prefix + ":{discord:g:" + short + "}:c:same_text"
			if n, _ := c.Exists(ctx, shortKey).Result(); n != 1 {
				t.Errorf("a key of 64 bytes is not named by its text: %q missing", shortKey)
			}
		})
	}
}
