package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestBusyMemberDoesNotStallThePlace: a member's lock is held on the shared
// Redis (another instance's ban of them, whose Discord call hangs). Their
// scam's timeout waits for it, apart: the place's lane goes on, and another
// member's scam in the same channel is deleted and timed out while the lock
// is still held. Once it is let go, the busy member is timed out, then
// their second scam, which waited behind the first, is deleted and they are
// timed out again. Before, the other member's scam waited in the lane
// behind the busy member's, up to four tries of 30 seconds each.
func TestBusyMemberDoesNotStallThePlace(t *testing.T) {
	srv := redistest.Start(t)
	guild := fmt.Sprint(uint64(191_000_000_000)<<22 | 1)
	channel := discordfake.Channel(guild)
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guild}, Announce: true})
	cl, err := discord.New(discord.Config{Token: discordfake.Token, APIURL: discordAPIURL, DeskChannel: deskChannel, Guilds: []string{guild},
		HTTPClient: f.Client(), Logger: testsync.Logger(&testsync.Buffer{})})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &desktest.Commands{}
	in := startOnly(t, discordFailingRules, map[string]string{"VIGIE_REDIS_URL": srv.URL()}, []daemon.Connector{{Name: "discord", Source: cl, Platforms: []bot.Platform{cl},
		Desk: desktest.Desk{Poster: cl.Desk(cmds)}}})
	testsync.Eventually(t, "ready", func() bool { return ready(t, in).code == http.StatusOK })

	const busy, other = "600000000000000007", "600000000000000008"
	other2 := redistest.Open(t, srv.URL())
	var ml store.MemberLocker = other2
	unlock, err := ml.LockMember(context.Background(), store.BanKey(bot.Event{Platform: "discord", Space: guild, Author: bot.Author{ID: busy}}), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	deleted := func(id string) bool {
		return len(f.Calls("DELETE", "/channels/"+channel+"/messages/"+id)) > 0
	}
	timedOut := func(member string) bool {
		return len(f.Calls("PATCH", "/guilds/"+guild+"/members/"+member)) > 0
	}
	testsync.Eventually(t, "the gateway taking the busy member's scam", func() bool {
		return f.Message(guild, channel, "700000000000000201", busy, "FREE NITRO here")
	})
	testsync.Eventually(t, "the gateway taking the busy member's second scam", func() bool {
		return f.Message(guild, channel, "700000000000000203", busy, "FREE NITRO again")
	})
	testsync.Eventually(t, "the gateway taking the other member's scam", func() bool {
		return f.Message(guild, channel, "700000000000000202", other, "FREE NITRO there")
	})
	testsync.Eventually(t, "the other member's scam deleted and timed out while the first's lock is held", func() bool {
		return deleted("700000000000000202") && timedOut(other)
	})
	if timedOut(busy) {
		t.Fatalf("the busy member timed out while another held their lock")
	}
	// Taken by the place's lane before the other member's, the busy
	// member's second verdict waits behind their first, in their lane.
	if deleted("700000000000000203") {
		t.Errorf("the busy member's second scam carried out before their first")
	}

	unlock()
	testsync.Eventually(t, "the busy member's scam deleted and timed out once their lock is let go", func() bool {
		return deleted("700000000000000201") && deleted("700000000000000203") &&
			len(f.Calls("PATCH", "/guilds/"+guild+"/members/"+busy)) == 2
	})
	if !strings.Contains(in.logs.String(), "the member is busy") {
		t.Errorf("the busy member's verdict taken apart, not logged")
	}
	if v := metric(t, in, `vigie_busy_member_verdicts_total{where="apart"}`); v != 2 {
		t.Errorf("verdicts carried out apart = %v, want the busy member's 2", v)
	}
}
