package handlers_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// silentList is a platform whose list of bans names no one, and which
// cannot say of a member whether they are banned: every ban of the book is
// read alone, and none is forgotten.
type silentList struct {
	mu    sync.Mutex
	asked map[string]bool
}

func (p *silentList) Name() string                                        { return "page" }
func (p *silentList) Ban(context.Context, bot.Event, time.Duration) error { return nil }
func (p *silentList) Unban(context.Context, bot.Event) error              { return nil }
func (p *silentList) Listed(bot.Event) bool                               { return true }
func (p *silentList) UnbannedByHand() string                              { return "unblocked by hand" }
func (p *silentList) BannedPage(context.Context, string, string) ([]string, string, error) {
	return []string{}, "", nil
}
func (p *silentList) BanOf(_ context.Context, ev bot.Event) (bot.BanStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.asked[ev.Author.ID] = true
	return bot.BanStatus{}, nil
}

// TestBanBookChecksTakeTurns: more bans left out of the list than one check
// reads alone (50) are read in turns, so that every one is read within a
// few checks, not the same 50 at every check; none the platform cannot
// tell of is forgotten.
func TestBanBookChecksTakeTurns(t *testing.T) {
	ctx := context.Background()
	clk := &clock{t: at}
	st := memory.New()
	defer st.Close()
	p := &silentList{asked: map[string]bool{}}
	m, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"page": p}, Store: st, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 120 {
		ev := bot.Event{Platform: "page", Space: "p1", Author: bot.Author{ID: fmt.Sprint(6000 + i)}}
		if _, _, err := st.PutBan(ctx, store.TimedBan{Event: ev, Rule: "scam", Started: at, Until: store.ForGoodUntil}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		clk.Add(15 * time.Minute)
		if n, err := m.CheckBanBook(ctx); n != 0 || err != nil {
			t.Fatalf("CheckBanBook = %d, %v, want 0, nil", n, err)
		}
	}
	if len(p.asked) != 120 {
		t.Errorf("%d of 120 members read alone in three checks", len(p.asked))
	}
	if bans, _, _ := st.BansOn(ctx, "page", "", 0); len(bans) != 120 {
		t.Errorf("%d bans kept, want 120: none the platform cannot tell of is forgotten", len(bans))
	}
}
