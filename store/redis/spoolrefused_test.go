package redis_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestSpoolForgetsCasesRedisRefused: a case kept in memory while Redis was
// away, then refused by Redis for the open cases' cap when written back, no
// longer waits for Redis: the desk posting its card afterwards (a card
// acknowledged, its message recorded) does not put it back in the spool.
// A soak on Redis showed each outage's refused cases put back there by the
// desk's calls, and kept for good: 16,635 cases and 12 MB on disk, 14 MB of
// heap, after three outages, for a start to write back again.
func TestSpoolForgetsCasesRedisRefused(t *testing.T) {
	// Persistent: the case open before the outage holds the cap after it.
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	url, prefix, dir := srv.URL()+"?max_retries=-1&dial_timeout=500ms", newPrefix(), t.TempDir()
	sp, err := redis.OpenSpool(dir, url+" "+prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	primary, err := redis.Open(url, redis.WithPrefix(prefix), redis.WithOpenCaseCap(1))
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{MaxCases: 100, RetryEvery: 20 * time.Millisecond, Spool: sp})
	ctx := context.Background()
	if _, err := openOwnCase(ctx, f, -1); err != nil {
		t.Fatal(err)
	}
	stopUntilDegraded(t, srv, f)
	const n = 20
	var local []string
	for i := range n {
		c, err := openOwnCase(ctx, f, i)
		if err != nil || !strings.HasPrefix(c.ID, "l-") {
			t.Fatalf("case %d during the outage: %s, %v; want it kept in memory", i, c.ID, err)
		}
		local = append(local, c.ID)
	}
	srv.Restart()
	waitFor(t, "back from degraded, nothing waiting", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	if got := f.Dropped(); got != n {
		t.Fatalf("dropped %d, want the %d cases Redis refused for the cap", got, n)
	}
	// The desk, which listed them while Redis was away, posts their cards
	// now.
	for i, id := range local {
		if err := f.AddCard(ctx, id, bot.CardRef{Platform: "telegram", Chat: "-100", Message: fmt.Sprint(i + 1)}); err != nil {
			t.Logf("card of %s: %v", id, err)
		}
		if err := f.AckCase(ctx, id); err != nil {
			t.Logf("ack of %s: %v", id, err)
		}
	}
	f.SyncSpool()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	next, err := redis.OpenSpool(dir, url+" "+prefix, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer next.Close()
	if got := redis.SpoolItems(next); got != 0 {
		t.Errorf("the spool keeps %d items after %d cases Redis refused were posted, want none: they wait for nothing", got, n)
	}
}
