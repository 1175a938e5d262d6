package daemon

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	vigie "github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// listingPage is a page whose blocks are a list it shows page by page, as
// a Facebook Page's: blocked holds who is blocked now.
type listingPage struct {
	mu      sync.Mutex
	blocked []string
	reads   int
}

var _ bot.BanLister = (*listingPage)(nil)

func (p *listingPage) Name() string { return "page" }
func (p *listingPage) Ban(_ context.Context, ev bot.Event, _ time.Duration) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = append(p.blocked, ev.Author.ID)
	return nil
}
func (p *listingPage) Unban(_ context.Context, ev bot.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.blocked = slices.DeleteFunc(p.blocked, func(id string) bool { return id == ev.Author.ID })
	return nil
}
func (p *listingPage) BanOf(_ context.Context, ev bot.Event) (bot.BanStatus, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return bot.BanStatus{Known: true, Banned: slices.Contains(p.blocked, ev.Author.ID)}, nil
}
func (p *listingPage) Listed(bot.Event) bool  { return true }
func (p *listingPage) UnbannedByHand() string { return "unblocked by hand" }
func (p *listingPage) BannedPage(context.Context, string, string) ([]string, string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.reads++
	return slices.Clone(p.blocked), "", nil
}

// TestBanBookCheckedEvery15Minutes: the daemon checks the ban book against
// a platform's list of bans every 15 minutes on its clock, under the
// ban-book lease, and forgets the ban a moderator lifted by hand.
func TestBanBookCheckedEvery15Minutes(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clk := newFakeClock()
	waits := &heldWaits{}
	page := &listingPage{}
	d, err := build(ctx, Config{
		ConfigPath: filepath.Join("..", "..", vigie.ExampleFile),
		Logger:     slog.New(slog.DiscardHandler),
		Getenv:     WithTokenDir(t, nil),
		Now:        clk.now,
		AfterFunc:  waits.AfterFunc,
		Leases:     LeaseOptions{Now: clk.now, AfterFunc: waits.AfterFunc},
		Connectors: []Connector{{Name: "page", Platforms: []bot.Platform{page}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	member := bot.Event{ID: "c-1", Platform: "page", Space: "p-1", Author: bot.Author{ID: "u-1"}}
	if _, err := d.mod.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: member, By: "page:cm"}); err != nil {
		t.Fatal(err)
	}
	bk := d.store.(store.BanKeeper)
	if _, ok, _ := bk.KeptBan(ctx, store.BanKey(member)); !ok {
		t.Fatal("the ban is not in the book")
	}
	_ = page.Unban(ctx, member) // by hand
	clk.advance(time.Minute)
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	d.runAfterHours(ctx, &wg)
	// alone on a memory store, the leases are taken at once
	testsync.Eventually(t, "the check's timer set", func() bool { return waits.armed(banBookCheck) })
	clk.advance(banBookCheck)
	waits.fire(banBookCheck)
	testsync.Eventually(t, "the ban lifted by hand forgotten", func() bool {
		_, ok, _ := bk.KeptBan(ctx, store.BanKey(member))
		return !ok
	})
	if !d.leases.owns("ban-book") {
		t.Error("the check ran without the ban-book lease")
	}
}
