package handlers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
)

// logLines is a log written by a slog.TextHandler, safe to read while
// written.
type logLines struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// with returns the lines that hold every one of parts.
func (l *logLines) with(parts ...string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for line := range strings.Lines(l.b.String()) {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			out = append(out, line)
		}
	}
	return out
}

// TestDeskOutageWarnsOnce: while the desk is down, the escalation's check
// fails each minute (the reminder it could not post is tried again); the
// log says so once, at the first failure, not every minute, and once the
// checks pass again one line sums the outage up: how many checks failed,
// since when.
func TestDeskOutageWarnsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		desk := &deskRecorder{}
		o := newOnClock(t, desk)
		clk, m, logs := o.clk, o.m, o.logs
		esc, err := handlers.NewEscalation(m, handlers.EscalationOptions{Age: 2 * time.Hour, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		v := verdict("discord", bot.Match{Rule: "insult", Actions: []bot.Action{{Kind: bot.ActForward, Text: "insult"}}})
		if err := m.Handle(context.Background(), event("discord"), v); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- esc.Run(ctx) }()
		synctest.Wait()

		desk.mu.Lock()
		desk.err = &bot.ActionError{Op: bot.ActForward, Retryable: true, Err: errors.New("bad gateway")}
		desk.mu.Unlock()
		clk.Step(2*time.Hour + time.Minute) // the reminder falls due: refused
		synctest.Wait()
		for range 5 { // tried again each minute, refused
			clk.Step(time.Minute)
			synctest.Wait()
		}
		if got := logs.with("level=WARN", "open cases not checked"); len(got) != 1 {
			t.Errorf("WARN lines in six failed checks: %q; want one", got)
		}
		desk.mu.Lock()
		tried := len(desk.cases)
		desk.err = nil
		desk.mu.Unlock()
		if tried != 6 {
			t.Errorf("the reminder was tried %d times in six checks, want 6", tried)
		}
		clk.Step(time.Minute)
		synctest.Wait()
		clk.Step(time.Minute)
		synctest.Wait()
		if got := logs.with("open cases checked again", "failed_checks=6", "since=2026-11-21T00:11:00.000Z"); len(got) != 1 {
			t.Errorf("summary lines: %q; want one, of six failed checks since 00:11", logs.with("open cases"))
		}
		if got := logs.with("level=WARN", "open cases not checked"); len(got) != 1 {
			t.Errorf("WARN lines after the desk came back: %q; want still the one", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	})
}

// TestDeskDownWarnsOnce: while the desk is down, the case waiting for it is
// tried at each round of the cards (every 10s); the log says it waits once,
// at the first round, not at each, and once the desk took it one line sums
// the outage up.
func TestDeskDownWarnsOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		desk := &deskRecorder{err: &bot.ActionError{Op: bot.ActForward, Retryable: true, Err: errors.New("bad gateway")}}
		o := newOnClock(t, desk)
		clk, m, logs := o.clk, o.m, o.logs
		_, stop := o.deliver(t)
		v := verdict("discord", bot.Match{Rule: "insult", Actions: []bot.Action{{Kind: bot.ActForward, Text: "insult"}}})
		if err := m.Handle(context.Background(), event("discord"), v); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		for range 6 { // a minute of rounds, the desk down
			clk.Step(10 * time.Second)
			synctest.Wait()
		}
		desk.mu.Lock()
		tried := len(desk.cases)
		desk.err = nil
		desk.mu.Unlock()
		if tried < 7 {
			t.Fatalf("the card was tried %d times in a minute of rounds, want 7", tried)
		}
		if got := logs.with("level=WARN", "the desk did not take some cases"); len(got) != 1 {
			t.Errorf("WARN lines in %d rounds that left the case waiting: %d; want one:\n%s", tried, len(got), strings.Join(got, ""))
		}
		clk.Step(10 * time.Second)
		synctest.Wait()
		clk.Step(10 * time.Second)
		synctest.Wait()
		if got := logs.with("the desk took the cases that waited", "rounds=7"); len(got) != 1 {
			t.Errorf("summary lines: %q; want one, of 7 rounds", logs.with("desk"))
		}
		if got := logs.with("level=WARN", "the desk did not take some cases"); len(got) != 1 {
			t.Errorf("WARN lines once the desk came back: %d; want still the one", len(got))
		}
		stop()
	})
}
