package redis_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
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

// commandCalls says how many times the Redis of c ran each command since it
// was last asked (those run by scripts included), and how many calls each
// error answered.
func commandCalls(t *testing.T, c *goredis.Client) map[string]int {
	t.Helper()
	ctx := context.Background()
	info, err := c.Info(ctx, "commandstats", "errorstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ConfigResetStat(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]int{}
	for line := range strings.Lines(info) {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		_, n, ok := strings.Cut(rest, "count=")
		if !ok {
			_, n, ok = strings.Cut(rest, "calls=")
		}
		if !ok {
			continue
		}
		if i := strings.IndexByte(n, ','); i >= 0 {
			n = n[:i]
		}
		calls[strings.TrimPrefix(strings.TrimPrefix(name, "cmdstat_"), "errorstat_")], _ = strconv.Atoi(n)
	}
	return calls
}

// TestNewCountersMadeInOneCall: an event whose counters are new (the raid
// stream's: every author's text is new, so its fingerprint's and bands'
// counters are) makes each key with its expiry in one RESTORE, where ZADD
// and PEXPIRE took two calls each; the next event adds to them with ZADD and
// tries no RESTORE, and one whose key is there after all (made by another
// process) is added to as before. Counts are as ever. Before: six PEXPIRE
// for the first event, no RESTORE.
func TestNewCountersMadeInOneCall(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redis.WithPrefix(redistest.Prefix("made"))
	st := open(t, srv.URL(), prefix)
	other := open(t, srv.URL(), prefix)
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	at := time.Unix(1_796_652_267, 0)
	ops := func(text string) []store.CounterOp {
		var o []store.CounterOp
		for _, n := range []string{"same_text", "near0", "near1", "near2", "near3"} {
			o = append(o, store.CounterOp{Name: n, Key: "u1|" + n + text, Window: 10 * time.Minute, Incr: true})
		}
		return append(o, store.CounterOp{Name: "msgs", Key: "u1", Window: 10 * time.Second, Incr: true})
	}
	observe := func(s *redis.Store, id string, at time.Time, text string) []int64 {
		t.Helper()
		res, err := s.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: "u1", EventID: id,
			Counters: ops(text)})
		if err != nil {
			t.Fatal(err)
		}
		return res.Counts
	}
	commandCalls(t, c)
	if got := observe(st, "m-1", at, "x"); !slices.Equal(got, []int64{1, 1, 1, 1, 1, 1}) {
		t.Fatalf("first event counted %v, want 1 each", got)
	}
	calls := commandCalls(t, c)
	if calls["restore"] != 6 || calls["pexpire"] > 1 || calls["zadd"] != 1 {
		t.Errorf("six new counters: %d RESTORE, %d PEXPIRE, %d ZADD; want 6, at most 1 (the ids'), 1 (the id)",
			calls["restore"], calls["pexpire"], calls["zadd"])
	}
	if got := observe(st, "m-2", at.Add(time.Second), "x"); !slices.Equal(got, []int64{2, 2, 2, 2, 2, 2}) {
		t.Fatalf("second event counted %v, want 2 each", got)
	}
	if calls := commandCalls(t, c); calls["restore"] != 0 || calls["zadd"] != 7 {
		t.Errorf("counters there: %d RESTORE, %d ZADD; want 0 and 7", calls["restore"], calls["zadd"])
	}
	// Another process, which has not seen these keys: RESTORE is refused
	// for each (the key is there), and ZADD adds to it.
	if got := observe(other, "m-3", at.Add(2*time.Second), "x"); !slices.Equal(got, []int64{3, 3, 3, 3, 3, 3}) {
		t.Fatalf("third event, from another process, counted %v, want 3 each", got)
	}
	if calls := commandCalls(t, c); calls["restore"] != 6 || calls["BUSYKEY"] != 6 || calls["zadd"] != 7 {
		t.Errorf("counters there, unknown to the process: %d RESTORE (%d BUSYKEY), %d ZADD; want 6 (6) and 7",
			calls["restore"], calls["BUSYKEY"], calls["zadd"])
	}
	// Expired, made again: by RESTORE when this process does not know
	// they were there, by ZADD when it does; either way counted from 1.
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	commandCalls(t, c)
	if got := observe(st, "m-4", at.Add(time.Hour), "x"); !slices.Equal(got, []int64{1, 1, 1, 1, 1, 1}) {
		t.Fatalf("after the keys went, counted %v, want 1 each", got)
	}
	if got := observe(st, "m-5", at.Add(time.Hour+time.Second), "y"); !slices.Equal(got, []int64{1, 1, 1, 1, 1, 2}) {
		t.Fatalf("a new text, counted %v, want 1 each and 2 messages", got)
	}
	if calls := commandCalls(t, c); calls["restore"] != 5 {
		t.Errorf("a new text's five counters: %d RESTORE, want 5", calls["restore"])
	}
	for _, k := range must(c.Keys(ctx, "*:c:*").Result()) {
		if ttl := must(c.PTTL(ctx, k).Result()); ttl <= 0 || ttl > 40*time.Minute {
			t.Errorf("%s expires in %v", k, ttl)
		}
	}
}

// TestRestoreRefused: a Redis without RESTORE (renamed away, as some
// hosted ones do) counts the same, and is not asked again.
func TestRestoreRefused(t *testing.T) {
	srv := redistest.Start(t, "--rename-command", "RESTORE", "")
	st := open(t, srv.URL())
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	at := time.Unix(1_796_652_267, 0)
	commandCalls(t, c)
	for i := range 3 {
		o := store.Observation{At: at.Add(time.Duration(i) * time.Second), Platform: "discord", Space: "g", Author: "u1",
			EventID: fmt.Sprint("m-", i), Counters: []store.CounterOp{
				{Name: "same_text", Key: fmt.Sprint("u1|t", i), Window: 10 * time.Minute, Incr: true},
				{Name: "msgs", Key: "u1", Window: 10 * time.Second, Incr: true}}}
		res, err := st.Observe(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Counts, []int64{1, int64(i + 1)}) {
			t.Fatalf("event %d counted %v, want [1 %d]", i, res.Counts, i+1)
		}
		// Event 0's errors are the refusal and the connections' first
		// words (CLIENT SETINFO, which Redis 7.0 does not know).
		if calls := commandCalls(t, c); i > 0 && calls["ERR"] != 0 {
			t.Errorf("event %d: %d errors, want none (RESTORE refused once): %v", i, calls["ERR"], calls)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
