package telegram

import (
	"fmt"
	"html"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestPressForACaseVigieDoesNotKnow: a CM presses a button of a card whose
// case the store does not know (forgotten after 90 days, or from before the
// store was emptied, or another vigie's with a store of its own). Nothing
// is done, the CM is told why in words, and the card's buttons are taken
// off, so that it is not pressed for nothing again; the reply button too.
// Before, the CM read "Could not decide case c-…: case c-…: not found" and
// the buttons stayed.
func TestPressForACaseVigieDoesNotKnow(t *testing.T) {
	f := newFakeBotAPI(t)
	b := newInstances(t, f, 1)[0]
	run(t, b.c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)

	for n, button := range []string{"ban", "reply"} {
		t.Run(button, func(t *testing.T) {
			caseID := fmt.Sprintf("c-zzzzz-00000%d", n+1)
			msg := 9000 + n
			card := map[string]any{"message_id": msg, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "Case " + caseID}
			f.push(callback(fmt.Sprint("cb-unknown-", n), alice, card, "v1:"+caseID+":"+button))
			told := f.waitFor("sendMessage", 1, func(m apiCall) bool {
				return inChat(deskChat.id)(m) && strings.Contains(m.Params.Get("text"), caseID)
			})
			if got := html.UnescapeString(told.Params.Get("text")); !strings.Contains(got, "nothing was done: vigie does not know case "+caseID) || !strings.Contains(got, "/queue lists the open cases. The card's buttons are taken off.") {
				t.Errorf("told %q", got)
			}
			drop := f.waitFor("editMessageReplyMarkup", 1, func(m apiCall) bool { return m.Params.Get("message_id") == strconv.Itoa(msg) })
			if drop.Params.Get("chat_id") != strconv.FormatInt(deskChat.id, 10) || drop.Params.Get("reply_markup") != "" {
				t.Errorf("buttons taken off with %v", drop.Params)
			}
		})
	}
	if n := f.count("banChatMember", nil); n != 0 {
		t.Errorf("%d bans for a case vigie does not know", n)
	}
}
