package daemon_test

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// caseOpened finds the events that opened a case or were added to one, with
// their rule, in the daemon's logs.
var caseOpened = regexp.MustCompile(`msg="(?:case opened|hit added to a case)" case=\S+ event=(\S+) rule=(\S+)`)

const laneRules = `timezone: UTC
rules:
  - name: raid
    category: raid
    when: 'text startsWith "raid"'
    do: [delete, 'warn("Please stop")']
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`

// A place whose Bot API is hung, or answers 429 to everything, delays no other
// place: while a raid fills the first group's lane, a scam in another group is
// judged and deleted. The wait is logged, not asserted: before lanes, four shared
// workers held the scam behind the raid's actions for minutes.
func TestOnePlaceNeverStallsAnother(t *testing.T) {
	const raided, calm = -100300, -100400
	for _, tt := range []struct {
		name    string
		trouble func(method string, p url.Values) (int, string, bool)
	}{
		{"hung API", func(method string, p url.Values) (int, string, bool) {
			return 0, "", p.Get("chat_id") == strconv.Itoa(raided) && method != "getChatAdministrators"
		}},
		{"429 storm", func(method string, p url.Values) (int, string, bool) {
			if p.Get("chat_id") == strconv.Itoa(raided) && method != "getChatAdministrators" {
				return 429, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 20","parameters":{"retry_after":20}}`, false
			}
			return 0, "", false
		}},
		{"5xx storm", func(method string, p url.Values) (int, string, bool) {
			if p.Get("chat_id") == strconv.Itoa(raided) && method != "getChatAdministrators" {
				return 502, `{"ok":false,"error_code":502,"description":"Bad Gateway"}`, false
			}
			return 0, "", false
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api := tgfake.New(t)
			api.SetTrouble(tt.trouble)
			in := start(t, laneRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL},
				func(c *daemon.Config) { c.ShutdownTimeout = time.Second })
			for i := range 40 {
				api.Push(groupMessage(raided, int64(1000+i), "Raider", "raid "+strconv.Itoa(i)))
			}
			testsync.Eventually(t, "the raid's first delete", func() bool {
				return len(find(api, "deleteMessage", "chat_id", strconv.Itoa(raided))) > 0
			})
			sent := time.Now()
			api.Push(groupMessage(calm, 7, "Eve", "FREE NITRO here"))
			testsync.Eventually(t, "the scam's delete in the other group", func() bool {
				return len(find(api, "deleteMessage", "chat_id", strconv.Itoa(calm))) == 1
			})
			t.Logf("%s in group %d: the scam in group %d was deleted %s after it was sent", tt.name, raided, calm, time.Since(sent).Round(time.Millisecond))

			// The raid's actions are still stuck when vigie stops: they are cut
			// at the shutdown's deadline and none is lost, each is a case. On a
			// busy machine the cut lanes may still be opening them when the
			// stop's time is up (the error names the lanes left running): the
			// log is read until it holds all 40.
			if err := in.stop(); !drainCut(err) {
				t.Errorf("stop = %v, want the actions cut at the deadline", err)
			}
			raid := "telegram:" + strconv.Itoa(raided) + ":"
			testsync.Eventually(t, "all 40 raid messages cases", func() bool {
				cased := map[string]bool{}
				for _, m := range caseOpened.FindAllStringSubmatch(in.logs.String(), -1) {
					if strings.HasPrefix(m[1], raid) && m[2] == "raid" {
						cased[m[1]] = true
					}
				}
				return len(cased) == 40
			})
		})
	}
}

const backlogRules = `timezone: UTC
counters:
  msgs: {key: author.id, window: 1m}
rules:
  - name: flood
    category: flood
    when: counters.msgs > 3
    do: [delete, timeout(10m), 'warn("Please slow down")']
`

// After a restart, Telegram hands over the updates queued while vigie was away
// all at once. A member who wrote once a minute for two hours last night is not
// a flood: counters run on the messages' own time. A real flood in the backlog
// is still deleted, but its author is neither warned nor timed out for last
// night.
func TestBacklogIsCountedOnItsOwnTime(t *testing.T) {
	api := tgfake.New(t)
	const group = -100600
	night := time.Now().Add(-8 * time.Hour)
	for i := range 120 {
		api.Push(datedMessage(group, 7, "Calm", "message "+strconv.Itoa(i), night.Add(time.Duration(i)*time.Minute)))
	}
	for i := range 5 {
		api.Push(datedMessage(group, 8, "Flooder", "spam "+strconv.Itoa(i), night.Add(time.Duration(i)*time.Second)))
	}
	in := start(t, backlogRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	// Once the Bot API handed every update over, stopping drains them all.
	testsync.Eventually(t, "the whole backlog read", func() bool { return api.UpdatesLeft() == 0 })
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	// The flood's 4th and 5th messages are deleted; one judged before the
	// group's admins were known (the lookup starts with the group's first
	// message; about one run in fifty on one core) is held in a case
	// instead, as vigie does for unknown roles.
	deleted := len(find(api, "deleteMessage", "chat_id", strconv.Itoa(group)))
	held := 0
	for _, m := range caseOpened.FindAllStringSubmatch(in.logs.String(), -1) {
		if m[2] == "flood" {
			held++
		}
	}
	if deleted+held != 2 {
		t.Errorf("%d deletes and %d cases, want the flood's 4th and 5th messages only, deleted (or held while the admins were looked up)", deleted, held)
	}
	for _, m := range []string{"restrictChatMember", "sendMessage"} {
		if got := find(api, m, "chat_id", strconv.Itoa(group)); len(got) != 0 {
			t.Errorf("%s about last night: %v", m, got)
		}
	}
}

func datedMessage(chat, user int64, name, text string, at time.Time) map[string]any {
	m := groupMessage(chat, user, name, text)
	m["message"].(map[string]any)["date"] = at.Unix()
	return m
}
