package daemon_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCardPostedAsRedisWentAwayNotPostedAgain: the desk takes a case's card
// just as redis-server dies, so that vigie cannot record in Redis that the
// card was posted. Redis comes back with its data (append-only file): the
// case is on the desk once, not twice, a CM's decision after the outage
// shows on that card, and the log does not say its place was lost.
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
	cards := func() int { return caseCards(api, desk) }
	testsync.Eventually(t, "the card", func() bool { return cards() == 1 })
	testsync.Eventually(t, "the outage seen", func() bool { return strings.Contains(in.logs.String(), "redis unreachable") })
	srv.Restart()
	testsync.Eventually(t, "redis back", func() bool { return strings.Contains(in.logs.String(), "redis is back") })
	// The desk's rounds go on: a card posted again would be among the calls by now.
	testsync.Eventually(t, "a desk round after redis came back", func() bool {
		return strings.Count(in.logs.String(), "case opened") >= 1 && metric(t, in, "vigie_store_degraded") == 0
	})
	// A CM decides it after the outage: the decision shows on that card.
	var open struct{ Cases []struct{ ID string } }
	in.do(t, "GET", "/v1/cases", nil, nil).json(t, &open)
	if len(open.Cases) != 1 {
		t.Fatalf("%d open cases, want 1", len(open.Cases))
	}
	if r := in.do(t, "POST", "/v1/cases/"+open.Cases[0].ID+"/decision", []byte(`{"outcome":"keep","by":"ann"}`), nil); r.code != http.StatusOK {
		t.Fatalf("decision: %d %s", r.code, r.body)
	}
	card := strconv.Itoa(api.CallsOf("sendMessage")[0].MsgID)
	for _, c := range api.CallsOf("sendMessage") {
		if c.Params.Get("chat_id") == desk {
			card = strconv.Itoa(c.MsgID)
			break
		}
	}
	testsync.Eventually(t, "the decision on the card", func() bool {
		return api.Count("editMessageText", func(c tgfake.Call) bool {
			return c.Params.Get("chat_id") == desk && c.Params.Get("message_id") == card
		}) > 0
	})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if n := cards(); n != 1 {
		t.Errorf("%d cards for one case, want 1", n)
	}
	// Its place is kept for Redis: nothing to warn a CM's operator about.
	if logs := in.logs.String(); strings.Contains(logs, "where it is was not recorded") {
		t.Errorf("the log says the card's place was not recorded, though it was kept for Redis:\n%s", logs)
	}
}

// TestNotesNotReadSaidOnceInAnOutage: redis-server is down while a raid of
// members posts a scam. The memory groups the raid as Redis does: the first
// store.GroupAuthors raiders have a case each, the others join the last.
// Each case's card goes to the desk without its author's notes, which are
// in Redis; the log says so once, not once a card.
func TestNotesNotReadSaidOnceInAnOutage(t *testing.T) {
	srv := redistest.Start(t)
	api := tgfake.New(t)
	const desk = "-100900"
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_REDIS_URL": srv.URL()}
	in := start(t, chaosRules, env)
	cards := func() int { return caseCards(api, desk) }
	// The raid's first message comes while Redis is up: the poller runs.
	api.Push(groupMessage(-100710, 2999, "Raider", "FREE NITRO on example.com"))
	testsync.Eventually(t, "the first raider's card", func() bool { return cards() == 1 })
	srv.Stop()
	const raiders = 6
	for i := range raiders {
		api.Push(groupMessage(-100710, int64(3000+i), "Raider", "FREE NITRO on example.com"))
	}
	testsync.Eventually(t, "a card for each of the raid's cases", func() bool { return cards() >= 1+store.GroupAuthors })
	testsync.Eventually(t, "every raider's case opened", func() bool {
		return strings.Count(in.logs.String(), `msg="case opened"`) == 1+store.GroupAuthors &&
			strings.Count(in.logs.String(), `msg="hit added to a case"`) == raiders-store.GroupAuthors
	})
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	if n := cards(); n != 1+store.GroupAuthors {
		t.Errorf("%d cards for a raid of %d, Redis away after the first; want %d", n, 1+raiders, 1+store.GroupAuthors)
	}
	if n := strings.Count(in.logs.String(), `msg="notes not read`); n != 1 {
		t.Errorf("%d lines about the notes not read for %d cards in one outage, want 1", n, 1+store.GroupAuthors)
	}
}

// caseCards counts the case cards (with buttons) posted to the desk chat.
func caseCards(api *tgfake.Server, desk string) int {
	n := 0
	for _, p := range find(api, "sendMessage", "chat_id", desk) {
		if strings.Contains(p.Get("reply_markup"), "callback_data") {
			n++
		}
	}
	return n
}
