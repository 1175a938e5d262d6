package memory

import (
	"context"
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
