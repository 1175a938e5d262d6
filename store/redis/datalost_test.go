package redis_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestDataLossTold: a Redis that lost its data (FLUSHALL here; a restart
// without persistence or an empty replica promoted alike) answers as if
// nothing happened, while the open cases it held are gone. vigie keeps a
// marker there, and says the loss as an error, once, and counts it; the
// first marker it sets on a Redis is no loss.
func TestDataLossTold(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	primary, err := redis.Open(srv.URL(), redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var logMu sync.Mutex
	logger := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.Write(p)
	}), nil))
	logged := func() string {
		logMu.Lock()
		defer logMu.Unlock()
		return logs.String()
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{Logger: logger, RetryEvery: 10 * time.Millisecond})
	t.Cleanup(func() { f.Close() })
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	marker := prefix + ":{probe}:marker"

	waitFor(t, "the marker set", func() bool { return c.Exists(ctx, marker).Val() == 1 })
	if n := f.DataLost(); n != 0 || strings.Contains(logged(), "lost its data") {
		t.Fatalf("a loss told (%d) when the marker was first set:\n%s", n, logged())
	}
	if err := c.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the loss told", func() bool { return f.DataLost() == 1 })
	waitFor(t, "the marker set again", func() bool { return c.Exists(ctx, marker).Val() == 1 })
	if !strings.Contains(logged(), "level=ERROR") || !strings.Contains(logged(), "redis lost its data") {
		t.Errorf("the loss is not logged as an error:\n%s", logged())
	}
	if n := strings.Count(logged(), "redis lost its data"); n != 1 {
		t.Errorf("the loss logged %d times, want once:\n%s", n, logged())
	}
	if n := f.DataLost(); n != 1 {
		t.Errorf("DataLost = %d after one loss, want 1", n)
	}
}
