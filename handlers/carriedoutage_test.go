package handlers_test

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// onFirstBan is a chat that calls do as it bans, the first time only, before
// the ban itself: what Redis goes through while a decision is carried out.
type onFirstBan struct {
	*chat
	once sync.Once
	do   func()
}

func (c *onFirstBan) Ban(ctx context.Context, ev bot.Event, d time.Duration) error {
	c.once.Do(c.do)
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
	discord := &chat{recorder: recorder{name: "discord"}}
	// The ban done, the store does not answer for what comes after.
	p := &onFirstBan{chat: discord, do: srv.Stop}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: f,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	c := pressBan(t, f, m)
	bannedOnceRedisBack(t, srv, f, m, c.ID, discord)
}

// TestDecisionEndKeptWhileRedisIsAway: Redis stops while a CM's ban is
// carried out, and the store finds it away before the ban ends. Once Redis
// is back, the case says it was carried out, and the press handed on after
// does not ban again. Before, only an end told as Redis went away was
// kept: one told while it was known away was refused (redis unavailable)
// and lost.
func TestDecisionEndKeptWhileRedisIsAway(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(redistest.Prefix("carried")))
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	// Redis stops, and the store finds it away (as an event's call or a
	// health check would) before the ban ends.
	p := &onFirstBan{chat: discord, do: func() {
		srv.Stop()
		_ = f.Probe(ctx)
		if !f.Degraded() {
			t.Error("the store did not find Redis away")
		}
	}}
	reg := prometheus.NewRegistry()
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: f,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	c := pressBan(t, f, m)
	if got := claimFailures(t, reg)[handlers.ClaimCarried]; got != 0 {
		t.Errorf("decisions' ends not kept counted %v, want 0 (kept for Redis)", got)
	}
	bannedOnceRedisBack(t, srv, f, m, c.ID, discord)
}

// TestDecisionEndNotKeptCounted: Redis refuses the record that a CM's ban
// was carried out. It is counted in vigie_claim_failures_total{claim=
// "carried"} and logged: a press of it handed on after a stop would ban
// again. Before, it was only logged.
func TestDecisionEndNotKeptCounted(t *testing.T) {
	srv := redistest.Start(t)
	prefix := redistest.Prefix("carried")
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(prefix))
	ctx := context.Background()
	var c store.Case
	rc := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer rc.Close()
	discord := &chat{recorder: recorder{name: "discord"}}
	// Redis refuses the mark of the decision's end: the case's key holds
	// what vigie did not write there (WRONGTYPE).
	p := &onFirstBan{chat: discord, do: func() {
		if err := rc.Set(ctx, prefix+":{cases}:"+c.ID, "x", 0).Err(); err != nil {
			t.Error(err)
		}
	}}
	var logs logLines
	reg := prometheus.NewRegistry()
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": p}, Store: f,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}, Registerer: reg,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		t.Fatal(err)
	}
	c, err = f.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = m.Decide(ctx, c.ID, "ban", "telegram:1")
	if got := claimFailures(t, reg)[handlers.ClaimCarried]; got != 1 {
		t.Errorf("decisions' ends not kept counted %v, want 1", got)
	}
	if len(logs.with("level=WARN", "a decision's end not recorded on its case")) != 1 {
		t.Errorf("the end not kept not logged once")
	}
	if f.Degraded() {
		t.Errorf("a refusal taken for an outage")
	}
}

// pressBan opens a case on st and has m carry out a CM's press of its ban.
func pressBan(t *testing.T, st store.Store, m *handlers.Moderator) store.Case {
	t.Helper()
	ctx := context.Background()
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.Decide(ctx, c.ID, "ban", "telegram:1"); err != nil {
		t.Fatalf("the press: %v", err)
	}
	return c
}

// bannedOnceRedisBack restarts srv, waits for f to find Redis back, and
// checks that case id says its ban was carried out, and that the press
// handed on then does not have p ban again.
func bannedOnceRedisBack(t *testing.T, srv *redistest.Server, f *redis.Fallback, m *handlers.Moderator, id string, p *chat) {
	t.Helper()
	ctx := context.Background()
	srv.Restart()
	redistest.Eventually(t, 10*time.Second, "redis back", func() bool { return !f.Degraded() })
	got, err := f.Case(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got.Carried != store.CarriedDone {
		t.Errorf("case carried %q once Redis is back, want %q", got.Carried, store.CarriedDone)
	}
	if _, err := m.Decide(bot.WithHandedOn(ctx), id, "ban", "telegram:1"); err != nil {
		t.Fatalf("the press handed on: %v", err)
	}
	if want := []string{"ban"}; !slices.Equal(p.Calls(), want) {
		t.Errorf("calls = %q, want %q (carried out once)", p.Calls(), want)
	}
}
