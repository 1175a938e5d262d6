package handlers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

func TestShiftModeInAuditAndCommands(t *testing.T) {
	st := memory.New()
	defer st.Close()
	now := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	night := func(t time.Time) bool { return t.Hour() >= 19 || t.Hour() < 9 }
	shift := handlers.NewShift(night, clock)
	m, err := handlers.New(handlers.Options{Store: st, Now: clock, Shift: shift})
	if err != nil {
		t.Fatal(err)
	}
	c := handlers.NewCommands(m, handlers.CommandsOptions{})
	ctx := context.Background()
	n := 0
	handle := func() {
		n++
		ev := bot.Event{ID: string(rune('a' + n)), Platform: "discord", Text: "x", At: now}
		v := bot.Verdict{EventID: ev.ID, Matches: []bot.Match{{Rule: "r", Actions: []bot.Action{{Kind: bot.ActTag, Text: "t"}}}}}
		if err := m.Handle(ctx, ev, v); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		name    string
		command string // /mode arguments, "-" for none
		at      time.Time
		reply   string
		mode    string
	}{
		{"night by the schedule", "-", now, "Mode: after hours (office_hours).", "after"},
		{"a CM comes in at night", "office 1h", now, "Mode: office hours (set by telegram:1 until Fri 23:00 UTC) for 1h: rules with office: forward only forward to the desk.", "office"},
		{"the hour is over", "-", now.Add(time.Hour), "Mode: after hours (office_hours).", "after"},
		{"forced after hours in the day", "after", now.Add(12 * time.Hour), "Mode: after hours (set by telegram:1 until /mode auto): every rule acts, hours: after rules included.", "after"},
		{"back to the schedule", "auto", now.Add(12 * time.Hour), "Mode: office hours (office_hours).", "office"},
	}
	for _, s := range steps {
		now = s.at
		args := s.command
		if args == "-" {
			args = ""
		}
		got, err := c.Mode(ctx, args, "telegram:1")
		if err != nil || got != s.reply {
			t.Errorf("%s: /mode %s = %q, %v; want %q", s.name, args, got, err, s.reply)
		}
		handle()
		entries, _ := st.Audit(ctx, now)
		if len(entries) == 0 || entries[len(entries)-1].Mode != s.mode {
			t.Errorf("%s: audit mode %+v, want %s", s.name, entries, s.mode)
		}
	}
	if _, err := c.Mode(ctx, "lunch", "telegram:1"); err == nil {
		t.Error("/mode lunch accepted")
	}
	m.Pause(time.Time{})
	handle()
	entries, _ := st.Audit(ctx, now)
	if entries[len(entries)-1].Mode != "paused" {
		t.Errorf("paused entry: %+v", entries[len(entries)-1])
	}
	status, err := c.Status(ctx, "telegram:42")
	if err != nil || !strings.Contains(status, "Mode: office hours (office_hours).") {
		t.Errorf("status %q %v", status, err)
	}
}
