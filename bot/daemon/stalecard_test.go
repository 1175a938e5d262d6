package daemon_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// TestPressOnATelegramCardOlderThanItsCase: vigie, on the memory store,
// posts the card of Eve's scam and is restarted; Frank's scam, after, may get
// the same case id (the memory store numbers cases from c-000001 again). A CM
// pressing Ban, or Reply, on Eve's card of the night before, or answering a
// reply prompt of the night before, must not act on Frank; nor must a press
// on a card Telegram gives no date of. A press on Frank's own card bans him.
func TestPressOnATelegramCardOlderThanItsCase(t *testing.T) {
	api := tgfake.New(t)
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL}
	const group, desk = -100200, -100500
	cardOf := func(who string) (id string, msg int) {
		t.Helper()
		var call tgfake.Call
		testsync.Eventually(t, who+"'s card", func() bool {
			for _, c := range api.CallsOf("sendMessage") {
				if c.Params.Get("chat_id") == strconv.Itoa(desk) && strings.Contains(c.Params.Get("text"), who) &&
					strings.Contains(c.Params.Get("reply_markup"), "callback_data") {
					call = c
					return true
				}
			}
			return false
		})
		f := strings.Fields(call.Params.Get("text")) // <b>Case c-000001</b> ·
		if len(f) < 2 {
			t.Fatalf("card %q", call.Params.Get("text"))
		}
		return strings.TrimSuffix(f[1], "</b>"), call.MsgID
	}
	first := start(t, telegramRules, env)
	api.Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	eveCase, eveCard := cardOf("Eve")
	// Telegram hands over no update twice once confirmed: the next
	// instance sees only Frank's.
	testsync.Eventually(t, "Eve's update confirmed", func() bool { return api.UpdatesLeft() == 0 })
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	second := start(t, telegramRules, env)
	api.Push(groupMessage(group, 9, "Frank", "free nitro for all"))
	frankCase, frankCard := cardOf("Frank")
	if frankCase != eveCase {
		t.Logf("case ids did not start again: %s, then %s", eveCase, frankCase)
	}

	lastNight := time.Now().Add(-6 * time.Hour).Unix()
	ann := map[string]any{"id": 42, "is_bot": false, "first_name": "Ann"}
	press := func(id string, card int, date int64, data string) {
		api.Push(map[string]any{"callback_query": map[string]any{
			"id": id, "data": data, "chat_instance": "x", "from": ann,
			"message": map[string]any{"message_id": card, "date": date, "chat": map[string]any{"id": desk, "type": "supergroup"}},
		}})
	}
	// told is what vigie answered on the desk to message msg.
	told := func(msg int, want string) string {
		t.Helper()
		var text string
		testsync.Eventually(t, fmt.Sprintf("the answer to message %d saying %q", msg, want), func() bool {
			for _, c := range api.CallsOf("sendMessage") {
				var r struct {
					MessageID int `json:"message_id"`
				}
				_ = json.Unmarshal([]byte(c.Params.Get("reply_parameters")), &r)
				if r.MessageID == msg && strings.Contains(c.Params.Get("text"), want) {
					text = c.Params.Get("text")
					return true
				}
			}
			return false
		})
		return text
	}
	stale, staleReply := "another case that had the same id", "could not answer the author of case "+eveCase
	if frankCase != eveCase {
		stale = "vigie does not know case " + eveCase
		staleReply = stale
	}

	// Ban on Eve's card names Frank's case.
	press("cb-old-ban", eveCard, lastNight, "v1:"+eveCase+":ban")
	told(eveCard, stale)
	// Reply on it: no prompt, since the answer would go to Frank.
	press("cb-old-reply", eveCard, lastNight, "v1:"+eveCase+":reply")
	told(eveCard, staleReply)
	if n := len(find(api, "sendMessage", "text", "answer this message with the text to send")); n != 0 {
		t.Errorf("%d reply prompts for a card of another case", n)
	}
	// An answer to a reply prompt of the night before.
	api.Push(map[string]any{"message": map[string]any{
		"message_id": 7001, "date": time.Now().Unix(), "text": "please stop",
		"chat": map[string]any{"id": desk, "type": "supergroup"}, "from": ann,
		"reply_to_message": map[string]any{"message_id": 7000, "date": lastNight,
			"chat": map[string]any{"id": desk, "type": "supergroup"},
			"from": map[string]any{"id": tgfake.BotUserID, "is_bot": true, "first_name": "vigie"},
			"text": "✍️ Ann, answer this message with the text to send.\nCase: " + eveCase},
	}})
	told(7001, stale)
	// A card Telegram no longer shows the bot: date 0.
	press("cb-undated", frankCard, 0, "v1:"+frankCase+":ban")
	testsync.Eventually(t, "the answer to the undated card", func() bool {
		return len(find(api, "answerCallbackQuery", "text", "Telegram no longer shows vigie this card")) == 1
	})

	if n := len(find(api, "banChatMember", "user_id", "9")); n != 0 {
		t.Errorf("%d bans of Frank from cards of another case", n)
	}
	if n := len(find(api, "sendMessage", "text", "please stop")); n != 0 {
		t.Errorf("the answer to another case's prompt was sent %d times", n)
	}
	if _, open := openCases(t, second)["free nitro for all"]; !open {
		t.Errorf("Frank's case was decided from another case's card: %v", openCases(t, second))
	}

	// Frank's own card decides his case.
	press("cb-own", frankCard, time.Now().Unix(), "v1:"+frankCase+":ban")
	testsync.Eventually(t, "Frank's ban", func() bool { return len(find(api, "banChatMember", "user_id", "9")) == 1 })
	if n := len(find(api, "banChatMember", "user_id", "8")); n != 0 {
		t.Errorf("%d bans of Eve, whose case no one decided", n)
	}
}
