package bot_test

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TestTurnClockSteppedBack: a line spaced a minute apart has its turn
// at first, not again within the minute, and again once the minute is
// past; after the clock was stepped back an hour, at once, and then a
// minute apart from there.
func TestTurnClockSteppedBack(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	var turn bot.Turn
	for _, step := range []struct {
		name string
		now  time.Time
		want bool
	}{
		{"first", at, true},
		{"30s later", at.Add(30 * time.Second), false},
		{"a minute later", at.Add(time.Minute), true},
		{"stepped back an hour", at.Add(-time.Hour), true},
		{"30s after the step", at.Add(-time.Hour + 30*time.Second), false},
		{"a minute after the step", at.Add(-time.Hour + time.Minute), true},
	} {
		if got := turn.Take(step.now, time.Minute); got != step.want {
			t.Errorf("%s: Take = %v, want %v", step.name, got, step.want)
		}
	}
}

// TestTurnsByKey: each key has its own turn.
func TestTurnsByKey(t *testing.T) {
	var ts bot.Turns
	now := time.Unix(1_800_000_000, 0)
	for _, step := range []struct {
		key   string
		after time.Duration
		want  bool
	}{
		{"guild-1 50013", 0, true},
		{"guild-1 50013", time.Minute, false},
		{"guild-2 50013", time.Minute, true},
		{"guild-1 50001", time.Minute, true},
		{"guild-1 50013", 10 * time.Minute, true},
	} {
		if got := ts.Take(step.key, now.Add(step.after), 10*time.Minute); got != step.want {
			t.Errorf("%s %s on: turn %v, want %v", step.key, step.after, got, step.want)
		}
	}
}
