package telegram

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
)

// A duration a moderator wrote after /ban or /mute is a duration, never the
// start of the reason: one vigie cannot give (negative, a century and more)
// is refused with nothing done, rather than the member banned for good with
// "-5m" as the reason; one beyond what Telegram gives itself (400d), or
// written in weeks, is given as written.
func TestModDurationIsNeverAReason(t *testing.T) {
	for _, tc := range []struct {
		command string
		want    string        // the answer's start
		banned  time.Duration // the ban's end kept; -1: no ban, 0: for good
	}{
		{"/ban 400d raid", "Banned Bob Martin for 400d", 400 * 24 * time.Hour},
		{"/ban 1w raid", "Banned Bob Martin for 7d", 7 * 24 * time.Hour},
		{"/ban 2W", "Banned Bob Martin for 14d", 14 * 24 * time.Hour},
		{"/ban raid for good", "Banned Bob Martin.", 0},
		{"/ban 2nd warning", "Banned Bob Martin.", 0},
		{"/ban -5m", `Nothing done: invalid duration "-5m": must be positive.`, -1},
		{"/ban 99999999d scam", `Nothing done: invalid duration "99999999d": longer than a century.`, -1},
		{"/ban 0s", `Nothing done: invalid duration "0s": must be positive.`, -1},
		{"/mute -5m", `Nothing done: invalid duration "-5m": must be positive.`, -1},
		{"/mute 400d", "Nothing done: Telegram mutes for 366d at most", -1},
	} {
		t.Run(tc.command, func(t *testing.T) {
			w := newModWorld(t)
			spam := w.say(bob, "buy cheap followers")
			got := w.command(alice, tc.command, spam) // alice is a CM
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("answer = %q, want it to start with %q", got, tc.want)
			}
			key := store.BanKey(bot.Event{Platform: Platform, Space: itoa(group.id), Author: bot.Author{ID: itoa(bob.id)}})
			b, kept, err := w.st.KeptBan(t.Context(), key)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.banned < 0:
				testsync.Eventually(t, "the command taken", func() bool { return w.c.work.Busy() == 0 })
				if n := w.f.count("banChatMember", nil) + w.f.count("restrictChatMember", nil); n != 0 || kept {
					t.Errorf("%d bans or mutes, ban kept %v: want nothing done", n, kept)
				}
			case tc.banned == 0:
				if !kept || !b.ForGood() {
					t.Errorf("ban kept = %+v, %v: want one for good", b, kept)
				}
			default:
				if d := b.Until.Sub(b.Started); !kept || b.ForGood() || d < tc.banned-time.Minute || d > tc.banned+time.Minute {
					t.Errorf("ban kept = %+v, %v: want one of %s", b, kept, tc.banned)
				}
				w.f.waitFor("banChatMember", 1, userIs(bob.id))
			}
			if tc.banned >= 0 {
				audit, _ := w.st.Audit(t.Context(), time.Time{})
				if len(audit) != 1 || strings.Contains(audit[0].Verdict.Matches[0].Reason, strconv.Quote(strings.Fields(tc.command)[1])) {
					t.Errorf("audit = %+v", audit)
				}
			}
		})
	}
}
