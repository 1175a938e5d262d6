package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// openedDuringRenewal is a store whose first renewal of key lets the case
// be named (opened) before the renewal's own write: what two writes in
// flight at once may do, the renewal's copy taken before the case was named.
type openedDuringRenewal struct {
	store.Store
	key    string
	opened func()
	done   bool
}

func (s *openedDuringRenewal) Begin(ctx context.Context, e store.JournalEntry) error {
	if e.Key == s.key && e.Case == "" && !s.done {
		s.done = true
		s.opened()
	}
	return s.Store.Begin(ctx, e)
}

// TestRenewalKeepsEarlyCase: a verdict waits in its lane long enough for
// its journal entry to be renewed, and the case opened while its actions
// are tried is named in the entry, and an action carried out, while the
// renewal is being written. The journal still names the case and the
// action after the renewal, so a vigie that carries the verdict out again
// after a crash amends that case, and says the action was carried out.
func TestRenewalKeepsEarlyCase(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	at := time.Now().Add(-time.Hour)
	ev := bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7"}, Text: "FREE NITRO here", At: at}
	d := &daemon{cfg: Config{RecoverAfter: time.Minute}, log: slog.New(slog.DiscardHandler),
		metrics: newMetrics(prometheus.NewRegistry(), "test")}
	st := &openedDuringRenewal{Store: mem, key: ev.Key(), opened: func() {
		d.earlyOpened(ctx, ev, "case-1")
		d.carried(ctx, ev, bot.Action{Kind: bot.ActDelete})
	}}
	d.store = st
	e := store.JournalEntry{Key: ev.Key(), Event: ev, At: at, Begun: at}
	d.held.add(&e)
	if err := mem.Begin(ctx, e); err != nil {
		t.Fatal(err)
	}

	if n := d.resume(ctx); n != 0 {
		t.Fatalf("resume took %d entries, want none: this process holds its own", n)
	}
	if !st.done {
		t.Fatal("the entry was not renewed")
	}
	d.held.remove(e.Key) // as a crash leaves it: nobody holds it
	got, err := mem.Unfinished(ctx, time.Now().Add(time.Minute), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Case != "case-1" || len(got[0].Done) != 1 || got[0].Done[0].Kind != bot.ActDelete {
		var entries []string
		for _, e := range got {
			entries = append(entries, fmt.Sprintf("case %q, done %v", e.Case, e.Done))
		}
		t.Errorf("journal after the renewal = %q, want case-1, the delete done", entries)
	}
}
