package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/telegram"
)

// The errors the platforms' clients return (after the retry stage), and
// whether each says that the platform could not be reached.
func TestUnreachable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"done", nil, false},
		{"connection refused", &bot.ActionError{Op: bot.ActHide, Retryable: true,
			Err: fmt.Errorf("POST /1_2: %w", syscall.ECONNREFUSED)}, true},
		{"an error that does not say", errors.New("eof"), true},
		{"telegram 500", &bot.ActionError{Op: bot.ActDelete, Retryable: true,
			Err: &telegram.APIError{Method: "deleteMessage", Code: 500, Description: "Internal Server Error"}}, true},
		{"telegram 401", &bot.ActionError{Op: bot.ActDelete, Err: &telegram.APIError{Method: "deleteMessage", Code: 401}}, true},
		{"telegram 400, message gone", &bot.ActionError{Op: bot.ActDelete,
			Err: &telegram.APIError{Method: "deleteMessage", Code: 400, Description: "Bad Request: message to delete not found"}}, false},
		{"telegram 429 without retry_after", &bot.ActionError{Op: bot.ActDelete, Retryable: true,
			Err: &telegram.APIError{Method: "deleteMessage", Code: 429}}, false},
		{"discord 502", &bot.ActionError{Op: bot.ActDelete, Retryable: true, Err: &discord.APIError{Status: 502}}, true},
		{"discord 429 as a REST error", &bot.ActionError{Op: bot.ActDelete, Retryable: true, Err: &discord.APIError{Status: 429}}, false},
		{"discord 403, missing permission", &bot.ActionError{Op: bot.ActDelete, Err: &discord.APIError{Status: 403, Code: 50013}}, false},
		{"discord 401", &bot.ActionError{Op: bot.ActDelete, Err: &discord.APIError{Status: 401}}, true},
		{"graph 500, code 2", &bot.ActionError{Op: bot.ActHide, Retryable: true, Err: &meta.GraphError{Status: 500, Code: 2}}, true},
		{"graph code 190", &bot.ActionError{Op: bot.ActHide,
			Err: fmt.Errorf("expired or invalid page token (code 190): %w", &meta.GraphError{Status: 400, Code: 190})}, true},
		{"graph rate limit without a hint", &bot.ActionError{Op: bot.ActHide, Retryable: true, Err: &meta.GraphError{Status: 400, Code: 32}}, false},
		{"a rate limit with a hint", &bot.ActionError{Op: bot.ActHide, Retryable: true, RetryAfter: time.Minute, Err: errors.New("slow down")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := unreachable(tt.err); got != tt.want {
				t.Errorf("unreachable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

// A platform is failing from the third action in a row that could not reach
// it; a success, or an answer of the platform, ends the run; an action
// cancelled by vigie says nothing.
func TestActionWatchRuns(t *testing.T) {
	down := &bot.ActionError{Op: bot.ActDelete, Retryable: true, Err: &telegram.APIError{Method: "deleteMessage", Code: 500}}
	gone := &bot.ActionError{Op: bot.ActDelete, Err: &telegram.APIError{Method: "deleteMessage", Code: 400}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	ctx := context.Background()
	at := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	now := at
	w := &actionWatch{log: slog.New(slog.DiscardHandler), now: func() time.Time { return now },
		connector: map[string]string{"telegram": "telegram"}, names: []string{"telegram"}, state: map[string]*actionState{}}
	step := func(c context.Context, err error) {
		w.record(c, "telegram", err)
		now = now.Add(time.Minute)
	}
	step(ctx, down)
	step(ctx, down)
	step(ctx, nil) // a blip
	step(ctx, down)
	step(ctx, down)
	step(ctx, gone) // Telegram answered
	step(ctx, down)
	step(ctx, down)
	step(cancelled, down) // vigie stopping
	if w.failing("telegram") || len(w.problems()) != 0 {
		t.Fatalf("failing after runs of two: %q", w.problems())
	}
	w.record(ctx, "shop", down) // not a platform vigie acts on
	step(ctx, down)
	p := w.problems()
	if !w.failing("telegram") || len(p) != 1 || !strings.HasPrefix(p[0], "telegram actions: failing since 2026-12-05T02:06:00Z, 3 in a row: ") {
		t.Fatalf("after three in a row: failing %v, %q", w.failing("telegram"), p)
	}
	step(ctx, nil)
	if w.failing("telegram") || len(w.problems()) != 0 {
		t.Errorf("still failing after a success: %q", w.problems())
	}
}

// Meta asks vigie to wait an hour (a Graph rate limit longer than the retry
// stage waits): each action becomes a case at once, and until the hour is
// over, or an action is carried out, the limit and the actions left are
// reasons and the actions' gauge is down. A short wait, which the retry stage
// waits out, says nothing; nor does the platform's other answer end the limit.
func TestActionWatchLongRateLimit(t *testing.T) {
	limited := func(wait time.Duration) error {
		return fmt.Errorf("%w (platform asks to wait %s, more than 30s)", &bot.ActionError{Op: bot.ActHide, Retryable: true, RetryAfter: wait,
			Err: fmt.Errorf("rate limited by Meta (code 32): %w", &meta.GraphError{Status: 400, Code: 32})}, wait)
	}
	gone := &bot.ActionError{Op: bot.ActHide, Err: &meta.GraphError{Status: 400, Code: 100, Subcode: 33}}
	ctx := context.Background()
	now := time.Date(2026, 12, 5, 2, 0, 0, 0, time.UTC)
	w := &actionWatch{log: slog.New(slog.DiscardHandler), now: func() time.Time { return now },
		connector: map[string]string{"facebook": "meta", "instagram": "meta"}, names: []string{"meta"}, state: map[string]*actionState{}}
	check := func(when string, want ...string) {
		t.Helper()
		got := w.problems()
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: problems = %q, want %q", when, got, want)
		}
		if f := w.failing("meta") || w.failing("discord"); f != (len(want) > 0) {
			t.Errorf("%s: failing = %v, want %v", when, f, len(want) > 0)
		}
	}
	w.record(ctx, "facebook", limited(20*time.Second))
	check("a wait the retry stage waits out")

	w.record(ctx, "facebook", limited(time.Hour))
	check("an hour's wait", "meta actions: rate limited until 03:00 UTC, 1 action left as a case")
	now = now.Add(10 * time.Minute)
	w.record(ctx, "instagram", limited(time.Hour))
	w.record(ctx, "facebook", gone)
	check("a longer wait, then a comment gone", "meta actions: rate limited until 03:10 UTC, 2 actions left as cases")
	now = now.Add(time.Hour)
	check("the wait over")

	w.record(ctx, "facebook", limited(time.Hour))
	check("limited again", "meta actions: rate limited until 04:10 UTC, 1 action left as a case")
	w.record(ctx, "instagram", nil)
	check("an action carried out")

	// Discord's rate limit, as its client reports it.
	w.connector["discord"] = "discord"
	w.record(ctx, "discord", &bot.ActionError{Op: bot.ActBan, Retryable: true, RetryAfter: 2 * time.Minute,
		Err: errors.New("discord: rate limited on /guilds/1/bans/2, retry after 2m0s")})
	check("discord limited", "discord actions: rate limited until 03:12 UTC, 1 action left as a case")
}
