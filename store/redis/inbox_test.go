package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
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
