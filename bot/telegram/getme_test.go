package telegram

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestStartWaitsAsTelegramAsks: getMe answered 429 with retry_after at the
// start is asked again once the wait Telegram gave is over, and vigie runs;
// it returned an error at once, and the restart came before the wait's end,
// to be refused again.
func TestStartWaitsAsTelegramAsks(t *testing.T) {
	f := newFakeBotAPI(t)
	f.fail("getMe", 429, "Too Many Requests: retry after 7", 7)
	c, _ := newTestClient(t, f, Config{Chats: fixtureChats})
	paused := make(chan time.Duration, 1)
	c.pause = func(ctx context.Context, d time.Duration) bool {
		select {
		case paused <- d:
		default:
		}
		return ctx.Err() == nil
	}
	out := make(chan bot.Event, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel", err)
			}
		case <-time.After(testsync.Patience):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case d := <-paused:
		if d != 7*time.Second {
			t.Errorf("waited %s, want the 7s Telegram asked", d)
		}
	case err := <-done:
		done <- nil // for the cleanup
		t.Fatalf("Run returned %v, want it to wait and ask again", err)
	case <-time.After(testsync.Patience):
		t.Fatal("no wait after the 429")
	}
	f.waitFor("getMe", 2, nil)
	f.push(map[string]any{"message": message(group, 70, bob, t0, "started")})
	if ev := testsync.Next(t, out); ev.Text != "started" {
		t.Fatalf("got %q", ev.Text)
	}
}
