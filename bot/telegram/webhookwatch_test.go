package telegram

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestWebhookWatchedAllNight: vigie takes its updates by webhook, and in
// the night Telegram stops reaching it (a certificate that expired, a proxy
// in the way): Telegram keeps the updates and retries, and vigie, which only
// waits for calls, judges nothing with nothing failing on its side. Its
// checks (getWebhookInfo) tell the desk once two in a row found new
// delivery errors with updates waiting, and once deliveries went through
// again. Later another program removes the webhook (deleteWebhook, as a
// poller does as it starts): told at the first check, and its return too.
func TestWebhookWatchedAllNight(t *testing.T) {
	const hook = "https://vigie.example/webhooks/telegram"
	f := newFakeBotAPI(t)
	c, logs := newTestClient(t, f, Config{Mode: ModeWebhook, WebhookSecret: "s3cret_token", WebhookURL: hook, Chats: fixtureChats, DeskChat: deskChat.id})
	vigie := httptest.NewServer(c.WebhookHandler())
	t.Cleanup(vigie.Close)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close() // nothing answers there: the connection is refused
	var route atomic.Value
	route.Store(vigie.URL)
	var mu sync.Mutex
	night := time.Unix(t0, 0)
	f.SetClock(func() time.Time { mu.Lock(); defer mu.Unlock(); return night })
	step := func() { mu.Lock(); night = night.Add(5 * time.Minute); mu.Unlock() }
	out := make(chan bot.Event, 10)
	run(t, c, out)
	f.waitFor("setWebhook", 1, nil)
	f.DeliverTo(func(int) string { return route.Load().(string) })
	ctx := context.Background()
	check := func() {
		t.Helper()
		if err := c.CheckWebhook(ctx); err != nil {
			t.Fatalf("CheckWebhook: %v", err)
		}
	}
	toDesk := func(part string) func(apiCall) bool {
		return func(call apiCall) bool {
			return call.Params.Get("chat_id") == itoa(deskChat.id) && strings.Contains(call.Params.Get("text"), part)
		}
	}
	failed := func() int {
		n := 0
		for _, d := range f.Deliveries() {
			if d.Status/100 != 2 {
				n++
			}
		}
		return n
	}

	f.push(map[string]any{"message": message(group, 30, bob, t0, "evening")})
	if ev := testsync.Next(t, out); ev.Text != "evening" {
		t.Fatalf("event %q", ev.Text)
	}
	check()

	// Telegram can no longer reach vigie.
	route.Store(dead.URL)
	f.push(map[string]any{"message": message(group, 31, bob, t0+1, "at night")})
	for range hookChecksToTell {
		step()
		n := failed()
		testsync.Eventually(t, "a delivery failed since the step", func() bool { return failed() > n })
		check()
	}
	f.waitFor("sendMessage", 1, toDesk("Telegram cannot deliver this bot's messages to vigie's webhook"))
	if troubles := strings.Join(c.Troubles(), "\n"); !strings.Contains(troubles, "cannot deliver the updates to vigie's webhook") ||
		!strings.Contains(troubles, "Connection refused") {
		t.Errorf("Troubles = %q, want the failing deliveries", troubles)
	}
	step()
	n := failed()
	testsync.Eventually(t, "a delivery failed since the step", func() bool { return failed() > n })
	check() // still failing: not told again

	// Reachable again: the update waiting is judged; the desk is told once
	// checks find no new error.
	route.Store(vigie.URL)
	if ev := testsync.Next(t, out); ev.Text != "at night" {
		t.Fatalf("event %q", ev.Text)
	}
	for range hookChecksToTell {
		check()
	}
	f.waitFor("sendMessage", 1, toDesk("Telegram delivers this bot's messages to vigie's webhook again"))
	if tr := c.Troubles(); len(tr) != 0 {
		t.Errorf("Troubles = %q once delivered again, want none", tr)
	}

	// Another program removes the webhook, as a poller does.
	resp, err := http.Post(f.srv.URL+"/bot"+f.token+"/deleteWebhook", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check()
	f.waitFor("sendMessage", 1, toDesk("its webhook was removed"))
	if troubles := strings.Join(c.Troubles(), "\n"); !strings.Contains(troubles, "no longer sends the updates to vigie's webhook") {
		t.Errorf("Troubles = %q, want the webhook removed", troubles)
	}
	if err := c.RegisterWebhook(ctx); err != nil {
		t.Fatal(err)
	}
	check()
	f.waitFor("sendMessage", 2, toDesk("Telegram delivers this bot's messages to vigie's webhook again"))

	for _, part := range []string{"cannot deliver", "its webhook was removed"} {
		if n := f.count("sendMessage", toDesk(part)); n != 1 {
			t.Errorf("%d alerts with %q, want 1\n%s", n, part, logs)
		}
	}
}
