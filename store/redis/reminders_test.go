package redis_test

import (
	"context"
	"maps"
	"testing"

	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// The reminders kept are taken once, by one process; a later one of a case
// replaces the earlier. While Redis is away, the fallback keeps none (the
// escalation keeps them in memory) and takes none.
func TestReminders(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	a := otherProcess(t, srv.URL(), prefix)
	b := otherProcess(t, srv.URL(), prefix)
	ctx := context.Background()
	for _, r := range []struct {
		id string
		k  int64
	}{{"c-x-000001", 0}, {"c-x-000002", 3}, {"c-x-000001", 1}} {
		if err := a.KeepReminder(ctx, r.id, r.k); err != nil {
			t.Fatal(err)
		}
	}
	got, err := b.TakeReminders(ctx)
	if want := map[string]int64{"c-x-000001": 1, "c-x-000002": 3}; err != nil || !maps.Equal(got, want) {
		t.Errorf("taken = %v, %v; want %v", got, err, want)
	}
	if got, err := a.TakeReminders(ctx); err != nil || len(got) != 0 {
		t.Errorf("taken again = %v, %v; want none", got, err)
	}

	primary, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	f := redis.NewFallback(primary, redis.FallbackOptions{})
	t.Cleanup(func() { f.Close() })
	if err := f.KeepReminder(ctx, "l-abcde-000001", 0); err == nil {
		t.Error("a case opened while Redis was away: its reminder kept in Redis, which does not know its id")
	}
	srv.Stop()
	if err := f.KeepReminder(ctx, "c-x-000003", 0); err == nil {
		t.Error("KeepReminder with Redis stopped: no error, the reminder lost")
	}
	if got, err := f.TakeReminders(ctx); err != nil || len(got) != 0 {
		t.Errorf("TakeReminders with Redis stopped = %v, %v; want none, no error", got, err)
	}
}
