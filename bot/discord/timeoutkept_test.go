package discord

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A raider's burst matches several rules, one after another in its
// channel's lane: timeout(7d) for the scam, then timeout(10m) for the flood
// of a message sent before the first was carried out. Discord sets
// communication_disabled_until to whatever comes last, so the second would
// cut the week to ten minutes. A timeout that ends before the member's
// current one (vigie's own, or the one the gateway's state shows) is kept
// as it is, and counts as done; a longer one replaces it; once lifted
// (Untimeout, or by hand), a shorter one is given again.
func TestTimeoutNeverShortened(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	ctx := context.Background()
	path := "/guilds/" + guildID + "/members/" + bob.id
	msg := bot.Event{ID: "1001", Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}}
	timeout := func(d time.Duration) {
		t.Helper()
		if err := c.Timeout(ctx, msg, d); err != nil {
			t.Fatalf("Timeout(%s) = %v", d, err)
		}
	}
	patches := func() int { return f.Count("PATCH", path) }

	timeout(7 * 24 * time.Hour)
	timeout(10 * time.Minute)
	if n := patches(); n != 1 {
		t.Errorf("%d PATCHes after timeout(7d) then timeout(10m), want 1: the week kept", n)
	}
	timeout(14 * 24 * time.Hour)
	if n := patches(); n != 2 {
		t.Errorf("%d PATCHes after a longer timeout, want 2", n)
	}
	// A person's shorter timeout (a CM's milder decision, /mute 1h) is
	// done as asked.
	if err := c.Timeout(bot.WithByHand(ctx), msg, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := patches(); n != 3 {
		t.Errorf("%d PATCHes after a shorter timeout by hand, want 3", n)
	}
	timeout(7 * 24 * time.Hour) // longer than the hour: given
	patchesBefore := patches()
	if err := c.Untimeout(ctx, msg); err != nil {
		t.Fatal(err)
	}
	timeout(10 * time.Minute)
	if n := patches(); n != patchesBefore+2 {
		t.Errorf("%d PATCHes after the timeout was lifted and another given, want %d", n, patchesBefore+2)
	}

	// A moderator's timeout by hand, as the gateway tells it.
	until := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	m := memberObject(newbie, nil, t0)
	m["communication_disabled_until"] = until
	f.Dispatch("GUILD_MEMBER_UPDATE", m)
	testsync.Eventually(t, "the timeout in the state", func() bool {
		mem, ok := c.stateMember(guildID, newbie.id)
		return ok && mem.CommunicationDisabledUntil != nil
	})
	newbieMsg := msg
	newbieMsg.Author = bot.Author{ID: newbie.id, Name: "Newbie"}
	if err := c.Timeout(ctx, newbieMsg, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("PATCH", "/guilds/"+guildID+"/members/"+newbie.id); n != 0 {
		t.Errorf("%d PATCHes of a member timed out for a day by hand, after timeout(1h); want 0", n)
	}
	// Lifted by hand: the next timeout is given.
	m["communication_disabled_until"] = nil
	f.Dispatch("GUILD_MEMBER_UPDATE", m)
	testsync.Eventually(t, "the timeout lifted in the state", func() bool {
		mem, ok := c.stateMember(guildID, newbie.id)
		return ok && mem.CommunicationDisabledUntil == nil
	})
	if err := c.Timeout(ctx, newbieMsg, time.Hour); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("PATCH", "/guilds/"+guildID+"/members/"+newbie.id); n != 1 {
		t.Errorf("%d PATCHes after the timeout was lifted by hand, want 1", n)
	}
}
