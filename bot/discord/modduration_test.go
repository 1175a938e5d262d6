package discord

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store/memory"
)

// A duration a moderator gives /ban or /mute is read as Telegram's commands
// and the rule file read theirs (bot.ParseDuration): weeks, fractions and
// capitals too, the forms docs/platforms.md gives. A duration vigie cannot
// give is refused, nothing done.
func TestModDurationReadAsEverywhere(t *testing.T) {
	f := newFakeDiscord(t)
	clk := &banClock{t: time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)}
	st := memory.New()
	t.Cleanup(func() { st.Close() })
	w := newBanWorld(t, f, st, clk)
	for i, tt := range []struct{ duration, want string }{
		// each longer than, or as long as, the one before: a shorter one
		// is not given over it
		{"1.5d", "Banned Mallory for 36h, until 6 Dec 15:00 UTC"},
		{"1d12h", "Banned Mallory for 36h, until 6 Dec 15:00 UTC"},
		{"1w", "Banned Mallory for 7d, until 12 Dec 03:00 UTC"},
		{"1w2d", "Banned Mallory for 9d, until 14 Dec 03:00 UTC"},
		{"2W", "Banned Mallory for 14d, until 19 Dec 03:00 UTC"},
		{"-5m", `Nothing done: invalid duration "-5m": must be positive. Write the duration like 10m, 2h, 7d or 1w.`},
		{"0s", `Nothing done: invalid duration "0s": must be positive. Write the duration like 10m, 2h, 7d or 1w.`},
		{"soon", `Nothing done: invalid duration "soon" (want a number and a unit: 30s, 10m, 2h, 7d, 1w). Write the duration like 10m, 2h, 7d or 1w.`},
	} {
		got := w.ban(t, strconv.Itoa(9400+i), mallory, tt.duration)
		if !strings.HasPrefix(got, tt.want) {
			t.Errorf("/ban duration:%s = %q, want %q…", tt.duration, got, tt.want)
		}
	}
	if n := f.Count("PUT", "/guilds/"+guildID+"/bans/"+mallory.id); n != 5 {
		t.Errorf("%d bans, want 5: a refused duration banned", n)
	}
}
