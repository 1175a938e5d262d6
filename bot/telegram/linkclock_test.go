package telegram

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestLinkTimesOnTheClientsClock: the link's times, which /-/ready ("down
// since") and vigie_last_event_timestamp_seconds show, are read on the
// client's clock (Config.Now, the daemon's): when it came up, when it last
// handed an event over, when it stopped.
func TestLinkTimesOnTheClientsClock(t *testing.T) {
	f := newFakeBotAPI(t)
	start := time.Unix(1_700_000_000, 0)
	clock := stepclock.New(start)
	c, _ := newTestClient(t, f, Config{Chats: []int64{group.id}, Now: clock.Now})
	out := make(chan bot.Event, 10)
	stop := run(t, c, out)
	testsync.Eventually(t, "the link up", func() bool { return c.Link().Up })
	if l := c.Link(); !l.Since.Equal(start) {
		t.Errorf("up since %v, want %v", l.Since, start)
	}

	clock.Step(3 * time.Hour)
	f.push(map[string]any{"message": message(group, 40, bob, clock.Now().Unix(), "salut")})
	testsync.Next(t, out)
	testsync.Eventually(t, "the event in the link", func() bool { return !c.Link().LastEvent.IsZero() })
	if l := c.Link(); !l.LastEvent.Equal(start.Add(3 * time.Hour)) {
		t.Errorf("last event at %v, want %v", l.LastEvent, start.Add(3*time.Hour))
	}

	clock.Step(time.Hour)
	stop()
	if l := c.Link(); l.Up || !l.Since.Equal(start.Add(4*time.Hour)) || l.Problem != "stopped" {
		t.Errorf("link once stopped: %+v, want down since %v: stopped", l, start.Add(4*time.Hour))
	}
}
