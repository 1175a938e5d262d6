package daemon_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const chaosRules = `timezone: UTC
desk:
  telegram_chat: "-100900"
  cms: ["telegram:42"]
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: flood
    category: flood
    when: not author.staff and counters.msgs > 5
    do: [delete, timeout(10m), 'warn("Please slow down")']
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete, 'forward("scam")']
`

// chaosTroubled is TestChaos's group in trouble: a raid, and its API calls
// answered with storms.
const chaosTroubled = -100710

// TestChaos runs vigie on a real Redis against a Bot API that goes wrong in one
// group after the other (429 storms, 5xx, a hung API), beside a Discord gateway
// that drops, loses its Redis for a while, and is restarted with a night's
// backlog. Through all of it: every
// scam in a calm group is deleted exactly once and in time, every raid message
// in the troubled group is deleted or becomes a case, and the calm member who
// wrote once a minute all night is never taken for a flood.
func TestChaos(t *testing.T) {
	redis := redistest.Start(t)
	api := tgfake.New(t)
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_REDIS_URL": redis.URL()}
	short := func(c *daemon.Config) { c.ShutdownTimeout = 2 * time.Second }
	// Discord runs beside Telegram, on a gateway that will drop.
	gw := discordfake.New(t, discordfake.Options{})
	withDiscord := func(c *daemon.Config) {
		cl, err := discord.New(discord.Config{Token: discordfake.Token, APIURL: discordAPIURL, HTTPClient: gw.Client()})
		if err != nil {
			t.Fatal(err)
		}
		c.Connectors = append(c.Connectors, daemon.Connector{Name: "discord-gateway", Source: cl, Platforms: []bot.Platform{cl}})
	}
	const troubled, calm, calm2 = chaosTroubled, -100720, -100730
	vigie := start(t, chaosRules, env, short, withDiscord)

	// scams are the messages of the calm groups that must be deleted once each.
	scams := map[string]bool{}
	scam := func(chat int64, user int64) {
		m := groupMessage(chat, user, "Eve", "FREE NITRO on example.com")
		scams[fmt.Sprintf("%d/%d", chat, m["message"].(map[string]any)["message_id"])] = true
		api.Push(m)
	}
	deleted := func(chat int64) int { return len(find(api, "deleteMessage", "chat_id", strconv.FormatInt(chat, 10))) }
	waitScam := func(what string, chat int64, want int) {
		t.Helper()
		sent := time.Now()
		testsync.Eventually(t, what, func() bool { return deleted(chat) >= want })
		t.Logf("%s: the scam in %d was deleted %s after it was sent", what, chat, time.Since(sent).Round(time.Millisecond))
	}
	raid := func(n int) {
		for i := range n {
			api.Push(groupMessage(troubled, int64(2000+i%4), "Raider", "raid "+strconv.Itoa(i)))
		}
	}

	storms := []struct {
		name    string
		trouble func(method string, p url.Values) (int, string, bool)
	}{
		{"429 storm", func(method string, p url.Values) (int, string, bool) {
			if p.Get("chat_id") == strconv.Itoa(troubled) {
				return 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3","parameters":{"retry_after":3}}`, false
			}
			return 0, "", false
		}},
		{"5xx storm", func(method string, p url.Values) (int, string, bool) {
			if p.Get("chat_id") == strconv.Itoa(troubled) {
				return 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, false
			}
			return 0, "", false
		}},
		{"hung API", func(method string, p url.Values) (int, string, bool) {
			return 0, "", p.Get("chat_id") == strconv.Itoa(troubled)
		}},
	}
	want := 0
	for _, s := range storms {
		api.SetTrouble(s.trouble)
		raid(24)
		scam(calm, 7)
		want++
		waitScam("during a "+s.name+" in another group", calm, want)
	}
	api.SetTrouble(nil)

	// The Discord gateway drops: vigie says it is not ready, and Telegram is
	// moderated as before; the gateway comes back, and so does readiness.
	testsync.Eventually(t, "ready with discord connected", func() bool { return ready(t, vigie).code == http.StatusOK })
	gw.SetDown(true)
	testsync.Eventually(t, "not ready while the gateway is down", func() bool {
		rd := ready(t, vigie)
		return rd.code == http.StatusServiceUnavailable && len(rd.Reasons) > 0 && strings.HasPrefix(rd.Reasons[0], "discord")
	})
	scam(calm2, 10)
	waitScam("with the Discord gateway down", calm2, 1)
	gw.SetDown(false)
	testsync.Eventually(t, "ready after the gateway came back", func() bool { return ready(t, vigie).code == http.StatusOK })

	// Redis goes away: moderation goes on from memory; and comes back, empty.
	redis.Stop()
	scam(calm2, 8)
	waitScam("with Redis down", calm2, 2)
	redis.Restart()
	scam(calm2, 9)
	waitScam("after Redis came back", calm2, 3)

	// vigie stops; the night goes by: a calm member writes once a minute, a
	// scam comes in. The next vigie is handed the whole backlog at once.
	if err := vigie.stop(); err != nil {
		t.Logf("first vigie stopped with: %v", err) // the hung calls were cut: they are cases
	}
	api.Release()
	night := time.Now().Add(-2 * time.Hour)
	for i := range 100 {
		api.Push(datedMessage(calm, 11, "Calm", "good night "+strconv.Itoa(i), night.Add(time.Duration(i)*time.Minute)))
	}
	scam(calm, 12)
	want++
	second := start(t, chaosRules, env, short, withDiscord)
	waitScam("after a restart with a backlog", calm, want)
	testsync.Eventually(t, "the backlog read", func() bool { return api.UpdatesLeft() == 0 })
	// The raiders' actions are carried out one member at a time, after the
	// backlog is read: the stop comes once they are, not while they still
	// run (a stop cuts what is left of them short, for the next start).
	testsync.Eventually(t, "every raid message flagged deleted or made a case", func() bool {
		flagged, undone := raidLeft(vigie, second)
		return flagged > 0 && len(undone) == 0
	})
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}

	// Nothing acted on twice, nothing lost, no false flood.
	for key := range scams {
		chat, id, _ := cut(key)
		n := 0
		for _, p := range find(api, "deleteMessage", "chat_id", chat) {
			if p.Get("message_id") == id {
				n++
			}
		}
		if n != 1 {
			t.Errorf("scam %s deleted %d times, want once", key, n)
		}
	}
	for _, m := range []string{"restrictChatMember", "sendMessage"} {
		for _, p := range find(api, m, "chat_id", strconv.Itoa(calm)) {
			t.Errorf("%s in the calm group: %v", m, p)
		}
	}
	flagged, undone := raidLeft(vigie, second)
	for _, id := range undone {
		t.Errorf("raid message %s was flagged, then neither deleted nor made a case", id)
	}
	if flagged == 0 {
		t.Error("no raid message was flagged")
	}
	t.Logf("raid in the troubled group: %d messages flagged, each deleted or a case", flagged)
}

// raidLeft reads the logs of TestChaos's vigies: how many messages of its
// troubled group were flagged, and those of them neither deleted nor made
// a case.
func raidLeft(vigies ...*instance) (flagged int, undone []string) {
	var logs string
	for _, v := range vigies {
		logs += v.logs.String()
	}
	done := map[string]bool{}
	for _, m := range caseOpened.FindAllStringSubmatch(logs, -1) {
		done[m[1]] = true
	}
	for _, m := range deleteDone.FindAllStringSubmatch(logs, -1) {
		done[m[1]] = true
	}
	prefix := "telegram:" + strconv.Itoa(chaosTroubled) + ":"
	for _, m := range verdictLine.FindAllStringSubmatch(logs, -1) {
		if strings.HasPrefix(m[1], prefix) {
			flagged++
			if !done[m[1]] {
				undone = append(undone, m[1])
			}
		}
	}
	return flagged, undone
}

var (
	verdictLine = regexp.MustCompile(`msg=verdict event=(\S+) `)
	deleteDone  = regexp.MustCompile(`msg="action done" event=(\S+) action=delete`)
)

func cut(key string) (string, string, bool) {
	for i := range key {
		if key[i] == '/' {
			return key[:i], key[i+1:], true
		}
	}
	return key, "", false
}
