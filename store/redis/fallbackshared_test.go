package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestFallbackSharedWhileAway: while Redis does not take writes, the cause
// cards and the answers given are kept in the process's memory, which
// answers as the store would, and the log says that the other instances do
// not know them.
func TestFallbackSharedWhileAway(t *testing.T) {
	srv := redistest.Start(t, "--min-replicas-to-write", "1")
	primary, err := redis.Open(srv.URL(), redis.WithPrefix(newPrefix()))
	if err != nil {
		t.Fatal(err)
	}
	var logs testLogs
	logger := logs.logger()
	f := redis.NewFallback(primary, redis.FallbackOptions{RetryEvery: time.Hour, Logger: logger})
	defer f.Close()
	ctx := context.Background()

	card, turn, err := f.JoinCause(ctx, "scope", store.CauseJoin{Case: "c-1"}, night, 10*time.Minute)
	if err != nil || turn != store.CausePost || card.Lead != "c-1" {
		t.Fatalf("JoinCause while Redis refuses writes = %+v, %v, %v; want a card claimed in memory", card, turn, err)
	}
	if !f.Degraded() {
		t.Errorf("not degraded after NOREPLICAS")
	}
	if err := f.CausePosted(ctx, "scope", "c-1"); err != nil {
		t.Fatal(err)
	}
	if card, turn, err := f.JoinCause(ctx, "scope", store.CauseJoin{Case: "c-2"}, night.Add(time.Second), 10*time.Minute); err != nil || turn != store.CauseCounted || card.N != 2 {
		t.Errorf("second case = %+v, %v, %v; want it joined in memory", card, turn, err)
	}
	if err := f.KeepCall(ctx, "reply 1_2 abc", store.CallRecord{At: night, Done: true}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if r, ok, err := f.Call(ctx, "reply 1_2 abc"); err != nil || !ok || !r.Done {
		t.Errorf("Call = %+v, %v, %v; want the answer kept in memory", r, ok, err)
	}
	if !strings.Contains(logs.String(), "redis away: the desk's cause cards kept in this process's memory") {
		t.Errorf("the log does not say the cause cards are kept in memory:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "redis away: the answers given and the warnings kept in this process's memory") {
		t.Errorf("the log does not say the answers given are kept in memory:\n%s", logs.String())
	}
}
