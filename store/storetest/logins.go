package storetest

import (
	"context"
	"slices"
	"strconv"
	"sync"
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

// testLoginTry: LoginTry counts a failure against every key of its limits
// only while each key is under its limit (failures after since), in one
// step: of twenty tries at once on a key with a limit of five, five are
// counted, whatever their order. LoginUncount takes a counted one back.
func testLoginTry(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, ok := newStore(t).(store.LoginLimits)
	if !ok {
		t.Fatal("the store keeps no login limits (store.LoginLimits)")
	}
	const keep = 15 * time.Minute
	now := t0.Add(time.Hour)
	since := now.Add(-keep)
	// One failure exactly at since is over: not counted against the limit.
	if err := st.LoginFailed(ctx, []string{"addr:192.0.2.1"}, since, keep); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var ids []string
	for range 20 {
		wg.Go(func() {
			id, ok, err := st.LoginTry(ctx, []store.LoginLimit{{Key: "addr:192.0.2.1", Max: 5}}, since, now, keep)
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(ids) != 5 || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != 5 {
		t.Fatalf("20 tries at once under a limit of 5: counted %q; want 5, each with its own id", ids)
	}
	// A limit reached on one key records nothing on the others.
	if _, ok, err := st.LoginTry(ctx, []store.LoginLimit{{Key: "name:ann", Max: 10}, {Key: "addr:192.0.2.1", Max: 5}}, since, now, keep); ok || err != nil {
		t.Errorf("a try past the address's limit: ok %v, %v; want refused", ok, err)
	}
	fs, _, err := st.LoginFailures(ctx, []string{"name:ann", "addr:192.0.2.1"}, since.Add(time.Nanosecond), "")
	if err != nil || len(fs[0]) != 0 || len(fs[1]) != 5 {
		t.Fatalf("failures after the refused try: %v, %v; want none for the name, 5 for the address", fs, err)
	}
	// One taken back makes room for one more.
	if err := st.LoginUncount(ctx, []string{"addr:192.0.2.1"}, ids[0]); err != nil {
		t.Fatal(err)
	}
	fs, _, err = st.LoginFailures(ctx, []string{"addr:192.0.2.1"}, since.Add(time.Nanosecond), "")
	if err != nil || len(fs[0]) != 4 {
		t.Errorf("failures once one is taken back: %v, %v; want 4", fs, err)
	}
	if _, ok, err := st.LoginTry(ctx, []store.LoginLimit{{Key: "name:ann", Max: 10}, {Key: "addr:192.0.2.1", Max: 5}}, since, now, keep); !ok || err != nil {
		t.Errorf("a try once one is taken back: ok %v, %v; want counted", ok, err)
	}
	fs, _, err = st.LoginFailures(ctx, []string{"name:ann", "addr:192.0.2.1"}, since.Add(time.Nanosecond), "")
	if err != nil || len(fs[0]) != 1 || len(fs[1]) != 5 {
		t.Errorf("failures after it: %v, %v; want 1 for the name, 5 for the address", fs, err)
	}
}
