package daemon_test

import (
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// stopWhileHeld stops in while the desk holds a case's card, and lets the
// desk answer once the stop has begun: the platform took the card, and its
// answer comes while vigie stops.
func stopWhileHeld(t *testing.T, in *instance, release func()) {
	t.Helper()
	stopped := make(chan error, 1)
	go func() { stopped <- in.stop() }()
	testsync.Eventually(t, "the stop begun", func() bool { return strings.Contains(in.logs.String(), `msg="shutting down"`) })
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// TestCardHeldAtStopPostedOnceOnTelegram: vigie stops while Telegram holds
// a case's card (sendMessage sent, not answered yet), and Telegram posts
// it. The case is on the desk once: not posted again at the stop's last
// round, nor at the next start, which posts the next case's card alone.
func TestCardHeldAtStopPostedOnceOnTelegram(t *testing.T) {
	srv := redistest.Start(t)
	api := tgfake.New(t)
	const desk = "-100900"
	held := make(chan struct{})
	release := sync.OnceFunc(func() { close(held) })
	t.Cleanup(release)
	var first atomic.Bool
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "sendMessage" && p.Get("chat_id") == desk && strings.Contains(p.Get("reply_markup"), "callback_data") &&
			first.CompareAndSwap(false, true) {
			<-held // Telegram took the card, and answers late
		}
		return 0, "", false
	})
	// The poller's lease on a new Redis is taken in seconds, not 18.
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_REDIS_URL": srv.URL(),
		"VIGIE_LEASE_TTL": killLeaseTTL, "VIGIE_LEASE_TTL_MAX": killLeaseTTL}
	cards := func() int { return caseCards(api, desk) }
	in := start(t, chaosRules, env)
	api.Push(groupMessage(-100710, 7, "Eve", "FREE NITRO on example.com"))
	testsync.Eventually(t, "the card on its way", func() bool { return cards() == 1 })
	stopWhileHeld(t, in, release)
	if n := cards(); n != 1 {
		t.Errorf("%d cards for one case once vigie stopped, want 1", n)
	}

	again := start(t, chaosRules, env)
	api.Push(groupMessage(-100720, 8, "Mallory", "FREE NITRO on example.org"))
	testsync.Eventually(t, "the next case's card", func() bool { return cards() >= 2 })
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	if n := cards(); n != 2 {
		t.Errorf("%d cards for two cases, the first held at a stop, want 2", n)
	}
}

// TestCardHeldAtStopPostedOnceOnDiscord is
// TestCardHeldAtStopPostedOnceOnTelegram on the Discord desk: Discord
// holds the card's channel message while vigie stops, and makes it.
func TestCardHeldAtStopPostedOnceOnDiscord(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 29)
	srv := redistest.Start(t)
	isCard := func(c discordfake.Call) bool {
		return c.Method == "POST" && c.Path == "/channels/"+deskChannel+"/messages" && c.Body["components"] != nil
	}
	var first atomic.Bool
	release := f.Hold(func(c discordfake.Call) bool { return isCard(c) && first.CompareAndSwap(false, true) })
	cards := func() int {
		n := 0
		for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
			if isCard(c) && c.Made != "" {
				n++
			}
		}
		return n
	}
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL()}
	in := startOnly(t, discordDeskRules, env, []daemon.Connector{daemon.DiscordOf(cl)})
	testsync.Eventually(t, "the gateway taking a scam", func() bool {
		return f.Message(guild, channel, "700000000000000901", "600000000000000071", "FREE NITRO here")
	})
	testsync.Eventually(t, "the card on its way", func() bool { return cards() == 1 })
	stopWhileHeld(t, in, release)
	if n := cards(); n != 1 {
		t.Errorf("%d cards for one case once vigie stopped, want 1", n)
	}

	again := startOnly(t, discordDeskRules, env, []daemon.Connector{daemon.DiscordOf(discordClient(t, f, guild))})
	testsync.Eventually(t, "the gateway taking the next scam", func() bool {
		return f.Message(guild, channel, "700000000000000902", "600000000000000072", "FREE NITRO there")
	})
	testsync.Eventually(t, "the next case's card", func() bool { return cards() >= 2 })
	if err := again.stop(); err != nil {
		t.Fatal(err)
	}
	if n := cards(); n != 2 {
		t.Errorf("%d cards for two cases, the first held at a stop, want 2", n)
	}
}
