package redis_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestEvictionsTold: a Redis with a maxmemory under allkeys-lru (a cache's
// settings) answers every write, and when full removes keys under vigie: a
// lease, a case, a pending mark, a member's lock, each lost with nothing
// said. vigie warns of the policy once, lists it on /healthz (Warnings),
// and says each eviction as an error, counted. Before, nothing said
// either: the keys vanished and the store looked healthy.
func TestEvictionsTold(t *testing.T) {
	ctx := context.Background()
	f, logs, c := watchedRedis(t, "--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru")

	waitFor(t, "the policy warned of", func() bool { return strings.Contains(logs.String(), "redis may evict vigie's keys") })
	if w := strings.Join(f.Warnings(), "\n"); !strings.Contains(w, "maxmemory-policy allkeys-lru") {
		t.Errorf("Warnings = %q, want the eviction policy named", w)
	}
	if f.Evicted() != 0 || strings.Contains(logs.String(), "redis evicted keys") {
		t.Fatalf("evictions told before any:\n%s", logs.String())
	}

	// Another writer fills Redis: it evicts to make room.
	val := strings.Repeat("x", 4096)
	for i := 0; i < 4000; i++ {
		p := c.Pipeline()
		for j := 0; j < 10; j++ {
			p.Set(ctx, "filler:"+strconv.Itoa(i*10+j), val, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "the evictions told", func() bool { return f.Evicted() > 0 })
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "redis evicted keys to make room") {
		t.Errorf("the evictions are not logged as an error:\n%s", logs.String())
	}
	if w := strings.Join(f.Warnings(), "\n"); !strings.Contains(w, "redis evicted") {
		t.Errorf("Warnings = %q, want the evictions said", w)
	}
	if n := strings.Count(logs.String(), "redis may evict vigie's keys"); n != 1 {
		t.Errorf("the policy warned of %d times, want once:\n%s", n, logs.String())
	}
}

// TestNoEvictionNotWarned: a Redis under noeviction (the default) or
// without maxmemory is not warned of.
func TestNoEvictionNotWarned(t *testing.T) {
	f, logs, c := watchedRedis(t, "--maxmemory", "64mb", "--maxmemory-policy", "noeviction")
	// The check that sets the marker reads the policy first.
	waitFor(t, "the marker set", func() bool { return hasMarker(c) })
	if strings.Contains(logs.String(), "evict") || len(f.Warnings()) != 0 {
		t.Errorf("a Redis under noeviction warned of: %q\n%s", f.Warnings(), logs.String())
	}
}

func markerKeys(c *goredis.Client) []string {
	keys, _ := c.Keys(context.Background(), "*:{probe}:marker").Result()
	return keys
}

func hasMarker(c *goredis.Client) bool { return len(markerKeys(c)) > 0 }

// watchedRedis starts a redis-server of its own with args, and a fallback
// store on it that checks it every 10ms, logging to logs; c is a plain
// client of the same server, for the test's own writes and reads.
func watchedRedis(t *testing.T, args ...string) (f *redis.Fallback, logs *testLogs, c *goredis.Client) {
	t.Helper()
	srv := redistest.Start(t, args...)
	primary, err := redis.Open(srv.URL(), redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	logs = new(testLogs)
	f = redis.NewFallback(primary, redis.FallbackOptions{Logger: logs.logger(), RetryEvery: 10 * time.Millisecond})
	t.Cleanup(func() { f.Close() })
	c = goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { c.Close() })
	return f, logs, c
}

// TestManagedRedisRefusingInfoAndTime: a managed Redis that refuses INFO
// and TIME (renamed away, as some hosted ones do with their admin
// commands) still serves vigie, and vigie says once that it cannot watch
// its evictions nor its clock, rather than watching nothing in silence.
// Before, nothing was said: a cache's eviction policy went unseen.
func TestManagedRedisRefusingInfoAndTime(t *testing.T) {
	f, logs, c := watchedRedis(t, "--rename-command", "INFO", "", "--rename-command", "TIME", "")
	waitFor(t, "the marker set", func() bool { return hasMarker(c) })
	waitFor(t, "the refusals said", func() bool {
		return strings.Contains(logs.String(), "evictions not watched") && strings.Contains(logs.String(), "clock not measured")
	})
	// one more check, after the marker taken away
	if err := c.Del(context.Background(), markerKeys(c)...).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the marker set again", func() bool { return hasMarker(c) })
	if p := f.Problem(); p != "" {
		t.Fatalf("a Redis refusing INFO and TIME taken for away: %s\n%s", p, logs.String())
	}
	for _, want := range []string{"evictions not watched", "clock not measured"} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("%q said %d times, want once:\n%s", want, n, logs.String())
		}
	}
}
