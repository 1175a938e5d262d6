package daemon_test

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// raidForum is the forum group TestTelegramRaidWhileTelegramPushesBack is
// raided in, and raidTopics its three topics.
const raidForum = -100600

var raidTopics = []int{11, 12, 13}

// raidJoin is raider n's arrival in the forum: a chat_member update for the
// even ones, a service message with new_chat_members for the odd ones, as
// Telegram sends either.
func raidJoin(n int) map[string]any {
	user := map[string]any{"id": raiderID(n), "is_bot": false, "first_name": fmt.Sprint("Promo", n)}
	chat := map[string]any{"id": raidForum, "type": "supergroup", "title": "Fans", "is_forum": true}
	if n%2 == 0 {
		return map[string]any{"chat_member": map[string]any{
			"chat": chat, "from": user, "date": time.Now().Unix(),
			"old_chat_member": map[string]any{"user": user, "status": "left"},
			"new_chat_member": map[string]any{"user": user, "status": "member"},
		}}
	}
	msgID++
	return map[string]any{"message": map[string]any{
		"message_id": msgID, "date": time.Now().Unix(), "chat": chat, "from": user,
		"new_chat_members": []any{user},
	}}
}

func raiderID(n int) int64 { return int64(70000 + n) }

// raidScam is raider n's scam in one of the forum's topics, and its message
// id: the same scam and its variants, as text, as a photo's caption, and
// behind a text_link whose words show another site.
func raidScam(n int) (map[string]any, int) {
	topic := raidTopics[n%len(raidTopics)]
	m := namedMessage(raidForum, "Fans", raiderID(n), fmt.Sprint("Promo", n), "", "", topic, fmt.Sprint("Topic ", topic))
	msg := m["message"].(map[string]any)
	switch n % 3 {
	case 0:
		msg["text"] = fmt.Sprintf("FREE NITRO for everyone, claim it now https://claim-nitro.sbs/gift?r=%d", n)
	case 1:
		delete(msg, "text")
		msg["caption"] = fmt.Sprintf("Free gift for the first 100: claim it here https://claim-nitro.sbs/gift/%d", n)
		msg["photo"] = []any{map[string]any{"file_id": "p", "file_unique_id": fmt.Sprint("pu", n), "width": 90, "height": 90}}
	default:
		msg["text"] = "log in on the official Discord site to get your badge"
		msg["entities"] = []any{map[string]any{"type": "text_link", "offset": 13, "length": 21, "url": "https://dіscord.gift/login"}}
	}
	return m, msg["message_id"].(int)
}

// TestTelegramRaidWhileTelegramPushesBack: eighty fresh accounts join a
// forum group at night and post the same scam and its variants in three
// topics, with the starter pack, while Telegram pushes back as it does:
// 429s with retry_after on deleteMessage, restrictChatMember and
// sendMessage, the desk group's twenty messages a minute, another poller's
// 409s, 502 and 504 from a proxy, and a long poll cut mid-answer. Every
// scam is deleted once, every raider muted once, no update is judged
// twice, the desk gets one card for the raid in each topic, no call comes
// before the retry_after Telegram asked, and /healthz says what went on.
// It runs on the memory store and on a real Redis.
func TestTelegramRaidWhileTelegramPushesBack(t *testing.T) {
	t.Run("memory", func(t *testing.T) { raidWhilePushedBack(t, nil) })
	t.Run("redis", func(t *testing.T) {
		raidWhilePushedBack(t, map[string]string{"VIGIE_REDIS_URL": redistest.Start(t).URL()})
	})
}

func raidWhilePushedBack(t *testing.T, env map[string]string) {
	api := tgfake.New(t)
	api.LimitGroups(20)
	api.SetAdmins(raidForum, 1)
	config, err := filepath.Abs("../../rules.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The rule file reads the desk's chat from the process's environment.
	t.Setenv("VIGIE_DESK_CHAT", "-100500")
	env = maps.Clone(env)
	if env == nil {
		env = map[string]string{}
	}
	env["TELEGRAM_TOKEN"], env["TELEGRAM_API_URL"], env["TELEGRAM_CHATS"] = tgfake.Token, api.HTTP.URL, strconv.Itoa(raidForum)
	in := start(t, "", env,
		func(c *daemon.Config) { c.ConfigPath = config })
	testsync.Eventually(t, "vigie polling", func() bool { return len(api.CallsOf("getUpdates")) >= 1 })

	// Telegram pushes back from the first calls of the raid.
	api.Fail("deleteMessage", 429, "Too Many Requests: retry after 3", 3)
	api.Fail("restrictChatMember", 429, "Too Many Requests: retry after 2", 2)
	api.Fail("sendMessage", 429, "Too Many Requests: retry after 4", 4)
	api.ProxyFail("deleteMessage", 504, 0)
	api.ProxyFail("getUpdates", 502, 0)

	began := time.Now()
	scams := map[int]int{} // message id → raider
	wave := func(from, to int) {
		for n := from; n < to; n++ {
			api.Push(raidJoin(n))
			m, id := raidScam(n)
			scams[id] = n
			api.Push(m)
		}
	}
	wave(0, 27)
	// Another program polls with the token for a while: 409s.
	stopOther := api.AnotherPoller()
	wave(27, 54)
	// /healthz says Telegram is degraded while the other poller takes
	// the updates, and why.
	testsync.Eventually(t, "/healthz naming the other poller", func() bool {
		var h health
		in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
		return slices.ContainsFunc(h.Degraded, func(d string) bool {
			return strings.HasPrefix(d, "telegram: ") && strings.Contains(d, "Conflict: terminated by other getUpdates request")
		})
	})
	stopOther()
	// The network cuts a long poll mid-answer.
	api.CutPoll()
	wave(54, 80)

	deleted := func() int {
		n := 0
		for _, c := range api.CallsOf("deleteMessage") {
			if c.Failed == 0 {
				n++
			}
		}
		return n
	}
	testsync.Eventually(t, "every scam deleted", func() bool { return deleted() >= len(scams) })
	testsync.Eventually(t, "every update confirmed", func() bool { return api.UpdatesLeft() == 0 })
	testsync.Eventually(t, "every raider muted", func() bool {
		n := 0
		for _, c := range api.CallsOf("restrictChatMember") {
			if c.Failed == 0 {
				n++
			}
		}
		return n >= 80
	})
	cleared := time.Since(began)

	// Every scam deleted exactly once.
	byMsg := map[string]int{}
	for _, c := range api.CallsOf("deleteMessage") {
		if c.Failed == 0 {
			byMsg[c.Params.Get("message_id")]++
		}
	}
	for id := range scams {
		if n := byMsg[strconv.Itoa(id)]; n != 1 {
			t.Errorf("scam %d deleted %d times, want once", id, n)
		}
	}
	// Every raider muted once.
	byUser := map[string]int{}
	for _, c := range api.CallsOf("restrictChatMember") {
		if c.Failed == 0 {
			byUser[c.Params.Get("user_id")]++
		}
	}
	for n := range 80 {
		if got := byUser[strconv.FormatInt(raiderID(n), 10)]; got != 1 {
			t.Errorf("raider %d muted %d times, want once", n, got)
		}
	}
	if n := len(api.CallsOf("banChatMember")); n != 0 {
		t.Errorf("%d bans, the starter pack bans nobody here", n)
	}
	// No update judged twice.
	verdicts := map[string]int{}
	for _, m := range regexp.MustCompile(`msg=verdict event=(\S+) `).FindAllStringSubmatch(in.logs.String(), -1) {
		verdicts[m[1]]++
	}
	for id := range scams {
		key := fmt.Sprintf("telegram:%d:%d", raidForum, id)
		if verdicts[key] != 1 {
			t.Errorf("scam %s judged %d times, want once", key, verdicts[key])
		}
	}
	for k, n := range verdicts {
		if n > 1 {
			t.Errorf("%s judged %d times", k, n)
		}
	}
	// retry_after honoured: nothing of the same method to the same chat
	// before the time Telegram asked to wait.
	calls := append(append(api.CallsOf("deleteMessage"), api.CallsOf("restrictChatMember")...), api.CallsOf("sendMessage")...)
	for _, limited := range calls {
		if limited.Failed != 429 {
			continue
		}
		until := limited.At.Add(time.Duration(limited.RetryAfter) * time.Second)
		for _, c := range calls {
			if c.Method == limited.Method && c.Params.Get("chat_id") == limited.Params.Get("chat_id") &&
				c.At.After(limited.At) && c.At.Before(until) {
				t.Errorf("%s to %s %s after a 429 asking to wait %ds", c.Method, c.Params.Get("chat_id"),
					c.At.Sub(limited.At).Round(time.Millisecond), limited.RetryAfter)
			}
		}
	}
	// The desk: a card for the first cases of the raid, then its hits
	// join the last (store.GroupAuthors), not a card per raider. The one
	// opened while its actions waited out a 429 (early, holding them) is
	// grouped with none: one more.
	opened := func() map[string]bool {
		ids := map[string]bool{}
		for _, m := range regexp.MustCompile(`msg="case opened" case=(\S+) `).FindAllStringSubmatch(in.logs.String(), -1) {
			ids[m[1]] = true
		}
		return ids
	}
	carded := func() map[string]bool {
		ids := map[string]bool{}
		for _, c := range api.CallsOf("sendMessage") {
			if c.Failed == 0 && c.Params.Get("chat_id") == "-100500" {
				if m := regexp.MustCompile(`^<b>Case (\S+)</b>`).FindStringSubmatch(c.Params.Get("text")); m != nil {
					ids[m[1]] = true
				}
			}
		}
		return ids
	}
	testsync.Eventually(t, "every case on the desk", func() bool {
		want := opened()
		got := carded()
		for id := range want {
			if !got[id] {
				return false
			}
		}
		return len(want) > 0
	})
	// The cards, as last shown, count every scam once: the raid's case
	// says how many it grouped, not how many it had when it was posted.
	shown := func() int {
		texts := map[string]string{} // by message id
		for _, c := range api.CallsOf("sendMessage") {
			if c.Failed == 0 && c.Params.Get("chat_id") == "-100500" {
				texts[strconv.Itoa(c.MsgID)] = c.Params.Get("text")
			}
		}
		for _, c := range api.CallsOf("editMessageText") {
			if c.Failed == 0 && c.Params.Get("chat_id") == "-100500" {
				texts[c.Params.Get("message_id")] = c.Params.Get("text")
			}
		}
		n := 0
		for _, text := range texts {
			if !strings.HasPrefix(text, "<b>Case ") {
				continue
			}
			n++
			if m := regexp.MustCompile(`\(and (\d+) more`).FindStringSubmatch(text); m != nil {
				more, _ := strconv.Atoi(m[1])
				n += more
			}
		}
		return n
	}
	testsync.Eventually(t, "the desk counting every scam", func() bool { return shown() == len(scams) })
	if n := len(opened()); n > store.GroupAuthors+1 {
		t.Errorf("%d cases for a raid of 80 in one group, want %d at most", n, store.GroupAuthors+1)
	}
	if n := len(find(api, "sendMessage", "chat_id", strconv.Itoa(raidForum))); n != 0 {
		t.Errorf("%d messages in the raided group, want none (the raiders are muted, not warned)", n)
	}
	desk := find(api, "sendMessage", "chat_id", "-100500")
	for _, c := range desk {
		t.Logf("desk: %.100q", c.Get("text"))
	}

	// /healthz: Telegram no longer degraded once vigie polled alone again.
	var after health
	in.do(t, "GET", "/healthz", nil, nil).json(t, &after)
	if after.Status != "ok" || slices.ContainsFunc(after.Degraded, func(d string) bool { return strings.HasPrefix(d, "telegram") }) {
		t.Errorf("/healthz after the raid = %+v, want ok with telegram not degraded", after)
	}

	tooMany := 0
	for _, c := range calls {
		if c.Failed == 429 {
			tooMany++
		}
	}
	t.Logf("raid of 80 (160 updates) cleared in %s: %d deletes, %d mutes, %d setChatPermissions, %d cases, %d desk messages, "+
		"%d calls to the Bot API (%d getUpdates), %d answered 429, %d 409s",
		cleared.Round(time.Millisecond), deleted(), len(byUser), len(api.CallsOf("setChatPermissions")), len(opened()), len(desk),
		len(api.Methods()), len(api.CallsOf("getUpdates")), tooMany, api.Conflicts())
}

// health is /healthz's answer.
type health struct {
	Status   string
	Degraded []string
}
