package daemon_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCardPostedAsRedisWentAwayNotPostedAgain: the desk takes a case's card
// just as redis-server dies, so that vigie cannot record in Redis that the
// card was posted. Redis comes back with its data (append-only file): the
// case is on the desk once, not twice, and a CM's press on that card is
// the one vigie follows.
func TestCardPostedAsRedisWentAwayNotPostedAgain(t *testing.T) {
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	api := tgfake.New(t)
	const desk = "-100900"
	var once sync.Once
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "sendMessage" && p.Get("chat_id") == desk && strings.Contains(p.Get("reply_markup"), "callback_data") {
			// Redis dies while the card is on its way: Telegram takes it.
			once.Do(srv.Stop)
		}
		return 0, "", false
	})
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_REDIS_URL": srv.URL()}
	in := start(t, chaosRules, env)
	api.Push(groupMessage(-100710, 7, "Eve", "FREE NITRO on example.com"))
	cards := func() int {
		n := 0
		for _, p := range find(api, "sendMessage", "chat_id", desk) {
			if strings.Contains(p.Get("reply_markup"), "callback_data") {
				n++
			}
		}
		return n
	}
	testsync.Eventually(t, "the card", func() bool { return cards() == 1 })
	testsync.Eventually(t, "the outage seen", func() bool { return strings.Contains(in.logs.String(), "redis unreachable") })
	srv.Restart()
	testsync.Eventually(t, "redis back", func() bool { return strings.Contains(in.logs.String(), "redis is back") })
	// The desk's rounds go on: a card posted again would be among the calls by now.
	testsync.Eventually(t, "a desk round after redis came back", func() bool {
		return strings.Count(in.logs.String(), "case opened") >= 1 && metric(t, in, "vigie_store_degraded") == 0
	})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if n := cards(); n != 1 {
		t.Errorf("%d cards for one case, want 1", n)
	}
}
