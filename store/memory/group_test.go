package memory

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// TestGroupKeep: a place's case that a raid's authors join remembers the last
// groupKeep of them and of their hits, however many join.
func TestGroupKeep(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := New()
	var last store.Case
	for i := range 1000 {
		at := t0.Add(time.Duration(i) * time.Millisecond)
		c, err := st.OpenCase(ctx, store.Case{Rule: "raid", Reason: "r", Event: bot.Event{ID: fmt.Sprint("m-", i),
			Platform: "p", Space: "s", Channel: "c", Author: bot.Author{ID: fmt.Sprint("u-", i)}, At: at}})
		if err != nil {
			t.Fatal(err)
		}
		last = c
	}
	if want := 1000 - store.GroupAuthors + 1; last.Count != want {
		t.Fatalf("the place's case counts %d, want %d", last.Count, want)
	}
	// the first cases' own groups and origins, and groupKeep of the others
	if n := len(st.groups); n > store.GroupAuthors+groupKeep {
		t.Errorf("%d author groups remembered, want at most %d", n, store.GroupAuthors+groupKeep)
	}
	if n := len(st.origins); n > store.GroupAuthors+groupKeep {
		t.Errorf("%d origins remembered, want at most %d", n, store.GroupAuthors+groupKeep)
	}
	// The last authors are still in the case, a retry of a last hit too.
	again, err := st.OpenCase(ctx, store.Case{Rule: "raid", Reason: "r", Event: bot.Event{ID: "m-999",
		Platform: "p", Space: "s", Channel: "c", Author: bot.Author{ID: "u-999"}, At: t0.Add(time.Hour)}})
	if err != nil || again.ID != last.ID || again.Count != last.Count {
		t.Errorf("a retry of the last hit: %s count %d, %v; want %s count %d", again.ID, again.Count, err, last.ID, last.Count)
	}
}

// TestGroupLatestKept: a case returned by OpenCase keeps the Latest it was
// returned with while further hits join the case, and the case keeps the
// last store.GroupLatest of them.
func TestGroupLatestKept(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := New()
	var got []store.Case
	for i := range 100 {
		c, err := st.OpenCase(ctx, store.Case{Rule: "flood", Reason: "r", Event: bot.Event{ID: fmt.Sprint("m-", i),
			Platform: "p", Space: "s", Channel: "c", Author: bot.Author{ID: "u-1"}, At: t0.Add(time.Duration(i) * time.Second)}})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	for i, c := range got {
		// The first hit opened the case; each later one is in Latest.
		n := min(i, store.GroupLatest)
		if len(c.Latest) != n || c.Count != i+1 {
			t.Fatalf("hit %d: %d latest, count %d; want %d, %d", i, len(c.Latest), c.Count, n, i+1)
		}
		for j, id := range c.Latest {
			if want := fmt.Sprint("m-", i-n+1+j); id != want {
				t.Fatalf("hit %d: latest[%d] = %s, want %s", i, j, id, want)
			}
		}
	}
}

// TestCapErrorText: the error at the open cases' cap reads as it always did
// and wraps store.ErrCaseCap.
func TestCapErrorText(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	st := New(WithOpenCaseCap(2))
	for i := range 3 {
		_, err := st.OpenCase(ctx, store.Case{Rule: "r", Reason: "x", Holds: true, Event: bot.Event{ID: fmt.Sprint("m-", i),
			Platform: "discord", Author: bot.Author{ID: "u"}, At: t0}})
		if i < 2 {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		if !errors.Is(err, store.ErrCaseCap) || err.Error() != "case for discord:m-2: 2 open: "+store.ErrCaseCap.Error() {
			t.Errorf("at the cap: %v", err)
		}
	}
}

// TestCaseIDs: ids are the prefix and the sequence on six digits at least.
func TestCaseIDs(t *testing.T) {
	for _, tc := range []struct {
		seq  int64
		want string
	}{{1, "c-000001"}, {42, "c-000042"}, {999999, "c-999999"}, {1000000, "c-1000000"}, {123456789012, "c-123456789012"}} {
		if got := caseID("c-", tc.seq); got != tc.want || got != fmt.Sprintf("%s%06d", "c-", tc.seq) {
			t.Errorf("caseID(%d) = %q, want %q", tc.seq, got, tc.want)
		}
	}
	if got := caseID("", 7); got != "000007" {
		t.Errorf("caseID without prefix = %q", got)
	}
}
