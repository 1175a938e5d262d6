package daemon_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestBrigadeCarriedOutNotCases: 500 scams in one channel while Discord
// holds the deletes there (a platform slower than the wave). Every scam
// waits in the channel's lane and is deleted once Discord answers; none is
// left to the desk. Before, the 243 past the lane's 256 were deferred to
// the desk as cases, left up until a CM pressed each.
func TestBrigadeCarriedOutNotCases(t *testing.T) {
	guild := fmt.Sprint(uint64(191_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	release := f.Hold(func(c discordfake.Call) bool {
		return c.Method == "DELETE" && strings.HasPrefix(c.Path, "/channels/"+channel+"/messages/")
	})
	in := startLimitedDiscord(t, f, guild, stepclock.New(time.Now().UTC().Truncate(time.Second)), nil)
	const brigade = 500
	ids := make([]string, brigade)
	for i := range brigade {
		ids[i] = fmt.Sprint(700000000000100000 + uint64(i))
		author := fmt.Sprint(600000000000100000 + uint64(i))
		testsync.Eventually(t, "the gateway taking scam "+ids[i], func() bool {
			return f.Message(guild, channel, ids[i], author, fmt.Sprintf("FREE NITRO brigade %d", i))
		})
	}
	testsync.Eventually(t, "every scam judged", func() bool {
		return metric(t, in, `vigie_events_total{kind="message",platform="discord"}`) == brigade
	})
	release()
	deleted := func() int {
		n := 0
		for _, id := range ids {
			if f.Count("DELETE", "/channels/"+channel+"/messages/"+id) > 0 {
				n++
			}
		}
		return n
	}
	deferred := func() int { return strings.Count(in.logs.String(), `msg="actions deferred to the desk"`) }
	testsync.Eventually(t, "each scam deleted or deferred to the desk", func() bool { return deleted()+deferred() >= brigade })
	if n := deferred(); n != 0 {
		t.Errorf("%d of %d scams deferred to the desk as cases, want none: each waits to be deleted", n, brigade)
	}
	if n := deleted(); n != brigade {
		t.Errorf("%d of %d scams deleted", n, brigade)
	}
}
