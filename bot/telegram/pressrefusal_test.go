package telegram

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// With TELEGRAM_DESK_ADMINS, any member of the desk chat may press a card's
// buttons and wait for Telegram's answer on whether they are an
// administrator. A member who is not, pressing again and again, is told in
// the desk chat once per 10 minutes, as a stranger's commands are: each
// refusal would otherwise be one more message in the desk chat, taking the
// twenty a minute Telegram lets vigie post there, which the cards need.
func TestRefusedPressesToldOnce(t *testing.T) {
	d := newCardOnDesk(t, true)
	f, c, logs, book, card := d.f, d.c, d.logs, d.book, d.card
	const presses = 5
	for i := range presses {
		f.push(callback(fmt.Sprintf("q-%d", i), mallory, card, "v1:a1:ban"))
		f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == fmt.Sprintf("q-%d", i) })
		testsync.Eventually(t, "the press refused", func() bool {
			return strings.Count(logs.String(), `msg="desk: refused a stranger"`) == i+1 && c.work.Busy() == 0
		})
	}
	told := f.count("sendMessage", func(c apiCall) bool {
		return c.Params.Get("chat_id") == itoa(deskChat.id) && strings.Contains(c.Params.Get("text"), "only the community managers")
	})
	if told != 1 {
		t.Errorf("the desk chat told %d times of %d refused presses, want once", told, presses)
	}
	if got := book.get("a1"); got.DecidedBy != "" {
		t.Errorf("decided by %q", got.DecidedBy)
	}
}
