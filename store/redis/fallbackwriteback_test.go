package redis_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// spamHit is a hit of the rule spam by author in space, on message id.
func spamHit(space, author, id string, at time.Duration) store.Case {
	return store.Case{Rule: "spam", Reason: "spam", Opened: night.Add(at),
		Event: bot.Event{ID: id, Platform: "telegram", Space: space, Channel: "c",
			Author: bot.Author{ID: author}, Text: "achetez mes stickers", At: night.Add(at)}}
}

// TestFallbackWriteBackCountsEachHitOnce: Redis ran hits whose answers
// vigie never read (their calls cut as Redis went away), and vigie added
// them again in memory, grouped with others. Written back, the case in
// Redis counts each message once: those it named already are not added
// again. In one place Redis ran the memory case's first hit and the next;
// in another only its second, which opened a case there that the memory
// case's first hit joins.
func TestFallbackWriteBackCountsEachHitOnce(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	ctx := context.Background()
	prefix := newPrefix()
	f, desk := raidFallbackAt(t, srv, prefix)
	// The answers vigie did not read: the same hits, run by Redis.
	lost, err := redis.Open(srv.URL(), redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	defer lost.Close()
	both := []store.Case{spamHit("g-1", "u-1", "m-1", 0), spamHit("g-1", "u-1", "m-2", time.Second),
		spamHit("g-1", "u-1", "m-3", 2*time.Second)}
	second := []store.Case{spamHit("g-2", "u-2", "n-1", 0), spamHit("g-2", "u-2", "n-2", time.Second)}
	ran := map[string]string{}
	for _, c := range []store.Case{both[0], both[1], second[1]} {
		opened, err := lost.OpenCase(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		ran[c.Event.Space] = opened.ID
	}
	srv.Stop()
	for _, c := range append(slices.Clone(both), second...) {
		if _, err := f.OpenCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	desk.round(ctx)
	srv.Restart()
	redistest.Eventually(t, time.Minute, "written back", func() bool { return !f.Degraded() && f.Buffered() == 0 })
	for _, want := range []struct {
		space string
		msgs  []string
	}{{"g-1", []string{"m-1", "m-2", "m-3"}}, {"g-2", []string{"n-1", "n-2"}}} {
		c, err := f.Case(ctx, ran[want.space])
		if err != nil {
			t.Fatal(err)
		}
		msgs, unkept := messagesOf(t, f, []string{c.ID})
		if c.Hits() != len(want.msgs) || !slices.Equal(msgs, want.msgs) || unkept != 0 {
			t.Errorf("%s's case in Redis, %s: %d hits, messages %v (%d with none); want %d hits, %v", want.space, c.ID, c.Hits(),
				msgs, unkept, len(want.msgs), want.msgs)
		}
	}
	ids, hits, _ := openCasesOf(t, f)
	if len(ids) != 2 || hits != 5 {
		t.Errorf("in Redis after the write-back: cases %v with %d hits; want 2 with 5", ids, hits)
	}
	if n := desk.round(ctx); n != 0 {
		t.Errorf("after the write-back the desk posted %d cards again", n)
	}
}
