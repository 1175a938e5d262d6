package telegram

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A timed ban given over a longer one (a ban for good, by vigie or by hand
// in Telegram's app, or one ending later) would replace it: Telegram's
// banChatMember sets the new until_date. It is not given, and the
// moderator is told why; a longer ban replaces a shorter one. vigie's ban
// of more than 366 days, which Telegram keeps for good and vigie lifts at
// its end, is not shortened either: its end kept stays.
func TestShorterBanLeavesALongerOne(t *testing.T) {
	forGood := "Nothing done: Bob Martin is banned already for good: a shorter ban is not given over it."
	until := "Nothing done: Bob Martin is banned already until "
	for _, tc := range []struct {
		name   string
		first  string // vigie's first command, "" for a ban for good by hand
		second string
		want   string // the second's answer, or its start
		bans   int    // banChatMember calls in all
		longer bool   // the second ban replaced the first
	}{
		{"for good, then 1d", "/ban", "/ban 1d", forGood, 1, false},
		{"for good by hand, then 1d", "", "/ban 1d", forGood, 0, false},
		{"7d, then 1d", "/ban 7d", "/ban 1d", until, 1, false},
		{"400d, which vigie lifts, then 30d", "/ban 400d", "/ban 30d", until, 1, false},
		{"1d, then 7d", "/ban 1d", "/ban 7d", "Banned Bob Martin for 7d", 2, true},
	} {
		for _, kind := range redistest.StoreKinds {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				st := redistest.OpenStore(t, kind)
				w := newModWorldOn(t, st)
				spam := w.say(bob, "buy cheap followers")
				if tc.first == "" {
					w.f.setMember(group.id, bob.id, "kicked")
				} else if got := w.command(alice, tc.first, spam); !strings.HasPrefix(got, "Banned Bob Martin") {
					t.Fatalf("%s: answer = %q", tc.first, got)
				}
				before := w.f.Member(group.id, bob.id)
				kept, _, err := st.(store.BanKeeper).KeptBan(context.Background(), store.BanKey(bot.Event{Platform: Platform,
					Space: fmt.Sprint(group.id), Author: bot.Author{ID: fmt.Sprint(bob.id)}}))
				if err != nil {
					t.Fatal(err)
				}
				got := w.command(alice, tc.second, spam)
				if !strings.HasPrefix(got, tc.want) {
					t.Errorf("%s: answer = %q, want %q…", tc.second, got, tc.want)
				}
				if n := w.f.count("banChatMember", nil); n != tc.bans {
					t.Errorf("%d banChatMember calls, want %d", n, tc.bans)
				}
				after := w.f.Member(group.id, bob.id)
				if after["status"] != "kicked" {
					t.Fatalf("after %s: %v", tc.second, after)
				}
				if changed := fmt.Sprint(after["until_date"]) != fmt.Sprint(before["until_date"]); changed != tc.longer {
					t.Errorf("until_date %v, then %v: changed %v, want %v", before["until_date"], after["until_date"], changed, tc.longer)
				}
				now, ok, err := st.(store.BanKeeper).KeptBan(context.Background(), kept.Key())
				if err != nil {
					t.Fatal(err)
				}
				if !tc.longer && kept.Key() != "||" && (!ok || !store.SameBan(now, kept)) {
					t.Errorf("the ban kept was %+v, now %+v (%v): want it left as it was", kept, now, ok)
				}
				if !tc.longer && ok && now.Due() && now.Until.Before(time.Now().Add(300*24*time.Hour)) {
					t.Errorf("vigie lifts the ban at %s", now.Until)
				}
			})
		}
	}
}

// A member banned for 30 days by vigie, then for good by hand in
// Telegram's app (the ban book still keeps the 30 days' end, which Telegram
// itself was to end): Telegram says the ban has no end now, and a /ban 60d
// would shorten it to 60 days. It is not given.
func TestShorterBanLeavesABanForGoodByHandOverATimedOne(t *testing.T) {
	for _, kind := range redistest.StoreKinds {
		t.Run(kind, func(t *testing.T) {
			w := newModWorldOn(t, redistest.OpenStore(t, kind))
			spam := w.say(bob, "buy cheap followers")
			if got := w.command(alice, "/ban 30d", spam); !strings.HasPrefix(got, "Banned Bob Martin") {
				t.Fatalf("/ban 30d: answer = %q", got)
			}
			w.f.setMember(group.id, bob.id, "kicked") // for good, by hand
			got := w.command(alice, "/ban 60d", spam)
			if want := "Nothing done: Bob Martin is banned already for good"; !strings.HasPrefix(got, want) {
				t.Errorf("/ban 60d: answer = %q, want %q…", got, want)
			}
			if after := w.f.Member(group.id, bob.id); after["status"] != "kicked" || fmt.Sprint(after["until_date"]) != "0" {
				t.Errorf("after /ban 60d: %v, want banned for good", after)
			}
		})
	}
}

// A member banned by hand for more than 366 days (another bot, or an app
// that sends Telegram's until_date as asked): Telegram takes that ban for
// one forever. Should getChatMember give that until_date back rather than
// 0, vigie reads it as forever too: a /ban 500d, which vigie would give as
// Telegram's forever and lift at its end, would shorten it, and is not
// given. A ban by hand whose end is within 366 days is read with its end.
func TestBanByHandPast366DaysIsForGood(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hand  time.Duration // the ban by hand's end, from now
		ban   string
		want  string
		given bool
	}{
		{"400d by hand, then 500d", 400 * 24 * time.Hour, "/ban 500d", "Nothing done: Bob Martin is banned already for good", false},
		{"30d by hand, then 60d", 30 * 24 * time.Hour, "/ban 60d", "Banned Bob Martin for 60d", true},
		{"30d by hand, then 7d", 30 * 24 * time.Hour, "/ban 7d", "Nothing done: Bob Martin is banned already until ", false},
	} {
		for _, kind := range redistest.StoreKinds {
			t.Run(tc.name+"/"+kind, func(t *testing.T) {
				st := redistest.OpenStore(t, kind)
				w := newModWorldOn(t, st)
				spam := w.say(bob, "buy cheap followers")
				w.f.SetBanned(group.id, bob.id, time.Now().Add(tc.hand).Unix())
				got := w.command(alice, tc.ban, spam)
				if !strings.HasPrefix(got, tc.want) {
					t.Errorf("%s: answer = %q, want %q…", tc.ban, got, tc.want)
				}
				if n := w.f.count("banChatMember", nil); (n == 1) != tc.given {
					t.Errorf("%d banChatMember calls, want given %v", n, tc.given)
				}
				_, kept, err := st.(store.BanKeeper).KeptBan(context.Background(), store.BanKey(bot.Event{Platform: Platform,
					Space: fmt.Sprint(group.id), Author: bot.Author{ID: fmt.Sprint(bob.id)}}))
				if err != nil {
					t.Fatal(err)
				}
				if kept && !tc.given {
					t.Errorf("a ban kept in the book, for vigie to lift, over a ban by hand it did not replace")
				}
			})
		}
	}
}
