package handlers_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A ban for good stays in the ban book store.ForGoodKept, for a rule's
// timed ban carried out late to see it, and is dropped by the check after:
// the book does not grow for ever. The ban itself stays on the platform.
func TestBanForGoodDroppedFromTheBook(t *testing.T) {
	for name, st := range redistest.Stores(t) {
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

// An unban the platform reports forgets the ban kept, unless it may be no
// moderator's: a timed ban whose end came (the lift's), a ban given since
// the unban, and a ban given over one whose end came while its lift may be
// under way (that lift's unban: it gives the new ban again).
func TestUnbannedKeepsWhatMayBeVigiesOwnUnban(t *testing.T) {
	for _, tt := range []struct {
		name string
		// first is a ban given before the ban kept (0: none; its end has
		// come when the kept one, for good, is given), unban when the
		// platform says the unban was, from the kept ban's
		first, unban, after time.Duration
		kept                bool
	}{
		{"unbanned an hour after", 0, time.Hour, time.Hour, false},
		{"a timed ban whose end came", 0, 0, 25 * time.Hour, true},
		{"a ban given since the unban", 0, -time.Second, time.Hour, true},
		{"a ban given over a due one, unbanned while it is lifted", time.Hour, time.Minute, time.Minute, true},
		{"a ban given over a due one, unbanned an hour after", time.Hour, time.Hour, time.Hour, false},
	} {
		for name, st := range redistest.Stores(t) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				ctx := context.Background()
				clk := &clock{t: at}
				p := &chat{recorder: recorder{name: "discord"}}
				m := discordModerator(t, p, st, clk)
				d := 24 * time.Hour
				if tt.first > 0 {
					if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: tt.first, By: "discord:42"}); err != nil {
						t.Fatal(err)
					}
					clk.Add(tt.first)
					d = 0
				}
				if _, err := m.Moderate(ctx, bot.ModRequest{Command: bot.ModBan, Target: event("discord"), Duration: d, By: "discord:42"}); err != nil {
					t.Fatal(err)
				}
				banned := clk.Now()
				clk.Add(tt.after)
				m.Unbanned(ctx, event("discord"), banned.Add(tt.unban), "")
				_, ok, err := st.(store.BanKeeper).KeptBan(ctx, store.BanKey(event("discord")))
				if err != nil || ok != tt.kept {
					t.Errorf("ban kept after the unban seen: %v, %v; want %v", ok, err, tt.kept)
				}
			})
		}
	}
}

// Two bans for good of the same member at once, the first refused by the
// platform: the second waits for the first, whose undoing puts back the
// timed ban before it, and is given then; given meanwhile, by a process
// that takes no member's lock (an earlier version's), undoing the refused
// one forgets it alone, not the other ban for good (which has the same
// end). Either way the timed ban's end does not lift the ban for good.
func TestBanForGoodRefusedKeepsAnotherBanForGood(t *testing.T) {
	for _, locked := range []bool{true, false} {
		for name, st := range redistest.Stores(t) {
			t.Run(fmt.Sprintf("%s/locked=%v", name, locked), func(t *testing.T) {
				ctx := context.Background()
				m, p, clk := banRefusedWhileAnother(t, st, locked, 0, 0, "discord:43", "the first ban for good")
				kept, ok, err := st.(store.BanKeeper).KeptBan(ctx, store.BanKey(event("discord")))
				if err != nil || !ok || !kept.ForGood() || kept.By != "discord:43" {
					t.Errorf("ban kept = %+v, %v, %v; want discord:43's ban for good", kept, ok, err)
				}
				clk.Add(25 * time.Hour)
				if n, err := m.LiftBans(ctx); n != 0 || err != nil {
					t.Errorf("LiftBans past the timed ban's end = %d, %v; want none lifted", n, err)
				}
				if got := p.Calls(); slices.Contains(got, "unban") {
					t.Errorf("platform calls = %q; want no unban of a member banned for good", got)
				}
			})
		}
	}
}
