package redis_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestEntryBuffersReused checks the journal and audit entries written from
// pooled buffers (WithAutoPipeline): many writers at once, texts of every
// length, and each entry read back whole, none written over by the next.
func TestEntryBuffersReused(t *testing.T) {
	st := open(t, redistest.URL(t), redis.WithAutoPipeline())
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	const writers, each = 4, 150
	text := func(w, i int) string { return fmt.Sprintf("w%d-%d %s", w, i, strings.Repeat("é", (w*each+i)*37%3000)) }
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				ev := bot.Event{ID: fmt.Sprintf("m-%d-%d", w, i), Platform: "discord", Kind: bot.KindMessage, Text: text(w, i), At: at}
				if err := st.Begin(ctx, store.JournalEntry{Key: ev.Key(), Event: ev, At: at, Begun: at}); err != nil {
					t.Error(err)
				}
				if err := st.AppendAudit(ctx, store.AuditEntry{At: at, Event: ev}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := st.Audit(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range got {
		var w, i int
		if _, err := fmt.Sscanf(e.Event.ID, "m-%d-%d", &w, &i); err != nil || e.Event.Text != text(w, i) {
			t.Fatalf("audit entry %q holds text %.40q…, not its own", e.Event.ID, e.Event.Text)
		}
		seen[e.Event.ID] = true
	}
	if len(got) != writers*each || len(seen) != writers*each {
		t.Errorf("%d audit entries, %d distinct, want %d", len(got), len(seen), writers*each)
	}
	entries, err := st.Unfinished(ctx, at.Add(time.Hour), at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		var w, i int
		if _, err := fmt.Sscanf(e.Event.ID, "m-%d-%d", &w, &i); err != nil || e.Event.Text != text(w, i) {
			t.Fatalf("journal entry %q holds text %.40q…, not its own", e.Event.ID, e.Event.Text)
		}
	}
	if len(entries) != writers*each {
		t.Errorf("%d journal entries, want %d", len(entries), writers*each)
	}
}
