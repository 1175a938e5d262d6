package redis_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// The reminders kept are taken once, by one process; a later one of a case
// replaces the earlier. While Redis is away, the fallback keeps them (in
// memory and in its spool) and gives them back at its next take.
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

	f := redistest.OpenFallback(t, srv.URL()+"?max_retries=-1&dial_timeout=500ms", redis.FallbackOptions{RetryEvery: time.Hour}, redis.WithPrefix(prefix))
	srv.Stop()
	// Kept here while Redis is away, and taken back by this process's
	// next check, which tries the desk again. Before, the fallback
	// refused them, and the escalation kept them in its memory alone.
	for _, id := range []string{"l-abcde-000001", "c-x-000003"} {
		if err := f.KeepReminder(ctx, id, 2); err != nil {
			t.Errorf("KeepReminder(%s) with Redis stopped: %v; want it kept for Redis", id, err)
		}
	}
	if err := f.KeepReminder(ctx, "c-x-000003", 1); err != nil {
		t.Fatal(err)
	}
	got, err = f.TakeReminders(ctx)
	if want := map[string]int64{"l-abcde-000001": 2, "c-x-000003": 2}; err != nil || !maps.Equal(got, want) {
		t.Errorf("TakeReminders with Redis stopped = %v, %v; want %v", got, err, want)
	}
	if got, err := f.TakeReminders(ctx); err != nil || len(got) != 0 {
		t.Errorf("TakeReminders again = %v, %v; want none", got, err)
	}
}

// A reminder the desk did not take while Redis was away too is kept in the
// spool: a process stopped before Redis answers leaves it to the next, which
// writes it to Redis (under the case's id there, for a case opened
// meanwhile) for any process's next check. Before, it was kept in the
// escalation's memory, and the stop lost it.
func TestRemindersKeptInTheSpool(t *testing.T) {
	o := newSpoolOutage(t)
	ctx := context.Background()
	f := o.instance(t, time.Hour)
	o.srv.Stop()
	c, err := f.OpenCase(ctx, spoolCaseOf("e1"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct {
		id string
		k  int64
	}{{c.ID, 2}, {"c-x-000009", 1}} {
		if err := f.KeepReminder(ctx, r.id, r.k); err != nil {
			t.Fatalf("KeepReminder(%s) with Redis stopped: %v; want it kept for Redis", r.id, err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	o.srv.Restart()
	g := o.instance(t, 20*time.Millisecond)
	var got map[string]int64
	waitFor(t, "the reminders written to Redis", func() bool {
		if g.Degraded() || g.Buffered() != 0 {
			return false
		}
		kept, err := o.other.TakeReminders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for id, k := range kept {
			if got == nil {
				got = map[string]int64{}
			}
			got[id] = k
		}
		return len(got) >= 2
	})
	open, err := o.other.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 1 {
		t.Fatalf("open cases in Redis = %+v, %v; want e1's", open, err)
	}
	if want := map[string]int64{open[0].ID: 2, "c-x-000009": 1}; !maps.Equal(got, want) {
		t.Errorf("reminders in Redis = %v; want %v", got, want)
	}
}

// A reminder kept for a case opened while Redis was away, which Redis then
// refuses for the open cases' cap (closed in memory), is dropped: no
// reminder is due for it, and, kept, it had the loop that pings Redis write
// back every second for good.
func TestReminderOfARefusedCaseDropped(t *testing.T) {
	srv, f := cappedFallback(t, 1, redis.FallbackOptions{MaxCases: 10, RetryEvery: 20 * time.Millisecond})
	ctx := context.Background()
	if _, err := f.OpenCase(ctx, spoolCaseOf("e0")); err != nil { // holds Redis's cap of one
		t.Fatal(err)
	}
	srv.Stop()
	c, err := f.OpenCase(ctx, spoolCaseOf("e1"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.KeepReminder(ctx, c.ID, 1); err != nil {
		t.Fatal(err)
	}
	srv.Restart()
	waitFor(t, "back on Redis, the refused case's reminder dropped", func() bool {
		return !f.Degraded() && f.Buffered() == 0 && f.RemindersWaiting() == 0
	})
	if n := f.Dropped(); n != 1 {
		t.Errorf("dropped %d; want the case Redis refused", n)
	}
}
