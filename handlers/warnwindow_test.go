package handlers_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestWarningNotGivenDoesNotCount: an author gets one warning in
// WarnEvery, counted from the warning they were given. One that was not
// given (their roles unknown, so it became a case; vigie paused, so it was
// held for the desk) does not count: their next message, once their roles
// are known or vigie resumed, is warned, not withheld as "warned 0s ago".
func TestWarningNotGivenDoesNotCount(t *testing.T) {
	for _, tc := range []struct {
		name   string
		before func(m interface{ Pause(time.Time) }, ev *bot.Event)
		after  func(m interface{ Resume() }, ev *bot.Event)
	}{
		{"roles unknown", func(_ interface{ Pause(time.Time) }, ev *bot.Event) { ev.Author.RolesUnknown = true },
			func(_ interface{ Resume() }, ev *bot.Event) { ev.Author.RolesUnknown = false }},
		{"paused", func(m interface{ Pause(time.Time) }, _ *bot.Event) { m.Pause(at.Add(time.Hour)) },
			func(m interface{ Resume() }, _ *bot.Event) { m.Resume() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			discord := &chat{recorder: recorder{name: "discord"}}
			st := memory.New(memory.WithCaseEpoch("tests"))
			m, _ := newModerator(t, st, nil, discord)
			v := verdict("discord", bot.Match{Rule: "caps", Category: "spam",
				Actions: []bot.Action{{Kind: bot.ActWarn, Text: "No shouting"}}})
			ev := event("discord")
			tc.before(m, &ev)
			if err := m.Handle(context.Background(), ev, v); err != nil {
				t.Fatal(err)
			}
			if calls := discord.Calls(); len(calls) != 0 {
				t.Fatalf("calls while the warning could not be given: %q", calls)
			}
			tc.after(m, &ev)
			ev.ID = "m-2"
			if err := m.Handle(context.Background(), ev, v); err != nil {
				t.Fatal(err)
			}
			if want := []string{`reply("No shouting")`}; !slices.Equal(discord.Calls(), want) {
				t.Errorf("calls = %q, want %q: a warning never given counted as the author's last", discord.Calls(), want)
			}
		})
	}
}

// TestWarningThatFailedDoesNotCount: a warning the platform refused was
// not given either (it went to the desk as a failed action): the author's
// next message is warned.
func TestWarningThatFailedDoesNotCount(t *testing.T) {
	discord := &chat{recorder: recorder{name: "discord", errs: map[string][]error{
		"reply": {&bot.ActionError{Op: bot.ActWarn, Err: errors.New("missing access")}}}}}
	st := memory.New(memory.WithCaseEpoch("tests"))
	m, _ := newModerator(t, st, nil, discord)
	v := verdict("discord", bot.Match{Rule: "caps", Category: "spam",
		Actions: []bot.Action{{Kind: bot.ActWarn, Text: "No shouting"}}})
	ev := event("discord")
	if err := m.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	ev.ID = "m-2"
	if err := m.Handle(context.Background(), ev, v); err != nil {
		t.Fatal(err)
	}
	if want := []string{`reply("No shouting") -> error`, `reply("No shouting")`}; !slices.Equal(discord.Calls(), want) {
		t.Errorf("calls = %q, want %q: a warning that failed counted as the author's last", discord.Calls(), want)
	}
}
