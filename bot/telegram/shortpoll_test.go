package telegram

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestServerThatDoesNotHoldLongPolls: a Bot API server that answers
// getUpdates at once with no update, whatever the timeout asked (a proxy that
// does not keep requests open, a server that short-polls), is asked again
// after a pause, not in a loop without end; its updates still come through.
func TestServerThatDoesNotHoldLongPolls(t *testing.T) {
	f := newFakeBotAPI(t)
	f.ShortPoll(true)
	c, logs := newTestClient(t, f, Config{Chats: fixtureChats})
	pauses, resume := make(chan time.Duration), make(chan struct{})
	c.pause = func(ctx context.Context, d time.Duration) bool {
		select {
		case pauses <- d:
		case <-ctx.Done():
			return false
		}
		select {
		case <-resume:
			return true
		case <-ctx.Done():
			return false
		}
	}
	out := make(chan bot.Event, 1)
	run(t, c, out)

	for i := 1; i <= 3; i++ {
		select {
		case d := <-pauses:
			if d < time.Second {
				t.Errorf("pause %d after an empty answer: %s, want 1s at least", i, d)
			}
		case <-time.After(testsync.Patience):
			t.Fatalf("no pause after an empty answer given at once: %d getUpdates so far", f.Count("getUpdates", nil))
		}
		// While vigie pauses, it does not poll.
		if n := f.Count("getUpdates", nil); n != i {
			t.Fatalf("%d getUpdates before pause %d, want %d", n, i, i)
		}
		if i < 3 {
			resume <- struct{}{}
		}
	}
	f.push(map[string]any{"message": message(group, 60, bob, t0, "still here")})
	resume <- struct{}{}
	if ev := testsync.Next(t, out); ev.Text != "still here" {
		t.Fatalf("got %q, want the update polled after the pause", ev.Text)
	}
	if n := strings.Count(logs.String(), "does not hold long polls"); n != 1 {
		t.Errorf("the short polling server was reported %d times, want once; logs:\n%s", n, logs)
	}
}
