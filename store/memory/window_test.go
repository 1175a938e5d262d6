package memory_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// Live, two events of one author evaluated at once may reach the store in the
// other order than they read the clock: the later-stamped one must still count
// for the other, or a burst of three never reaches 3.
func TestWindowCountsLaterStampedEvents(t *testing.T) {
	st := memory.New()
	defer st.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	observe := func(id string, at time.Time) int64 {
		t.Helper()
		res, err := st.Observe(ctx, store.Observation{At: at, Platform: "p", Space: "s", Author: "a", EventID: id,
			Counters: []store.CounterOp{{Name: "msgs", Key: "a", Window: time.Hour, Incr: true}}})
		if err != nil {
			t.Fatal(err)
		}
		return res.Counts[0]
	}
	for i, c := range []struct {
		id   string
		at   time.Time
		want int64
	}{
		{"m1", t0, 1},
		{"m3", t0.Add(2 * time.Microsecond), 2},
		{"m2", t0.Add(1 * time.Microsecond), 3}, // stamped before m3, stored after it
		{"m4", t0.Add(time.Hour + 1500*time.Nanosecond), 2}, // m1 and m2 have left the window
	} {
		if got := observe(c.id, c.at); got != c.want {
			t.Errorf("event %d (%s): count %d, want %d", i+1, c.id, got, c.want)
		}
	}
}
