package discord

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A moderator who picked vigie itself as the member (the list Discord
// offers has it) is told, and vigie neither warns, mutes, kicks nor bans
// itself.
func TestModCommandOnVigieItself(t *testing.T) {
	w := newModWorld(t)
	vigie := user{id: botID, name: "vigie", bot: true}
	for i, name := range []string{"warn", "ban", "mute", "kick", "purge"} {
		id := strconv.Itoa(9300 + i)
		w.f.Dispatch("INTERACTION_CREATE", modSlash(id, cm, 0, name, &vigie, opt("count", 4, 5)))
		if got := w.answer(t, id); got != "Nothing done: that is vigie itself. Name the member." {
			t.Errorf("/%s answer = %q", name, got)
		}
	}
	testsync.Eventually(t, "the commands taken", func() bool { return w.c.work.Busy() == 0 })
	for _, call := range [][2]string{{"PUT", "/guilds/" + guildID + "/bans/"}, {"PATCH", "/guilds/" + guildID + "/members/"},
		{"DELETE", "/guilds/" + guildID + "/members/"}, {"POST", "/channels/"}, {"GET", "/channels/"}} {
		if n := w.f.Count(call[0], call[1]); n != 0 {
			t.Errorf("%d %s %s…", n, call[0], call[1])
		}
	}
	if strings.Contains(w.logs.String(), "moderator's command not carried out") {
		t.Errorf("a command tried: %s", w.logs)
	}
}
