package redis_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCRC64IsRedis checks the CRC against the value Redis's own test of its
// crc64 expects.
func TestCRC64IsRedis(t *testing.T) {
	if got := redis.CRC64([]byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Errorf("crc64(123456789) = %#x, want 0xe9c6d914c4b8d9ca", got)
	}
}

// TestRestoredCounterIsTheSame makes a new counter's key both ways, with
// RESTORE from counterDump and with the ZADD and PEXPIRE a vigie without it
// sends, on a real redis-server, and checks that Redis holds the same bytes
// for both (DUMP), and the same members, scores and expiry: a version of
// vigie that makes its keys with ZADD, on the same Redis during an upgrade,
// reads and adds to either alike. Times on both sides of every size of the
// listpack's integers, and members up to the longest kept as a string here.
func TestRestoredCounterIsTheSame(t *testing.T) {
	srv := redistest.Start(t)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	ats := []int64{1, 100, 127, 128, 4000, 4095, 4096, 30000, 32767, 32768, 8_000_000, 8388608,
		2_000_000_000, 2147483648, 1_796_652_267_343}
	members := []string{"e:mh1h2:m-1", "n:abc:1", "e:" + strings.Repeat("x", 61)}
	for _, at := range ats {
		for _, m := range members {
			for _, w := range []int64{10_000, 600_000, 3_600_000} {
				exp := redis.CounterExpiry(at, w)
				dump := redis.CounterDump(m, at, exp)
				if dump == nil {
					t.Fatalf("at %d, member %q: no dump", at, m)
				}
				a, z := fmt.Sprintf("r:%d:%d:%s", at, w, m), fmt.Sprintf("z:%d:%d:%s", at, w, m)
				ttl := exp - at
				if err := c.Do(ctx, "restore", a, ttl, string(dump)).Err(); err != nil {
					t.Fatalf("at %d, member %q: RESTORE: %v", at, m, err)
				}
				if err := c.Do(ctx, "zadd", z, "lt", "ch", at, m, -exp, "~", "+inf", "^").Err(); err != nil {
					t.Fatal(err)
				}
				if err := c.PExpire(ctx, z, msDuration(ttl)).Err(); err != nil {
					t.Fatal(err)
				}
				da, _ := c.Dump(ctx, a).Result()
				dz, _ := c.Dump(ctx, z).Result()
				if da != dz {
					t.Errorf("at %d, window %d, member %q: DUMP %x, ZADD's %x", at, w, m, da, dz)
				}
				ra, _ := c.ZRangeWithScores(ctx, a, 0, -1).Result()
				rz, _ := c.ZRangeWithScores(ctx, z, 0, -1).Result()
				if !slices.Equal(ra, rz) || len(ra) != 3 {
					t.Errorf("at %d, member %q: %v, ZADD's %v", at, m, ra, rz)
				}
				pa, _ := c.PTTL(ctx, a).Result()
				pz, _ := c.PTTL(ctx, z).Result()
				if pa <= 0 || pz <= 0 || pa > msDuration(ttl) || pz-pa > msDuration(1000) || pa-pz > msDuration(1000) {
					t.Errorf("at %d, member %q: expires in %v, ZADD's in %v, want about %dms", at, m, pa, pz, ttl)
				}
				// Added to by the next event as by ZADD's.
				for _, k := range []string{a, z} {
					if n, err := c.Do(ctx, "zadd", k, "lt", "ch", at+1, m+"2", -exp, "~", "+inf", "^").Int(); err != nil || n != 1 {
						t.Errorf("%s: the next event's ZADD changed %d (%v), want 1", k, n, err)
					}
				}
				if n, _ := c.ZCount(ctx, a, fmt.Sprint(at-w), "+inf").Result(); n != 3 {
					t.Errorf("%s: %d in the window with its markers, want 3", a, n)
				}
			}
		}
	}
	if redis.CounterDump("12345", 1, 2) != nil {
		t.Error("a member Redis keeps as a number was dumped as a string")
	}
}

func msDuration(n int64) time.Duration { return time.Duration(n) * time.Millisecond }
