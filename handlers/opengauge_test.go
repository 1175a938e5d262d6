package handlers_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestOpenCasesGaugeWhileRedisIsAway: while Redis is away, the store lists
// only the cases it holds in memory; the vigie_cases_open gauge is not set
// from that list, which left out every case open in Redis (17 in a long
// run's outage, with thousands open), but keeps the count it had, and the
// cases opened since.
func TestOpenCasesGaugeWhileRedisIsAway(t *testing.T) {
	srv := redistest.Start(t)
	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.FallbackOptions{RetryEvery: time.Hour}, redis.WithPrefix(redistest.Prefix("gauge-test")))
	m, reg := newModerator(t, f, nil)
	esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	open := func(i int) {
		t.Helper()
		err := m.OpenCase(ctx, store.Case{Reason: fmt.Sprintf("r-%d", i),
			Event: bot.Event{ID: fmt.Sprintf("m-%d", i), Platform: "discord", Space: fmt.Sprintf("g-%d", i), Author: bot.Author{ID: fmt.Sprintf("u-%d", i)}, At: at}})
		if err != nil {
			t.Fatal(err)
		}
	}
	gauge := func() float64 { return counts(t, reg)["cases_open"] }
	for i := range 3 {
		open(i)
	}
	if err := m.RefreshOpenCases(ctx); err != nil {
		t.Fatal(err)
	}
	if g := gauge(); g != 3 {
		t.Fatalf("cases_open = %v with 3 cases open in Redis", g)
	}
	srv.Stop()
	for i := 0; !f.Degraded(); i++ {
		if i == 100 {
			t.Fatal("not degraded with redis-server stopped")
		}
		_, _ = f.Observe(ctx, store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-9", EventID: fmt.Sprintf("o-%d", i)})
	}
	open(3)
	if err := m.RefreshOpenCases(ctx); err != nil {
		t.Fatal(err)
	}
	if g := gauge(); g != 4 {
		t.Errorf("cases_open = %v with Redis away, 3 cases open there and 1 in memory: want 4", g)
	}
	// The escalation's check sets the gauge too, from the same list.
	_, _ = esc.Check(ctx) // its errors: what Redis alone holds (the locks)
	if g := gauge(); g != 4 {
		t.Errorf("cases_open = %v after the escalation's check with Redis away: want 4", g)
	}
}
