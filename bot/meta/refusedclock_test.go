package meta_test

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestTokenRefusedSinceOnTheConnectorsClock: the connector's link says since
// when Meta refuses the page token on the connector's clock (Config.Now),
// which times the trouble's end too, not on the wall clock.
func TestTokenRefusedSinceOnTheConnectorsClock(t *testing.T) {
	g := newFakeGraph(t)
	clk := stepclock.New(fixedNow)
	c, _, _ := runOnClock(t, g, clk, 20*time.Millisecond)

	clk.Step(time.Hour)
	g.expire(true)
	var l bot.Link
	testsync.Eventually(t, "the token found refused", func() bool { l = c.Link(); return !l.Up && l.Problem != "" })
	if want := fixedNow.Add(time.Hour); !l.Since.Equal(want) {
		t.Errorf("refused since %v, want %v (the connector's clock)", l.Since, want)
	}
}
