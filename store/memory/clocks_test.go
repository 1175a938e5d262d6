package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestLateEventsKeepTheirWindows: events arrive half an hour late (a
// backlog), while vigie's own clock claims an alert and the daemon sweeps
// idle shards every minute. A counter of 10 minutes on the events' clock
// counts each of the three copies: neither the claim, on the wall clock, nor
// the minute's sweep, while events still come, drops it.
func TestLateEventsKeepTheirWindows(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	late := now.Add(-30 * time.Minute)
	st := memory.New(memory.WithShards(1))
	copyOf := func(at time.Time) int64 {
		t.Helper()
		res, err := st.Observe(ctx, store.Observation{At: at, Platform: "p", Space: "s", Author: "a",
			Counters: []store.CounterOp{{Name: "same_text", Key: "a|stickers", Window: 10 * time.Minute, Incr: true}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Counts[0]
	}
	claim := func(at time.Time) {
		t.Helper()
		if _, err := st.Observe(ctx, store.Observation{At: at, Wall: true, Platform: "vigie", Space: "p:s", Author: "alert",
			EventID: "raised:copy-wave", DedupeTTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
	}
	copyOf(late)
	claim(now)
	copyOf(late.Add(time.Minute))
	st.SweepIdle(now.Add(time.Minute)) // the shard had events since: not idle
	claim(now.Add(time.Minute))
	if n := copyOf(late.Add(2 * time.Minute)); n != 3 {
		t.Errorf("the third copy counts %d, want 3", n)
	}
	// Once no event comes for a minute, the wall clock sweeps: what the
	// backlog left goes, and the claims, whose minute is over.
	st.SweepIdle(now.Add(2 * time.Minute))
	st.SweepIdle(now.Add(3 * time.Minute))
	if n := st.Len(); n != 0 {
		t.Errorf("%d entries after two idle sweeps, want none", n)
	}
}

// TestLogoutsOnTheStoresClock steps the store's clock past a logout's time:
// the session it ended is no longer said revoked, however little wall time
// passed.
func TestLogoutsOnTheStoresClock(t *testing.T) {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	st := memory.New(memory.WithClock(func() time.Time { return now }))
	if err := st.RevokeSession(ctx, "s1", time.Hour); err != nil {
		t.Fatal(err)
	}
	revoked := func(id string) bool {
		t.Helper()
		r, err := st.SessionRevoked(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	now = now.Add(59 * time.Minute)
	if !revoked("s1") {
		t.Fatal("a session logged out 59 minutes ago, for an hour, is not revoked")
	}
	now = now.Add(2 * time.Minute)
	if revoked("s1") {
		t.Error("a session logged out 61 minutes ago, for an hour, is revoked still, on the wall clock")
	}
}
