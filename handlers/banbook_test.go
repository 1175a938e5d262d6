package handlers_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// A ban for good stays in the ban book store.ForGoodKept, for a rule's
// timed ban carried out late to see it, and is dropped by the check after:
// the book does not grow for ever. The ban itself stays on the platform.
func TestBanForGoodDroppedFromTheBook(t *testing.T) {
	for name, st := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: at}
			p := &chat{recorder: recorder{name: "discord"}}
			m := discordModerator(t, p, st, clk)
			if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), By: "discord:42"}); err != nil {
				t.Fatal(err)
			}
			key := store.BanKey(event("discord"))
			bk := st.(store.BanKeeper)
			clk.Add(store.ForGoodKept - time.Minute)
			if _, err := m.LiftBans(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := bk.KeptBan(ctx, key); !ok || err != nil {
				t.Fatalf("a ban for good kept %s less a minute: in the book %v, %v; want kept", store.ForGoodKept, ok, err)
			}
			clk.Add(time.Minute)
			if _, err := m.LiftBans(ctx); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := bk.KeptBan(ctx, key); ok || err != nil {
				t.Errorf("a ban for good kept %s: in the book %v, %v; want dropped", store.ForGoodKept, ok, err)
			}
			if got := p.Calls(); !slices.Equal(got, []string{"ban"}) {
				t.Errorf("platform calls = %q, want the ban only", got)
			}
		})
	}
}
