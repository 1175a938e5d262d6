package handlers_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestHandedOnWaitsForTheClaimThroughAnOutage: a CM's ban is recorded, and
// another process holds the claim of its carrying out (its key in Redis, as
// that process took it). The press handed on here is not carried out while
// the claim is the other's, nor while Redis is away (the claim cannot be
// asked), and is not lost either: once Redis is back and the other lets the
// claim go without the case saying the ban was done, it is carried out
// here, once. Before, the hand-on banned at once, beside the other process.
func TestHandedOnWaitsForTheClaimThroughAnOutage(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	prefix := redistest.Prefix("claimwait")
	f := redistest.OpenFallback(t, srv.URL(), redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(prefix))
	ctx := context.Background()
	discord := &chat{recorder: recorder{name: "discord"}}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": discord}, Store: f,
		Now: func() time.Time { return at }, Retry: handlers.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	// The other process: it recorded the decision and claimed its carrying
	// out.
	raw := redistest.Client(t, srv.URL())
	c, claimKey := banClaimedByAnother(t, f, raw, prefix, 10*time.Minute)
	_, err = m.Decide(bot.WithHandedOn(ctx), c.ID, "ban", "telegram:1")
	if len(discord.Calls()) != 0 {
		t.Fatalf("the hand-on carried the ban out while another process held its claim: calls %q", discord.Calls())
	}
	if !errors.Is(err, bot.ErrStillTrying) {
		t.Errorf("the hand-on: %v, want it still being tried", err)
	}

	srv.Stop()
	redistest.Eventually(t, 10*time.Second, "the claim's asks finding Redis away", f.Degraded)
	srv.Restart()
	redistest.Eventually(t, 10*time.Second, "redis back", func() bool { return !f.Degraded() })
	if len(discord.Calls()) != 0 {
		t.Fatalf("carried out through the outage, the claim another's: calls %q", discord.Calls())
	}
	// The other process lets the claim go, the ban not done.
	if err := raw.Del(ctx, claimKey).Err(); err != nil {
		t.Fatal(err)
	}
	bannedHereOnce(t, f, m, c.ID, discord)
	if n := raw.Exists(ctx, claimKey).Val(); n != 0 {
		t.Errorf("the claim left in Redis after the decision's end")
	}
}

// redisModerator is the moderator the tests of a CM's decision carried out
// on Redis set up alike: on a Redis store under its own prefix, Discord its
// one platform, one try per action, its clock stepped by hand, its log (from
// info) and its metrics kept for the test to read.
type redisModerator struct {
	*handlers.Moderator
	st      *redis.Fallback
	clk     *stepclock.Clock
	reg     *prometheus.Registry
	logs    *logLines
	discord *chat
}

// newRedisModerator starts a redisModerator on the Redis at url, its keys
// under prefix.
func newRedisModerator(t *testing.T, url, prefix string) redisModerator {
	t.Helper()
	r := redisModerator{
		st:      redistest.OpenFallback(t, url, redis.FallbackOptions{RetryEvery: 20 * time.Millisecond}, redis.WithPrefix(prefix)),
		clk:     stepclock.New(at),
		reg:     prometheus.NewRegistry(),
		logs:    &logLines{},
		discord: &chat{recorder: recorder{name: "discord"}},
	}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"discord": r.discord}, Store: r.st,
		Now: r.clk.Now, AfterFunc: r.clk.AfterFunc, Retry: handlers.Retry{Attempts: 1}, Registerer: r.reg,
		Logger: slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	if err != nil {
		t.Fatal(err)
	}
	r.Moderator = m
	return r
}

// decidedCase opens a case of an insult on Discord on st and records a CM's
// decision of it, action by telegram:1, as the press that the test then
// carries out would have.
func decidedCase(t *testing.T, st store.Store, action string) store.Case {
	t.Helper()
	ctx := context.Background()
	c, err := st.OpenCase(ctx, store.Case{Event: event("discord"), Reason: "insult"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideCase(ctx, c.ID, action, "telegram:1", "", at); err != nil {
		t.Fatal(err)
	}
	return c
}

// banClaimedByAnother opens a case on st and records its ban by telegram:1,
// then claims its carrying out as another process would: the claim's key
// under prefix (as redis.Store.ClaimCarrying writes it), set through raw
// for ttl. It returns the case and the claim's key.
func banClaimedByAnother(t *testing.T, st store.Store, raw *goredis.Client, prefix string, ttl time.Duration) (store.Case, string) {
	t.Helper()
	ctx := context.Background()
	c := decidedCase(t, st, "ban")
	claimKey := prefix + ":{cases}:claim:" + c.ID
	if err := raw.Set(ctx, claimKey, "another-process", ttl).Err(); err != nil {
		t.Fatal(err)
	}
	return c, claimKey
}

// bannedHereOnce waits for case id to be carried out and m's decisions to
// end, then checks that p was asked for the ban once.
func bannedHereOnce(t *testing.T, st store.Store, m *handlers.Moderator, id string, p *chat) {
	t.Helper()
	ctx := context.Background()
	redistest.Eventually(t, 10*time.Second, "the ban carried out here", func() bool {
		got, err := st.Case(ctx, id)
		return err == nil && got.Carried == store.CarriedDone
	})
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := m.WaitDecisions(wctx); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ban"}; !slices.Equal(p.Calls(), want) {
		t.Errorf("calls = %q, want %q (carried out once)", p.Calls(), want)
	}
}
