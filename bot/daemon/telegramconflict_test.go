package daemon_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestAnotherPollerOnTheDaemonsClock: another program polls Telegram with
// vigie's token. How long its conflicts went on, and how long none came
// once it stopped, are counted on the daemon's clock (Config.Now): stepped
// two minutes on, the desk hears of the other poller; stepped eleven
// minutes on once it stopped, that vigie gets every message again. No wall
// clock minute passes.
func TestAnotherPollerOnTheDaemonsClock(t *testing.T) {
	api := tgfake.New(t)
	clk := stepclock.New(stepMorning)
	in := start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL}, onClock(clk))
	testsync.Eventually(t, "vigie polling", func() bool { return len(api.CallsOf("getUpdates")) >= 1 })

	stopOther := api.AnotherPoller()
	conflicts := func() int { return strings.Count(in.logs.String(), "another getUpdates took this bot's updates") }
	testsync.Eventually(t, "a first 409", func() bool { return conflicts() >= 1 })
	clk.Step(2 * time.Minute)
	n := conflicts()
	testsync.Eventually(t, "a 409 after the step", func() bool { return conflicts() > n })
	toDesk := func(text string) func(tgfake.Call) bool {
		return func(c tgfake.Call) bool {
			return c.Params.Get("chat_id") == "-100500" && strings.Contains(c.Params.Get("text"), text)
		}
	}
	api.WaitFor("sendMessage", 1, toDesk("Another program polls Telegram with vigie's bot token"))

	// The other stops: vigie polls alone (an update shows it), and again
	// eleven minutes later.
	stopOther()
	alone := func(text string) {
		t.Helper()
		msgID++
		api.Push(map[string]any{"message": map[string]any{
			"message_id": msgID, "date": clk.Now().Unix(), "text": text,
			"chat": map[string]any{"id": tgGroup, "type": "supergroup", "title": "fans"},
			"from": map[string]any{"id": 7, "is_bot": false, "first_name": "Bob"},
		}})
		testsync.Eventually(t, "vigie taking "+text, func() bool { return api.UpdatesLeft() == 0 })
	}
	alone("alone again")
	clk.Step(11 * time.Minute)
	alone("the other one is gone")
	api.WaitFor("sendMessage", 1, toDesk("vigie gets every message again"))
	if n := api.Count("sendMessage", toDesk("Another program polls Telegram")); n != 1 {
		t.Errorf("%d alerts of the other poller, want 1", n)
	}
}
