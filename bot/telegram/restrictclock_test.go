package telegram

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestRestrictionEndsOnTheClientsClock: the end dates of the mutes and bans
// vigie sets are counted from its clock (Config.Now, the daemon's), and
// Telegram (the fake, on the same clock) takes them as that far away: a
// 10-minute mute ends 10 minutes after vigie's now, a 2-hour ban 2 hours
// after, and a muted member kicked comes back muted to the same end, or
// to Telegram's shortest restriction when theirs ends sooner; one whose
// mute ended is not muted again.
func TestRestrictionEndsOnTheClientsClock(t *testing.T) {
	ctx := context.Background()
	start := time.Unix(1_700_000_000, 0)
	ends := func(t *testing.T, f *fakeBotAPI, status string, at time.Time) {
		t.Helper()
		m := f.Member(group.id, 7)
		if m["status"] != status || fmt.Sprint(m["until_date"]) != fmt.Sprint(at.Unix()) {
			t.Errorf("getChatMember says %s until %v, want %s until %d", m["status"], m["until_date"], status, at.Unix())
		}
	}
	newClient := func(t *testing.T) (*fakeBotAPI, *Client, *stepclock.Clock) {
		f := newFakeBotAPI(t)
		clock := stepclock.New(start)
		f.SetClock(clock.Now)
		c, _ := newTestClient(t, f, Config{Chats: fixtureChats, Now: clock.Now})
		return f, c, clock
	}

	t.Run("a mute kept through a kick", func(t *testing.T) {
		f, c, clock := newClient(t)
		ev := groupEvent(10, "7")
		if err := c.Timeout(ctx, ev, 10*time.Minute); err != nil {
			t.Fatal(err)
		}
		ends(t, f, "restricted", start.Add(10*time.Minute))
		clock.Step(9 * time.Minute)
		if err := c.Kick(ctx, ev); err != nil {
			t.Fatal(err)
		}
		ends(t, f, "restricted", start.Add(10*time.Minute))
		clock.Step(50 * time.Second)
		if err := c.Kick(ctx, ev); err != nil {
			t.Fatal(err)
		}
		ends(t, f, "restricted", clock.Now().Add(minRestriction))
		clock.Step(time.Hour)
		if err := c.Kick(ctx, ev); err != nil {
			t.Fatal(err)
		}
		if m := f.Member(group.id, 7); m["status"] != "left" {
			t.Errorf("a member whose mute ended, kicked: %v, want left and not muted again", m)
		}
	})
	t.Run("a ban for 2h", func(t *testing.T) {
		f, c, _ := newClient(t)
		ev := groupEvent(10, "7")
		if err := c.Ban(ctx, ev, 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		ends(t, f, "kicked", start.Add(2*time.Hour))
		st, err := c.BanOf(ctx, ev)
		if err != nil || !st.Banned || !st.Until.Equal(start.Add(2*time.Hour)) {
			t.Errorf("BanOf = %+v, %v; want banned until %v", st, err, start.Add(2*time.Hour).UTC())
		}
	})
}
