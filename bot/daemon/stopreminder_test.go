package daemon_test

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// madeWith counts the messages Discord made on the desk whose content
// holds want.
func madeWith(f *discordfake.Server, want string) int {
	n := 0
	for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
		if content, _ := c.Body["content"].(string); strings.Contains(content, want) && c.Made != "" {
			n++
		}
	}
	return n
}

// deskOn adds a Discord desk whose calls go to f.
func deskOn(t *testing.T, f *discordfake.Server) func(*daemon.Config) {
	return func(cfg *daemon.Config) { cfg.Connectors = append(cfg.Connectors, discordDesk(t, f)) }
}

// TestReminderHeldAtStopPostedOnce: vigie stops while Discord holds the
// "⏰ waiting for" reminder of a case (sent, not answered yet), and Discord
// makes it. The reminder is on the desk once: not again at the next start.
func TestReminderHeldAtStopPostedOnce(t *testing.T) {
	opened := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	clk := stepclock.New(opened, stepclock.RecordCallers())
	f := discordfake.New(t, discordfake.Options{})
	srv := redistest.Start(t)
	var first atomic.Bool
	release := f.Hold(func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return c.Method == "POST" && strings.Contains(content, "⏰") && first.CompareAndSwap(false, true)
	})
	// The escalation's lease on a new Redis is taken in seconds, not 18.
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL(), "VIGIE_LEASE_TTL": killLeaseTTL, "VIGIE_LEASE_TTL_MAX": killLeaseTTL}
	in := start(t, forwardRules, env, onClock(clk), deskOn(t, f))
	in.post(t, clockMessage("m-1", "look", clk.Now()))
	testsync.Eventually(t, "the case on the desk", func() bool { return madeWith(f, "look") == 1 })
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })

	clk.Step(2*time.Hour + time.Second)
	testsync.Eventually(t, "the reminder on its way", func() bool { return len(posted(f, "⏰")) == 1 })
	stopWhileHeld(t, in, release)
	if n := madeWith(f, "⏰"); n != 1 {
		t.Fatalf("%d reminders made once vigie stopped, want 1", n)
	}

	again := start(t, forwardRules, env, onClock(clk), deskOn(t, f))
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	clk.Step(time.Minute)
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	if n := madeWith(f, "⏰"); n != 1 {
		t.Errorf("%d reminders of one case, the first held at a stop, want 1", n)
	}
}

// alertRules alert the desk of a scam, and open no case for it.
const alertRules = `timezone: UTC
desk:
  cms: ["discord:` + discordDeskCM + `"]
rules:
  - name: scam
    when: 'lower(text) contains "free nitro"'
    do: [alert("scam wave")]
`

// TestAlertHeldAtStopPostedOnce: vigie stops while Discord holds a rule's
// alert to the desk (sent, not answered yet), and Discord makes it. The
// alert is on the desk once: not again as a case at the stop or the next
// start.
func TestAlertHeldAtStopPostedOnce(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 63)
	srv := redistest.Start(t)
	var first atomic.Bool
	release := f.Hold(func(c discordfake.Call) bool {
		content, _ := c.Body["content"].(string)
		return c.Method == "POST" && strings.Contains(content, "scam wave") && first.CompareAndSwap(false, true)
	})
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL()}
	in := startOnly(t, alertRules, env, []daemon.Connector{daemon.DiscordOf(cl)})
	testsync.Eventually(t, "the gateway taking a scam", func() bool {
		return f.Message(guild, channel, "700000000000000931", "600000000000000091", "FREE NITRO here")
	})
	testsync.Eventually(t, "the alert on its way", func() bool { return len(posted(f, "scam wave")) == 1 })
	stopWhileHeld(t, in, release)

	again := startOnly(t, alertRules, env, []daemon.Connector{daemon.DiscordOf(discordClient(t, f, guild))})
	testsync.Eventually(t, "the gateway taking the next message", func() bool {
		return f.Message(guild, channel, "700000000000000932", "600000000000000092", "hello")
	})
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	if n := madeWith(f, "scam wave"); n != 1 {
		t.Errorf("%d messages on the desk for one alert held at a stop, want 1", n)
	}
}

// TestReminderHeldAtStopPostedOnceOnTelegram is
// TestReminderHeldAtStopPostedOnce on a Telegram desk: Telegram holds the
// reminder's sendMessage while vigie stops, and sends it.
func TestReminderHeldAtStopPostedOnceOnTelegram(t *testing.T) {
	opened := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	clk := stepclock.New(opened, stepclock.RecordCallers())
	api := tgfake.New(t)
	srv := redistest.Start(t)
	const desk = "-100500"
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	isReminder := func(method string, p url.Values) bool {
		return method == "sendMessage" && p.Get("chat_id") == desk && strings.Contains(p.Get("text"), "⏰")
	}
	var first atomic.Bool
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if isReminder(method, p) && first.CompareAndSwap(false, true) {
			<-held // Telegram took the reminder, and answers late
		}
		return 0, "", false
	})
	reminders := func() int {
		return api.Count("sendMessage", func(c tgfake.Call) bool { return isReminder(c.Method, c.Params) })
	}
	rules := "desk:\n  telegram_chat: \"" + desk + "\"\n" + forwardRules
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_REDIS_URL": srv.URL(),
		"VIGIE_LEASE_TTL": killLeaseTTL, "VIGIE_LEASE_TTL_MAX": killLeaseTTL}
	in := start(t, rules, env, onClock(clk))
	in.post(t, clockMessage("m-1", "look", clk.Now()))
	testsync.Eventually(t, "the case on the desk", func() bool { return caseCards(api, desk) == 1 })
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })

	clk.Step(2*time.Hour + time.Second)
	testsync.Eventually(t, "the reminder on its way", func() bool { return reminders() == 1 })
	stopWhileHeld(t, in, release)

	again := start(t, rules, env, onClock(clk))
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	clk.Step(time.Minute)
	testsync.Eventually(t, "the escalation's next look set", func() bool { return clk.Armed(time.Minute, "(*Escalation).Run") })
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	if n := reminders(); n != 1 {
		t.Errorf("%d reminders of one case, the first held at a stop, want 1", n)
	}
}
