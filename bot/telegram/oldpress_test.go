package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// queryTooOld is what Telegram answers a press's answer a few seconds late.
const queryTooOld = "Bad Request: query is too old and response timeout expired or query ID is invalid"

// TestFinalAnswerToAnOldPress: a CM's press waited in the updates while
// vigie was stopped, and its final word (here: the button is no longer
// valid, nothing done) comes after Telegram stopped taking answers to it.
// The CM is told in the desk chat instead, answering the card. A stranger's
// press is not: their refusal stays in the log. Before, the CM's button
// spun, stopped, and nothing said that nothing was done.
func TestFinalAnswerToAnOldPress(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	run(t, c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)
	card := map[string]any{"message_id": 77, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case c-1"}

	f.fail("answerCallbackQuery", 400, queryTooOld, 0)
	f.push(callback("cb-old-cm", alice, card, "v1:c-1:bogus"))
	told := f.waitFor("sendMessage", 1, inChat(deskChat.id))
	if got := told.Params.Get("text"); !strings.Contains(got, "Alice") || !strings.Contains(got, "this button is no longer valid") {
		t.Errorf("told %q", got)
	}

	f.fail("answerCallbackQuery", 400, queryTooOld, 0)
	f.push(callback("cb-old-stranger", mallory, card, "v1:c-1:ban"))
	f.waitFor("answerCallbackQuery", 1, func(a apiCall) bool { return a.Params.Get("callback_query_id") == "cb-old-stranger" })
	// The CM's next press is told after the stranger's would have been.
	f.fail("answerCallbackQuery", 400, queryTooOld, 0)
	f.push(callback("cb-old-cm-2", alice, card, "v1:c-2:bogus"))
	f.waitFor("sendMessage", 2, inChat(deskChat.id))
	for _, m := range f.callsOf("sendMessage") {
		if strings.Contains(m.Params.Get("text"), "only the community managers") {
			t.Errorf("a stranger's refusal said in the desk chat: %q", m.Params.Get("text"))
		}
	}
}
