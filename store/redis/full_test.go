package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackFullRedis: Redis reaches maxmemory under noeviction and answers
// every write "OOM command not allowed" while it still answers pings. The
// events are counted in memory, not failed unjudged; the store says it is
// degraded and stays so while Redis is full (its pings alone do not bring it
// back, which would switch over again at the next event); once memory is
// freed, the case opened meanwhile is written to Redis.
func TestFallbackFullRedis(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory-policy", "noeviction")
	admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer admin.Close()
	ctx := context.Background()
	primary, err := redis.Open(srv.URL(), redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	var logs testLogs
	logger := logs.logger()
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: 10 * time.Millisecond, Logger: logger})
	defer f.Close()
	if err := admin.ConfigSet(ctx, "maxmemory", "1").Err(); err != nil {
		t.Fatal(err)
	}
	observe := func(id string) (store.Result, error) {
		return f.Observe(ctx, store.Observation{At: time.Now(), Platform: "facebook", Space: "p", Author: "u-1", EventID: id,
			Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Hour, Incr: true}}})
	}
	res, err := observe("m-1")
	if err != nil || len(res.Counts) != 1 || res.Counts[0] != 1 {
		t.Fatalf("Observe on a full Redis = %+v, %v; want it counted in memory", res, err)
	}
	if !f.Degraded() {
		t.Fatal("not degraded while Redis refuses writes")
	}
	if p := f.Problem(); !strings.HasPrefix(p, "refuses writes, moderating from memory until it takes them: ") ||
		!strings.Contains(p, "OOM command not allowed") {
		t.Errorf("Problem() = %q, want it to say Redis refuses writes, with its answer", p)
	}
	if !strings.Contains(logs.String(), "redis refuses writes") {
		t.Errorf("the switch is not logged as a refusal of writes:\n%s", logs.String())
	}
	// Many pings later, Redis still full: the memory still counts.
	time.Sleep(200 * time.Millisecond)
	if res, err := observe("m-2"); err != nil || len(res.Counts) != 1 || res.Counts[0] != 2 {
		t.Errorf("second Observe on a full Redis = %+v, %v; want 2, counted in memory since the first", res, err)
	}
	if n := strings.Count(logs.String(), "redis refuses writes"); n != 1 || strings.Contains(logs.String(), "redis is back") {
		t.Errorf("while Redis is full, the switch is logged %d times (want once) and Redis back %v:\n%s",
			n, strings.Contains(logs.String(), "redis is back"), logs.String())
	}
	c, err := f.OpenCase(ctx, store.Case{Reason: "insult", Opened: time.Now()})
	if err != nil || !strings.HasPrefix(c.ID, "l-") {
		t.Fatalf("OpenCase on a full Redis = %q, %v; want a case kept in memory", c.ID, err)
	}

	if err := admin.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the switch back once Redis takes writes", func() bool { return !f.Degraded() })
	if p := f.Problem(); p != "" {
		t.Errorf("Problem() = %q once Redis takes writes again, want none", p)
	}
	open, err := primary.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 1 || open[0].Reason != "insult" || !strings.HasPrefix(open[0].ID, "c-") {
		t.Errorf("cases in Redis after it took writes again = %+v, %v; want the insult's case", open, err)
	}
}
