package redis_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestInbox: a job's inbox is written with its fenced value, under the same
// lease, or not at all; it keeps its items by id until removed, at most max
// of them, the oldest dropped and counted past that; and a later owner of
// the job reads what an earlier one left.
func TestInbox(t *testing.T) {
	ctx := context.Background()
	st := open(t, redistest.URL(t))
	item := func(id int64) store.InboxItem {
		return store.InboxItem{ID: id, Data: fmt.Appendf(nil, `{"update_id":%d}`, id)}
	}
	ids := func(items []store.InboxItem) []int64 {
		var out []int64
		for _, it := range items {
			if want := string(item(it.ID).Data); string(it.Data) != want {
				t.Errorf("item %d holds %q, want %q", it.ID, it.Data, want)
			}
			out = append(out, it.ID)
		}
		return out
	}
	a, ok, err := st.AcquireLease(ctx, "telegram", "p1", time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	ok, dropped, err := st.AdvanceFencedKeeping(ctx, a, "offset", 13, []store.InboxItem{item(12), item(10), item(11)}, 4)
	if !ok || dropped != 0 || err != nil {
		t.Fatalf("AdvanceFencedKeeping = %v, %d, %v", ok, dropped, err)
	}
	if v, _ := st.Fenced(ctx, "telegram", "offset"); v != 13 {
		t.Errorf("offset %d, want 13", v)
	}
	got, err := st.InboxItems(ctx, "telegram")
	if err != nil || fmt.Sprint(ids(got)) != "[10 11 12]" {
		t.Fatalf("InboxItems = %v, %v; want 10 11 12", ids(got), err)
	}
	if err := st.RemoveFromInbox(ctx, "telegram", []int64{11, 99}); err != nil {
		t.Fatal(err)
	}
	// Past max, the oldest go, counted.
	ok, dropped, err = st.AdvanceFencedKeeping(ctx, a, "offset", 16, []store.InboxItem{item(13), item(14), item(15)}, 4)
	if !ok || dropped != 1 || err != nil {
		t.Fatalf("AdvanceFencedKeeping past max = %v, %d, %v; want 1 dropped", ok, dropped, err)
	}
	got, _ = st.InboxItems(ctx, "telegram")
	if fmt.Sprint(ids(got)) != "[12 13 14 15]" {
		t.Errorf("inbox %v, want 12 13 14 15", ids(got))
	}
	// Kept again (a batch written twice): still once.
	if ok, _, err := st.AdvanceFencedKeeping(ctx, a, "offset", 16, []store.InboxItem{item(15)}, 4); !ok || err != nil {
		t.Fatalf("AdvanceFencedKeeping again = %v, %v", ok, err)
	}
	if got, _ = st.InboxItems(ctx, "telegram"); len(got) != 4 {
		t.Errorf("inbox %v after an item kept twice, want 4 items", ids(got))
	}

	// Another owner takes the job: the first one writes nothing more, and
	// the new one finds what it left.
	if err := st.ReleaseLease(ctx, a); err != nil {
		t.Fatal(err)
	}
	b, ok, err := st.AcquireLease(ctx, "telegram", "p2", time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease by p2 = %v, %v", ok, err)
	}
	ok, _, err = st.AdvanceFencedKeeping(ctx, a, "offset", 30, []store.InboxItem{item(29)}, 4)
	if ok || err != nil {
		t.Errorf("AdvanceFencedKeeping under a lost lease = %v, %v; want refused", ok, err)
	}
	if v, _ := st.Fenced(ctx, "telegram", "offset"); v != 16 {
		t.Errorf("offset %d after a refused write, want 16", v)
	}
	got, _ = st.InboxItems(ctx, "telegram")
	if fmt.Sprint(ids(got)) != "[12 13 14 15]" {
		t.Errorf("inbox %v after a refused write, want 12 13 14 15", ids(got))
	}
	// A write with no item moves the value alone.
	if ok, dropped, err := st.AdvanceFencedKeeping(ctx, b, "offset", 17, nil, 4); !ok || dropped != 0 || err != nil {
		t.Errorf("AdvanceFencedKeeping with no item = %v, %d, %v", ok, dropped, err)
	}
	if err := st.RemoveFromInbox(ctx, "telegram", []int64{12, 13, 14, 15}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.InboxItems(ctx, "telegram"); len(got) != 0 || err != nil {
		t.Errorf("inbox %v, %v after all removed, want empty", ids(got), err)
	}
	if got, err := st.InboxItems(ctx, "discord-shard-0"); len(got) != 0 || err != nil {
		t.Errorf("inbox of another job %v, %v, want empty", ids(got), err)
	}
}

// TestInboxHandOnsAndAge: each item keeps when it was first kept (a batch
// kept again does not move it) and how many times a next owner handed it on;
// an item without a time (kept by an earlier build) gets the first hand-on's;
// a removal forgets both. The items are where an earlier build reads them.
func TestInboxHandOnsAndAge(t *testing.T) {
	ctx := context.Background()
	url := redistest.URL(t)
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix))
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	item := func(id int64, at time.Time) store.InboxItem {
		return store.InboxItem{ID: id, Data: fmt.Appendf(nil, `{"update_id":%d}`, id), Taken: at}
	}
	l, ok, err := st.AcquireLease(ctx, "telegram", "p1", time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	if ok, _, err := st.AdvanceFencedKeeping(ctx, l, "offset", 3, []store.InboxItem{item(1, t0), item(2, t0), item(3, time.Time{})}, 10); !ok || err != nil {
		t.Fatalf("AdvanceFencedKeeping = %v, %v", ok, err)
	}
	// Kept again later (the batch with the next one): its time stays.
	if ok, _, err := st.AdvanceFencedKeeping(ctx, l, "offset", 4, []store.InboxItem{item(1, t0.Add(time.Hour))}, 10); !ok || err != nil {
		t.Fatalf("AdvanceFencedKeeping again = %v, %v", ok, err)
	}
	later := t0.Add(2 * time.Hour)
	for range 2 {
		if err := st.HandingOn(ctx, "telegram", []int64{1, 3, 99}, later); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.InboxItems(ctx, "telegram")
	if err != nil {
		t.Fatal(err)
	}
	want := []store.InboxItem{item(1, t0), item(2, t0), item(3, later)}
	want[0].HandedOn, want[2].HandedOn = 2, 2
	if len(got) != len(want) {
		t.Fatalf("inbox %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].ID != want[i].ID || !got[i].Taken.Equal(want[i].Taken) || got[i].HandedOn != want[i].HandedOn || string(got[i].Data) != string(want[i].Data) {
			t.Errorf("item %d = {%d %s taken %s handed on %d}, want {%d %s taken %s handed on %d}", i,
				got[i].ID, got[i].Data, got[i].Taken, got[i].HandedOn, want[i].ID, want[i].Data, want[i].Taken, want[i].HandedOn)
		}
	}
	// Removed, then kept again (ids do not come back, but a removal leaves
	// nothing behind).
	if err := st.RemoveFromInbox(ctx, "telegram", []int64{1}); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := st.AdvanceFencedKeeping(ctx, l, "offset", 4, []store.InboxItem{item(1, later)}, 10); !ok || err != nil {
		t.Fatalf("AdvanceFencedKeeping = %v, %v", ok, err)
	}
	got, _ = st.InboxItems(ctx, "telegram")
	if got[0].HandedOn != 0 || !got[0].Taken.Equal(later) {
		t.Errorf("item 1 kept after its removal: taken %s, handed on %d; want %s, 0", got[0].Taken, got[0].HandedOn, later)
	}
	// The layout an earlier build reads: the items in the sorted set, as
	// before, scored by id.
	raw := redistest.Client(t, url)
	members, err := raw.ZRangeWithScores(ctx, prefix+":{lease:telegram}:inbox", 0, -1).Result()
	if err != nil || len(members) != 3 || members[1].Member != `{"update_id":2}` || members[1].Score != 2 {
		t.Errorf("the inbox's sorted set %+v, %v; want the 3 items, by id", members, err)
	}
}

// TestInboxReleased: an item released by an owner that stopped cleanly is
// handed on once without a count, the release used up by it; the hand-on
// after counts again. A released item removed and kept again starts afresh.
func TestInboxReleased(t *testing.T) {
	ctx := context.Background()
	st := open(t, redistest.URL(t), redis.WithPrefix(newPrefix()))
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	l, ok, err := st.AcquireLease(ctx, "telegram", "p1", time.Minute)
	if !ok || err != nil {
		t.Fatalf("AcquireLease = %v, %v", ok, err)
	}
	items := []store.InboxItem{{ID: 1, Data: []byte(`{"update_id":1}`), Taken: now}, {ID: 2, Data: []byte(`{"update_id":2}`), Taken: now}}
	if ok, _, err := st.AdvanceFencedKeeping(ctx, l, "offset", 3, items, 10); !ok || err != nil {
		t.Fatalf("AdvanceFencedKeeping = %v, %v", ok, err)
	}
	handedOn := func() []int {
		t.Helper()
		got, err := st.InboxItems(ctx, "telegram")
		if err != nil {
			t.Fatal(err)
		}
		var n []int
		for _, it := range got {
			n = append(n, it.HandedOn)
		}
		return n
	}
	// Released twice before a hand-on: one release, used up by it.
	for _, step := range []struct {
		release, handOn []int64
		want            []int
	}{
		{release: []int64{1, 99}, handOn: []int64{1, 2}, want: []int{0, 1}},
		{release: []int64{1}, handOn: nil, want: []int{0, 1}},
		{release: []int64{1}, handOn: []int64{1}, want: []int{0, 1}},
		{handOn: []int64{1, 2}, want: []int{1, 2}},
	} {
		if err := st.ReleaseInbox(ctx, "telegram", step.release); err != nil {
			t.Fatal(err)
		}
		if err := st.HandingOn(ctx, "telegram", step.handOn, now); err != nil {
			t.Fatal(err)
		}
		if got := handedOn(); !slices.Equal(got, step.want) {
			t.Fatalf("released %v, handed on %v: counts %v, want %v", step.release, step.handOn, got, step.want)
		}
	}
	// Released, removed, kept again: its next hand-on counts.
	if err := st.ReleaseInbox(ctx, "telegram", []int64{2}); err != nil {
		t.Fatal(err)
	}
	if err := st.RemoveFromInbox(ctx, "telegram", []int64{2}); err != nil {
		t.Fatal(err)
	}
	if ok, _, err := st.AdvanceFencedKeeping(ctx, l, "offset", 3, items[1:], 10); !ok || err != nil {
		t.Fatalf("AdvanceFencedKeeping = %v, %v", ok, err)
	}
	if err := st.HandingOn(ctx, "telegram", []int64{2}, now); err != nil {
		t.Fatal(err)
	}
	if got := handedOn(); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("counts %v, want [1 1]: a removal forgets the release", got)
	}
}
