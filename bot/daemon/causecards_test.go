package daemon_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const causeRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
`

// TestRefusedDeletesShareOneCard: vigie lost the right to delete in a
// Telegram group during a raid, and Telegram refuses each delete for good
// (400 "message can't be deleted"). Six scams are six cases, each open in
// the queue with what its rule wanted, but one card on the desk chat, the
// first one's, edited to count them and name the others: not six cards at
// the desk chat's twenty messages a minute.
func TestRefusedDeletesShareOneCard(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, causeRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	api.Push(groupMessage(tgGroup, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return metricsHave(t, in, `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "deleteMessage" && p.Get("chat_id") == strconv.Itoa(tgGroup) {
			return http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: message can't be deleted"}`, false
		}
		return 0, "", false
	})
	const raid = 6
	for i := range raid {
		api.Push(groupMessage(tgGroup, int64(70+i), "Raider"+strconv.Itoa(i), "FREE NITRO "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "a case for each scam", func() bool {
		n := 0
		for text := range openCases(t, in) {
			if strings.HasPrefix(text, "FREE NITRO") {
				n++
			}
		}
		return n == raid
	})
	testsync.Eventually(t, "the card counting the six", func() bool {
		for _, p := range find(api, "editMessageText", "chat_id", strconv.Itoa(tgDesk)) {
			if strings.Contains(p.Get("text"), "delete failed "+strconv.Itoa(raid)+" times") {
				return true
			}
		}
		return false
	})
	if cards := deskCards(api, "FREE NITRO"); len(cards) != 1 {
		t.Errorf("%d cards on the desk for %d deletes refused alike, want one:\n%s", len(cards), raid, strings.Join(cards, "\n---\n"))
	}
	var last string
	for _, p := range find(api, "editMessageText", "chat_id", strconv.Itoa(tgDesk)) {
		last = p.Get("text")
	}
	for _, want := range []string{"message can&#39;t be deleted", "Raider5", "Raider1", "/queue"} {
		if !strings.Contains(last, want) {
			t.Errorf("the cause's card does not say %q:\n%s", want, last)
		}
	}
}
