package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Without Manage Nicknames, taking a name off fails at once, saying what to
// give, without a call Discord would refuse (whose refusal would hold every
// member's PATCH, timeouts included); the member's timeout still goes
// through. The name vigie gives is not judged again.
func TestRemoveNameWithoutManageNicknames(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms&^(1<<27))
	ctx := context.Background()
	ev := bot.Event{ID: "profile-x", Platform: Platform, Kind: bot.KindProfile, Space: guildID, Author: bot.Author{ID: bob.id, Name: "Bob"}}
	err := c.RemoveName(ctx, ev)
	if err == nil || bot.Retryable(err) || !strings.Contains(err.Error(), "vigie lacks Manage Nicknames in the server Gamers") {
		t.Errorf("RemoveName without Manage Nicknames = %v, want a refusal naming the permission", err)
	}
	if n := f.Count("PATCH", "/guilds/"+guildID+"/members/"); n != 0 {
		t.Errorf("%d calls to Discord, want none", n)
	}
	if err := c.Timeout(ctx, ev, time.Hour); err != nil {
		t.Errorf("the timeout after it = %v", err)
	}

	f.Dispatch("GUILD_MEMBER_UPDATE", memberObject(bob, NeutralNick, t0))
	f.Dispatch("MESSAGE_CREATE", message("1001", general, bob, t0, "sentinel"))
	if ev := testsync.Next(t, out); ev.Text != "sentinel" {
		t.Errorf("the name vigie gave was judged: %s", show(ev))
	}
}
