package redis_test

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestAuditExpiryPushedOnceAMinute: the audit stream's expiry is pushed by
// a process once a minute, to its TTL and an hour, not with every pipeline
// that carries an entry: on the raid stream that was a PEXPIRE for every
// seven events or so.
func TestAuditExpiryPushedOnceAMinute(t *testing.T) {
	srv := redistest.Start(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := open(t, srv.URL(), redis.WithPrefix(prefix), redis.WithAutoPipeline())
	c := goredis.NewClient(mustParseURL(t, srv.URL()))
	defer c.Close()
	commandCalls(t, c)
	const entries = 20
	for i := range entries {
		ev := bot.Event{ID: "m-" + string(rune('a'+i)), Platform: "discord", Text: "spam", At: opened}
		if err := st.AppendAudit(ctx, store.AuditEntry{At: opened, Event: ev, Mode: "enforce"}); err != nil {
			t.Fatal(err)
		}
		// Read back: each entry in a pipeline of its own.
		if _, err := st.Audit(ctx, opened); err != nil {
			t.Fatal(err)
		}
	}
	calls := commandCalls(t, c)
	if calls["xadd"] != entries || calls["pexpire"] > 2 {
		t.Errorf("%d entries in %d pipelines: %d XADD, %d PEXPIRE; want %d XADD, the expiry pushed once (twice when a minute went by)",
			entries, entries, calls["xadd"], calls["pexpire"], entries)
	}
	ttl, err := c.PTTL(ctx, prefix+":{audit}:stream").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= redis.DefaultAuditTTL || ttl > redis.DefaultAuditTTL+time.Hour {
		t.Errorf("the audit stream lives %v, want its TTL and an hour (%v)", ttl, redis.DefaultAuditTTL+time.Hour)
	}
}
