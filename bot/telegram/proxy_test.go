package telegram

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestProxyPagesAreClassifiedByStatus: a proxy before the Bot API answers
// with its own HTML page (nginx's 502 and 504, a 429 with Retry-After). The
// failure says the status, is retryable, and keeps the wait the proxy asks
// for; it was a JSON syntax error ("invalid character '<'"), and the wait
// was lost.
func TestProxyPagesAreClassifiedByStatus(t *testing.T) {
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{Chats: fixtureChats})
	ev := groupEvent(10, "7")
	tests := []struct {
		name       string
		status     int
		retryAfter int
		want       string
	}{
		{"bad gateway", 502, 0, "HTTP 502 Bad Gateway"},
		{"gateway timeout", 504, 0, "HTTP 504 Gateway Timeout"},
		{"the proxy's rate limit", 429, 7, "HTTP 429 Too Many Requests"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.ProxyFail("deleteMessage", tt.status, tt.retryAfter)
			err := c.Delete(context.Background(), ev)
			var ae *bot.ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an ActionError", err)
			}
			if !ae.Retryable || ae.RetryAfter != time.Duration(tt.retryAfter)*time.Second {
				t.Errorf("retryable=%v retry_after=%s, want retryable after %ds", ae.Retryable, ae.RetryAfter, tt.retryAfter)
			}
			if !strings.Contains(err.Error(), tt.want) || apiCode(err) != tt.status {
				t.Errorf("error %q (code %d) does not say %q", err, apiCode(err), tt.want)
			}
		})
	}

	// The poller: a 502 page, then Telegram again.
	f.ProxyFail("getUpdates", 502, 0)
	out := make(chan bot.Event, 1)
	run(t, c, out)
	f.push(map[string]any{"message": message(group, 80, bob, t0, "after the proxy")})
	if ev := testsync.Next(t, out); ev.Text != "after the proxy" {
		t.Fatalf("got %q", ev.Text)
	}
	if !strings.Contains(logs.String(), "HTTP 502 Bad Gateway") {
		t.Errorf("the poller's failure does not say the status; logs:\n%s", logs)
	}
}
