package telegram

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// A rule's shorter mute never cuts a longer one short: Telegram sets a
// restriction's end to whatever the last call says, so a raider's
// timeout(10m) for a flood after the timeout(7d) for a scam left ten
// minutes. A person's shorter mute (a CM's milder decision, /mute)
// replaces it as asked, and a member restricted without being muted (no
// media, by hand) is muted.
func TestShorterMuteLeavesALongerOne(t *testing.T) {
	ctx := context.Background()
	until := func(f *fakeBotAPI) string { return fmt.Sprint(f.Member(group.id, 7)["until_date"]) }

	t.Run("a rule's 10m after a rule's 7d", func(t *testing.T) {
		f := newFakeBotAPI(t)
		c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
		ev := groupEvent(10, "7")
		if err := c.Timeout(ctx, ev, 7*24*time.Hour); err != nil {
			t.Fatal(err)
		}
		week := until(f)
		if err := c.Timeout(ctx, ev, 10*time.Minute); err != nil {
			t.Fatalf("the shorter mute = %v, want done (the longer kept)", err)
		}
		if got := until(f); got != week {
			t.Errorf("the mute ends at %s, want %s (the week's)", got, week)
		}
		if err := c.Timeout(bot.WithByHand(ctx), ev, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		if got := until(f); got == week {
			t.Errorf("a person's 10m mute left the week's end %s", got)
		}
	})
	t.Run("a rule's 1h after a mute for good by hand", func(t *testing.T) {
		f := newFakeBotAPI(t)
		c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
		f.setMember(group.id, 7, "restricted") // no right at all, until_date 0: for good
		if err := c.Timeout(ctx, groupEvent(10, "7"), time.Hour); err != nil {
			t.Fatal(err)
		}
		if got := until(f); got != "0" {
			t.Errorf("the mute for good now ends at %s", got)
		}
	})
	t.Run("a rule's 1h on a member without media", func(t *testing.T) {
		f := newFakeBotAPI(t)
		c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
		f.setMember(group.id, 7, "restricted", "can_send_messages")
		if err := c.Timeout(ctx, groupEvent(10, "7"), time.Hour); err != nil {
			t.Fatal(err)
		}
		m := f.Member(group.id, 7)
		if m["can_send_messages"] != false || fmt.Sprint(m["until_date"]) == "0" {
			t.Errorf("after the mute: %v, want no messages for an hour", m)
		}
	})
}

// A rule's mute or kick of a member banned already (by a rule of the same
// raid, or by hand) is done: the member is out and stays banned, and no
// case asks a CM about it. A person's is refused with the reason
// (TestMuteAndUnmuteLeaveABanAlone, TestKickLeavesABanAlone).
func TestRuleMuteOrKickOfABannedMemberIsDone(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		do   func(c *Client, ev bot.Event) error
	}{
		{"mute", func(c *Client, ev bot.Event) error { return c.Timeout(ctx, ev, 10*time.Minute) }},
		{"kick", func(c *Client, ev bot.Event) error { return c.Kick(ctx, ev) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeBotAPI(t)
			c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
			f.setMember(group.id, 7, "kicked")
			if err := tc.do(c, groupEvent(10, "7")); err != nil {
				t.Errorf("%s of a banned member = %v, want done", tc.name, err)
			}
			if m := f.Member(group.id, 7); m["status"] != "kicked" {
				t.Errorf("after the %s: %v, want still banned", tc.name, m)
			}
		})
	}
}
