package redis_test

import (
	"context"
	"fmt"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestOriginKeysOfARaid: each hit of a raid, grouped into its author's open
// case, leaves the key of its origin (event, rule, reason), so that the hit
// written again after a lost reply is counted once. That key lives as long as
// a write can come again (the journal's replays, the longest), not the case's
// 90 days: a raid night of a million hits kept a million keys for 90 days.
func TestOriginKeysOfARaid(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix))
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()

	const hits = 300
	var id string
	for i := range hits {
		got, err := st.OpenCase(ctx, scamCase(fmt.Sprintf("m-%d", i), "eve"))
		if err != nil {
			t.Fatal(err)
		}
		if id == "" {
			id = got.ID
		} else if got.ID != id {
			t.Fatalf("hit %d opened %s, want it grouped into %s", i, got.ID, id)
		}
	}
	keys, err := c.Keys(ctx, prefix+":{cases}:origin:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != hits {
		t.Fatalf("%d origin keys, want one per hit (%d)", len(keys), hits)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 || ttl > redis.OriginTTL {
			t.Fatalf("origin key %s lives %v, want at most %v", k, ttl, redis.OriginTTL)
		}
	}
	// The guarantee it keeps: a hit written again is the same case, counted once.
	again, err := st.OpenCase(ctx, scamCase("m-7", "eve"))
	if err != nil {
		t.Fatal(err)
	}
	if again.ID != id || again.Count != hits {
		t.Errorf("a hit written again: case %s counting %d, want %s counting %d", again.ID, again.Count, id, hits)
	}
}
