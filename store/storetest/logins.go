package storetest

import (
	"context"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// testLoginLimits: failed logins are read per key since a time, oldest
// first, in the order written whatever the order recorded; a key's newest
// LoginFailuresKept stay; a pair's last login is read beside them.
func testLoginLimits(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, ok := newStore(t).(store.LoginLimits)
	if !ok {
		t.Fatal("the store keeps no login limits (store.LoginLimits)")
	}
	const keep = 15 * time.Minute
	fs, last, err := st.LoginFailures(ctx, []string{"addr:203.0.113.5", "name:ann"}, t0.Add(-time.Hour), "ann\x00203.0.113.5")
	if err != nil || len(fs) != 2 || len(fs[0]) != 0 || len(fs[1]) != 0 || !last.IsZero() {
		t.Fatalf("an empty store: %v, %v, %v; want two empty lists and no last login", fs, last, err)
	}
	for _, rec := range []struct {
		keys []string
		at   time.Duration
	}{
		{[]string{"addr:203.0.113.5", "name:ann"}, 2 * time.Minute},
		{[]string{"addr:203.0.113.5"}, 1 * time.Minute},
		{[]string{"addr:203.0.113.5", "name:ann"}, 5 * time.Minute},
		{[]string{"device:d1"}, 3 * time.Minute},
	} {
		if err := st.LoginFailed(ctx, rec.keys, t0.Add(rec.at), keep); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.LoginSucceeded(ctx, "ann\x00198.51.100.7", t0.Add(4*time.Minute), 30*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	at := func(ms ...int) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m)*time.Minute))
		}
		return out
	}
	same := func(a, b []time.Time) bool {
		return slices.EqualFunc(a, b, func(x, y time.Time) bool { return x.Equal(y) })
	}
	fs, last, err = st.LoginFailures(ctx, []string{"addr:203.0.113.5", "name:ann", "device:d1", "name:bob"}, t0.Add(2*time.Minute), "ann\x00198.51.100.7")
	if err != nil {
		t.Fatal(err)
	}
	if len(fs) != 4 || !same(fs[0], at(2, 5)) || !same(fs[1], at(2, 5)) || !same(fs[2], at(3)) || len(fs[3]) != 0 {
		t.Errorf("failures since +2m: %v; want [+2m +5m] [+2m +5m] [+3m] []", fs)
	}
	if !last.Equal(t0.Add(4 * time.Minute)) {
		t.Errorf("last login of the pair: %v, want %v", last, t0.Add(4*time.Minute))
	}
	// A key with more failures than are kept keeps its newest.
	for i := range store.LoginFailuresKept + 6 {
		if err := st.LoginFailed(ctx, []string{"addr:198.51.100.99"}, t0.Add(time.Duration(i)*time.Second), keep); err != nil {
			t.Fatal(err)
		}
	}
	fs, _, err = st.LoginFailures(ctx, []string{"addr:198.51.100.99"}, t0.Add(-time.Hour), "")
	if err != nil {
		t.Fatal(err)
	}
	n := store.LoginFailuresKept + 6
	if got := fs[0]; len(got) < store.LoginFailuresKept || !got[len(got)-1].Equal(t0.Add(time.Duration(n-1)*time.Second)) ||
		!slices.IsSortedFunc(got, func(x, y time.Time) int { return x.Compare(y) }) {
		t.Errorf("%d failures of one key read as %d (newest %v), want the newest %s at least, oldest first",
			n, len(got), got[len(got)-1], strconv.Itoa(store.LoginFailuresKept))
	}
}
