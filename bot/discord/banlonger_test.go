package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// Discord bans have no end: vigie lifts a timed one at the end its store
// keeps. A timed ban given over a ban for good (vigie's, kept in the book;
// one the book no longer keeps, 30 days on; one given by hand in Discord's
// app) or over a longer timed one would schedule a lift, or an earlier one:
// it is not given, and the moderator is told why. A longer one replaces a
// shorter one.
func TestShorterBanLeavesALongerOne(t *testing.T) {
	forGood := "Nothing done: Bob is banned already for good: a shorter ban is not given over it."
	for _, tc := range []struct {
		name  string
		first func(w *banWorld) // bans Bob
		want  string            // the answer to /ban 1d, or its start
		lift  time.Duration     // when the ban is lifted from then; 0: never
	}{
		{"for good by vigie", func(w *banWorld) { w.ban(t, "9301", bob, "") }, forGood, 0},
		{"for good by vigie, 31 days ago", func(w *banWorld) {
			w.ban(t, "9301", bob, "")
			w.clk.Add(31 * 24 * time.Hour)
			w.lift(t, 0) // the book drops it
		}, forGood, 0},
		{"for good by hand", func(w *banWorld) { w.f.Ban(guildID, bob.id) }, forGood, 0},
		{"for 7d", func(w *banWorld) { w.ban(t, "9301", bob, "7d") }, "Nothing done: Bob is banned already until 12 Dec 03:00 UTC", 7 * 24 * time.Hour},
		{"for an hour", func(w *banWorld) { w.ban(t, "9301", bob, "1h") }, "Banned Bob for 1d", 24 * time.Hour},
	} {
		for _, kind := range redistest.StoreKinds {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				f := newFakeDiscord(t)
				clk := &banClock{t: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)}
				w := newBanWorld(t, f, redistest.OpenStore(t, kind), clk)
				tc.first(w)
				start := w.clk.Now()
				if !f.Banned(guildID, bob.id) {
					t.Fatal("Bob not banned")
				}
				puts := f.Count("PUT", "/guilds/"+guildID+"/bans/"+bob.id)
				if got := w.ban(t, "9302", bob, "1d"); !strings.HasPrefix(got, tc.want) {
					t.Errorf("/ban 1d: answer = %q, want %q…", got, tc.want)
				}
				if n := f.Count("PUT", "/guilds/"+guildID+"/bans/"+bob.id) - puts; tc.lift != 24*time.Hour && n != 0 {
					t.Errorf("%d bans given over the longer one", n)
				}
				// Lifted at the longer ban's end, not before; never, for good.
				for _, d := range []time.Duration{time.Hour, 23 * time.Hour, 6 * 24 * time.Hour, 60 * 24 * time.Hour} {
					w.clk.Add(d)
					want := 0
					if tc.lift != 0 && !w.clk.Now().Before(start.Add(tc.lift)) && f.Banned(guildID, bob.id) {
						want = 1
					}
					if n, err := w.mod.LiftBans(context.Background()); n != want || err != nil {
						t.Fatalf("LiftBans %s after = %d, %v; want %d", w.clk.Now().Sub(start), n, err, want)
					}
				}
				if banned := f.Banned(guildID, bob.id); banned != (tc.lift == 0) {
					t.Errorf("banned 70 days on = %v", banned)
				}
			})
		}
	}
}

var _ bot.BanReader = (*Client)(nil)
