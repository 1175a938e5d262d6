package daemon_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestWebhookRemovedInTheNight: vigie takes Telegram's updates by webhook;
// at night someone starts another program with the bot's token, which
// removes the webhook to poll, as pollers do. Telegram then sends vigie
// nothing, and nothing fails on vigie's side. Within the daemon's check of
// the webhook (every 5 minutes, on its clock) the desk is told, once however
// many checks follow, and /healthz says it.
func TestWebhookRemovedInTheNight(t *testing.T) {
	api := tgfake.New(t)
	clk := stepclock.New(time.Now(), stepclock.RecordCallers())
	in := start(t, deskRules, map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"TELEGRAM_WEBHOOK_URL": "https://vigie.example/webhooks/telegram",
	}, func(c *daemon.Config) { c.Now, c.AfterFunc = clk.Now, clk.AfterFunc })
	api.WaitFor("setWebhook", 1, nil)

	resp, err := http.Post(api.HTTP.URL+"/bot"+tgfake.Token+"/deleteWebhook", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	removed := func(c tgfake.Call) bool {
		return c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), "its webhook was removed")
	}
	for i := range 3 {
		testsync.Eventually(t, "the webhook's next check set", func() bool { return clk.Armed(5*time.Minute, "daemon.Config.every") })
		clk.Step(5 * time.Minute)
		api.WaitFor("getWebhookInfo", i+1, nil)
	}
	api.WaitFor("sendMessage", 1, removed)
	var h struct{ Degraded []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if !strings.Contains(strings.Join(h.Degraded, "\n"), "no longer sends the updates to vigie's webhook") {
		t.Errorf("/healthz degraded = %q, want the webhook removed", h.Degraded)
	}
	if n := api.Count("sendMessage", removed); n != 1 {
		t.Errorf("%d alerts of the webhook removed, want 1", n)
	}
}
