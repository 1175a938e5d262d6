package handlers_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// A reminder the desk did not take (an outage) is kept in Redis, claimed: a
// process started after the one that claimed it stopped posts it at its
// first check, once. Kept in the stopped process's memory, it was lost: the
// new process's claim found it taken, and the case waited for its next
// reminder, an interval later.
func TestReminderNotDeliveredSurvivesARestart(t *testing.T) {
	url := redistest.URL(t)
	prefix := redistest.Prefix("reminders")
	open := func() *redis.Fallback {
		return redistest.OpenFallback(t, url, redis.FallbackOptions{}, redis.WithPrefix(prefix))
	}
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	now := t0
	clock := func() time.Time { return now }
	ctx := context.Background()
	process := func(desk *deskRecorder) (*handlers.Moderator, *handlers.Escalation) {
		m, err := handlers.New(handlers.Options{Store: open(), Desk: desk, Now: clock})
		if err != nil {
			t.Fatal(err)
		}
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Age: 2 * time.Hour, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return m, esc
	}

	first, firstEsc := process(&deskRecorder{err: errors.New("desk unreachable")})
	ev := bot.Event{ID: "m1", Platform: "discord", Space: "g", Channel: "c", Author: bot.Author{ID: "u1"}, Text: "x", At: now}
	v := bot.Verdict{EventID: ev.ID, Matches: []bot.Match{{Rule: "r", Actions: []bot.Action{{Kind: bot.ActForward, Text: "r"}}}}}
	if err := first.Handle(ctx, ev, v); err != nil {
		t.Fatal(err)
	}
	now = t0.Add(2*time.Hour + time.Minute)
	if n, err := firstEsc.Check(ctx); n != 0 || err == nil {
		t.Fatalf("first process, desk away: %d announced (err %v); want none, an error", n, err)
	}
	// The first process stops here; the second starts with the desk back.
	desk := &deskRecorder{}
	_, esc := process(desk)
	for _, step := range []struct {
		after time.Duration
		want  int
	}{
		{2*time.Hour + 2*time.Minute, 1}, // its first check: the reminder kept
		{2*time.Hour + 3*time.Minute, 0}, // delivered: not again
		{3*time.Hour + time.Minute, 1},   // the next one, as usual
	} {
		now = t0.Add(step.after)
		if n, err := esc.Check(ctx); n != step.want || err != nil {
			t.Errorf("second process at +%s: %d announced (err %v); want %d", step.after, n, err, step.want)
		}
	}
	desk.mu.Lock()
	defer desk.mu.Unlock()
	if len(desk.cases) != 2 || !strings.Contains(desk.cases[0], "⏰ waiting for 2h2m") {
		t.Errorf("posted %s; want the kept reminder at +2h2m, then the next", fmt.Sprintf("%q", desk.cases))
	}
}
