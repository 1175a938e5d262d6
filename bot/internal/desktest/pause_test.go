package desktest_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestPauseOnTheModeratorsClock: a pause asked at the desk is dated from the
// moderator's clock, as the moderator reads it, not from the wall clock: on a
// clock two hours ahead, a pause of 30 minutes holds and ends 30 minutes on.
func TestPauseOnTheModeratorsClock(t *testing.T) {
	now := time.Unix(0, 0).Add(1e6 * time.Hour)
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{}, Store: memory.New(),
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	cmds := &desktest.Commands{Mod: mod}
	if _, err := cmds.Pause(context.Background(), 30*time.Minute, "discord:1"); err != nil {
		t.Fatal(err)
	}
	if paused, until := mod.Paused(); !paused || !until.Equal(now.Add(30*time.Minute)) {
		t.Errorf("paused %v until %s, want until %s", paused, until, now.Add(30*time.Minute))
	}
}
