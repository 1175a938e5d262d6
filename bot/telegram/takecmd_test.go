package telegram

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// senderFlood is a desk with DeskAdmins whose workers are all busy (their
// decisions held), where Carol is an administrator of the desk chat and
// Mallory a member only: whether either may decide is known once a worker
// asks Telegram.
func senderFlood(t *testing.T) (f *fakeBotAPI, c *Client, book *caseBook, cards map[string]map[string]any, logs *testsync.Buffer) {
	t.Helper()
	f = newFakeBotAPI(t)
	f.setAdmins(deskChat.id, carol.id)
	c, logs = newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, DeskAdmins: true, Chats: fixtureChats})
	book = newCaseBook()
	desk := c.Desk(book)
	run(t, c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)
	cards = holdWorkers(t, f, c, desk, book, 2)
	return f, c, book, cards, logs
}

// TestOnePresserHoldsFewPlaces: a member of the desk chat who is not one of
// its administrators presses a card 100 times while every worker is busy.
// They hold maxPerSender places; each press beyond is answered at once "too
// busy" and audited; an administrator's press still gets a place, and is
// carried out once the workers are free. The flooder's presses are refused
// by the workers, as ever.
func TestOnePresserHoldsFewPlaces(t *testing.T) {
	f, _, book, cards, logs := senderFlood(t)
	flooded, carols := fmt.Sprintf("b%d", maxDeskWork), fmt.Sprintf("b%d", maxDeskWork+1)
	const presses = 100
	for n := range presses {
		f.push(callback(fmt.Sprintf("q-m%d", n), mallory, cards[flooded], "v1:"+flooded+":ban"))
	}
	f.push(callback("q-carol", carol, cards[carols], "v1:"+carols+":keep"))

	// Carol's press comes after the flood on the updates' loop.
	a := f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-carol" })
	if got := a.Params.Get("text"); got != pressWait {
		t.Fatalf("the desk admin's press after %d of a member's answered %q, want %q", presses, got, pressWait)
	}
	turnedAway := func() int {
		return strings.Count(logs.String(), `msg="desk: a press not done, this sender has too many waiting" platform=telegram audit=true user=telegram:666`)
	}
	testsync.Eventually(t, "the member's presses beyond their places audited", func() bool { return turnedAway() == presses-maxPerSender })
	mallorys := func(want string) int {
		return f.count("answerCallbackQuery", func(c apiCall) bool {
			return strings.HasPrefix(c.Params.Get("callback_query_id"), "q-m") && c.Params.Get("text") == want
		})
	}
	testsync.Eventually(t, "the member's presses placed answered", func() bool { return mallorys(pressWait) == maxPerSender })
	if n := mallorys("vigie is too busy: nothing was done. Press again in a moment."); n == 0 {
		t.Errorf("none of the member's presses turned away was answered")
	}

	f.Release()
	testsync.Eventually(t, "the desk admin's press carried out", func() bool { return book.get(carols).DecidedBy == "telegram:8" })
	testsync.Eventually(t, "the member's presses refused by the workers", func() bool {
		return strings.Count(logs.String(), "desk: refused a stranger") >= maxPerSender
	})
	if got := book.get(flooded); got.Decided() {
		t.Errorf("the member's press carried out: %+v", got)
	}
	if n := mallorys(pressWait); n != maxPerSender {
		t.Errorf("%d of the member's presses took a place, want %d", n, maxPerSender)
	}
}

// TestOneSenderHoldsFewCommandPlaces: the same with commands: a member of the
// desk chat sends /status more times than the line has places while every
// worker is busy; an administrator's /status still gets a place and is
// answered once the workers are free.
func TestOneSenderHoldsFewCommandPlaces(t *testing.T) {
	f, _, _, _, logs := senderFlood(t)
	sends := maxCommandsWaiting + 8
	for n := range sends {
		f.push(map[string]any{"message": message(deskChat, 7000+n, mallory, t0+int64(n), "/status")})
	}
	f.push(map[string]any{"message": message(deskChat, 8000, carol, t0+int64(sends), "/status")})
	// The workers are freed once the loop dealt with the flood: Carol's
	// command, after it, found no place if the member held them all.
	testsync.Eventually(t, "the flood taken or turned away", func() bool {
		return strings.Contains(logs.String(), "audit=true user=telegram:8") || f.count("sendMessage", answering(deskChat, 8000)) > 0 ||
			strings.Count(logs.String(), "user=telegram:666") >= sends-maxPerSender
	})
	f.Release()
	got := f.waitFor("sendMessage", 1, answering(deskChat, 8000)).Params.Get("text")
	if strings.Contains(got, "too busy") || strings.Contains(got, "Sorry") {
		t.Errorf("the desk admin's /status after %d of a member's answered %q", sends, got)
	}
	if n := strings.Count(logs.String(), `msg="desk: a command not done, this sender has too many waiting" platform=telegram audit=true user=telegram:666`); n != sends-maxPerSender {
		t.Errorf("%d of the member's commands turned away audited, want %d\n%s", n, sends-maxPerSender, logs)
	}
}
