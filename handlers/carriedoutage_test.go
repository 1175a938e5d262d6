package handlers_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// stoppingChat stops Redis as it bans, once: the ban done, the store does
// not answer for what comes after.
type stoppingChat struct {
	*chat
	once sync.Once
	stop func()
}

func (c *stoppingChat) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	c.once.Do(c.stop)
	return c.chat.Ban(ctx, ev, d)
}

// TestDecisionEndKeptThroughAnOutage: Redis stops (its data kept on disk)
// while a CM's ban is carried out, before the case says so. Once Redis is
// back, the case says it was carried out, and the press handed on after
// (its process killed, or the poller moved to another instance) does not
// ban again. Before, the end was lost with the outage and the hand-on
// banned a second time.
func TestDecisionEndKeptThroughAnOutage(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(redistest.Prefix("carried")))
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	p := &stoppingChat{chat: discord, stop: srv.Stop}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: f,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, c.ID, "ban", "telegram:1"); err != nil {
		t.Fatalf("the press: %v", err)
	}
	srv.Restart()
	redistest.Eventually(t, 10*time.Second, "redis back", func() bool { return !f.Degraded() })
	got, err := f.Case(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Carried != store.CarriedDone {
		t.Errorf("case carried %q once Redis is back, want %q", got.Carried, store.CarriedDone)
	}
	if _, err := m.Decide(bot.WithHandedOn(ctx), c.ID, "ban", "telegram:1"); err != nil {
		t.Fatalf("the press handed on: %v", err)
	}
	if want := []string{"ban"}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q (carried out once)", discord.Calls(), want)
	}
}
