package daemon_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestHealthzSaysEvictions: vigie on a Redis of 8 MB under allkeys-lru (a
// cache's settings), which another writer fills: Redis removes keys under
// vigie, and answers as if nothing happened. /healthz lists the policy,
// then the evictions, and /metrics counts them, while /-/ready stays 200
// (the instance still serves). Before, /healthz listed nothing.
func TestHealthzSaysEvictions(t *testing.T) {
	srv := redistest.Start(t, "--maxmemory", "8mb", "--maxmemory-policy", "allkeys-lru")
	in := start(t, freezeRules, map[string]string{"VIGIE_REDIS_URL": srv.URL() + "/0"})
	degraded := func() string {
		var h struct {
			Degraded []string `json:"degraded"`
		}
		in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
		return strings.Join(h.Degraded, "\n")
	}
	testsync.Eventually(t, "/healthz naming the eviction policy", func() bool {
		return strings.Contains(degraded(), "maxmemory-policy allkeys-lru")
	})

	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	val := strings.Repeat("x", 4096)
	for i := 0; i < 400; i++ {
		p := c.Pipeline()
		for j := 0; j < 10; j++ {
			p.Set(ctx, "filler:"+strconv.Itoa(i*10+j), val, 0)
		}
		if _, err := p.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	testsync.Eventually(t, "/healthz saying the evictions", func() bool {
		return strings.Contains(degraded(), "redis evicted")
	})
	if n := metric(t, in, "vigie_store_evicted_keys_total"); n <= 0 {
		t.Errorf("vigie_store_evicted_keys_total = %v after evictions, want more than 0", n)
	}
	if rd := ready(t, in); rd.code != http.StatusOK {
		t.Errorf("/-/ready = %d %q on a Redis that evicts, want 200: it serves", rd.code, rd.Reasons)
	}
}
