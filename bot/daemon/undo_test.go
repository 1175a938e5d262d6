package daemon_test

import (
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const banRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [ban, forward("scam")]
`

// TestFailedBanOffersNoUnban: Telegram answers 500 to banChatMember, so the
// ban of a scam that a rule forwards fails. Its card is on the desk while the
// ban is being tried, then edited (editMessageText) to say the ban was not
// done; both offer Ban, not Unban: there is nobody to unban. Once
// Telegram answers, the next scam's ban is carried out and its card offers
// Unban. The record of what was not done is in Redis: a vigie started again
// on it still says so.
func TestFailedBanOffersNoUnban(t *testing.T) {
	redisURL := redistest.URL(t)
	prefix := fmt.Sprintf("vigietest-undo-%d-%d", os.Getpid(), time.Now().UnixNano())
	api := tgfake.New(t)
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"VIGIE_REDIS_URL": redisURL, "VIGIE_REDIS_PREFIX": prefix,
		// Its poller starts 3.6s after it found no lease, not 18s.
		"VIGIE_LEASE_TTL": "3s", "VIGIE_LEASE_TTL_MAX": "3s"}
	in := start(t, banRules, env)
	card := func(text string) url.Values {
		t.Helper()
		var got url.Values
		testsync.Eventually(t, "the card of "+text, func() bool {
			cards := find(api, "sendMessage", "text", text)
			for _, c := range cards {
				if c.Get("chat_id") == strconv.Itoa(tgDesk) {
					got = c
				}
			}
			return got != nil
		})
		return got
	}

	api.SetTrouble(func(method string, _ url.Values) (int, string, bool) {
		if method == "banChatMember" {
			return 500, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, false
		}
		return 0, "", false
	})
	api.Push(groupMessage(tgGroup, 10, "Eve", "FREE NITRO one"))
	// The card is posted while the ban is being tried, then edited once it
	// failed.
	trying := card("FREE NITRO one")
	if kb := trying.Get("reply_markup"); strings.Contains(kb, ":unban") || !strings.Contains(kb, `:ban"`) {
		t.Errorf("the card of a ban being tried: buttons %s, want Ban and no Unban", kb)
	}
	if text := trying.Get("text"); !strings.Contains(text, "Suggested: ban (being tried)") {
		t.Errorf("the card of a ban being tried does not say so:\n%s", text)
	}
	var failed url.Values
	testsync.Eventually(t, "the card of the ban that failed", func() bool {
		for _, c := range find(api, "editMessageText", "text", "FREE NITRO one") {
			failed = c
		}
		return failed != nil
	})
	if kb := failed.Get("reply_markup"); strings.Contains(kb, ":unban") || !strings.Contains(kb, `:ban"`) {
		t.Errorf("the card of a ban that failed: buttons %s, want Ban and no Unban", kb)
	}
	if text := failed.Get("text"); !strings.Contains(text, "Suggested: ban (not done)") || !strings.Contains(text, "action failed: ") {
		t.Errorf("the card of a ban that failed does not say it was not done:\n%s", text)
	}

	api.SetTrouble(nil)
	api.Push(groupMessage(tgGroup, 11, "Mal", "FREE NITRO two"))
	done := card("FREE NITRO two")
	if kb := done.Get("reply_markup"); !strings.Contains(kb, ":unban") {
		t.Errorf("the card of a ban carried out: buttons %s, want Unban", kb)
	}
	if text := done.Get("text"); !strings.Contains(text, "Suggested: ban\n") {
		t.Errorf("the card of a ban carried out:\n%s", text)
	}

	// Another vigie on the same Redis reads what was not done.
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
	again := start(t, banRules, env)
	var r struct {
		Cases []struct {
			Event   struct{ Text string }
			NotDone []struct{ Kind string } `json:"not_done"`
		}
	}
	again.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &r)
	notDone := map[string]string{}
	for _, c := range r.Cases {
		var kinds []string
		for _, a := range c.NotDone {
			kinds = append(kinds, a.Kind)
		}
		notDone[c.Event.Text] = strings.Join(kinds, ",")
	}
	if len(notDone) != 2 || notDone["FREE NITRO one"] != "ban" || notDone["FREE NITRO two"] != "" {
		t.Errorf("after a restart, the open cases' actions not done = %q, want ban for the first and none for the second", notDone)
	}
}
