package telegram

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// webhookReady starts a client in webhook mode (the fixture chats, their
// admins known, judged events reported) on out, and returns it with post,
// which delivers an update to its webhook as Telegram does and says how it
// was answered. It returns once the client answers: Run hands the sink over
// once it runs, until then a delivery is answered 503; the update it tries
// with (update_id 1, "ready?") is judged.
func webhookReady(t *testing.T, out chan bot.Event) (*Client, func(ctx context.Context, update map[string]any) int) {
	t.Helper()
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{Mode: ModeWebhook, WebhookSecret: "s3cret_token", Chats: fixtureChats, ReportsJudged: true})
	knowAdmins(t, c, group.id)
	h := c.WebhookHandler()
	post := func(ctx context.Context, update map[string]any) int {
		raw, _ := json.Marshal(update)
		r := httptest.NewRequestWithContext(ctx, http.MethodPost, "/webhooks/telegram", strings.NewReader(string(raw)))
		r.Header.Set("X-Telegram-Bot-Api-Secret-Token", "s3cret_token")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	run(t, c, out)
	for code := http.StatusServiceUnavailable; code != http.StatusOK; {
		answer := posting(context.Background(), post, textUpdate(1, "ready?"))
		select {
		case code = <-answer:
			time.Sleep(10 * time.Millisecond)
		case ev := <-out:
			c.Judged(&ev)
			code = <-answer
		}
	}
	return c, post
}

// textUpdate is update id: bob's message id in the group, saying text.
func textUpdate(id int, text string) map[string]any {
	return map[string]any{"update_id": id, "message": message(group, id, bob, t0, text)}
}

// posting posts update with post in the background: the answer's code comes
// on the channel.
func posting(ctx context.Context, post func(context.Context, map[string]any) int, update map[string]any) <-chan int {
	answer := make(chan int, 1)
	go func() { answer <- post(ctx, update) }()
	return answer
}

// answeredOK waits for the answer to a post (what says which), which must
// be 200.
func answeredOK(t *testing.T, answer <-chan int, what string) {
	t.Helper()
	select {
	case code := <-answer:
		if code != http.StatusOK {
			t.Errorf("%s answered %d, want 200", what, code)
		}
	case <-time.After(testsync.Patience):
		t.Fatalf("%s not answered", what)
	}
}
