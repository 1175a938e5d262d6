package telegram

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Telegram spins a pressed button until the press is answered, and refuses
// an answer that comes some seconds late. With every desk worker busy (card
// edits Telegram is slow to take), a press is still answered at once: before
// any of the busy work is done, as the fake sees it, with no clock. Its work
// is done once a worker is free.
func TestPressAnsweredWhileWorkersBusy(t *testing.T) {
	x := newDeskFixture(t)
	cards := holdWorkers(t, x.f, x.c, x.desk, x.book, 1)

	last := fmt.Sprintf("b%d", maxDeskWork)
	x.f.push(callback("q-"+last, alice, cards[last], "v1:"+last+":keep"))
	a := x.f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-"+last })
	if a.Params.Get("text") != pressWait {
		t.Errorf("answer = %q", a.Params.Get("text"))
	}
	// None of the busy work was done: none told its presser how it went.
	if n := x.f.count("sendMessage", func(c apiCall) bool { return c.Params.Get("reply_parameters") != "" }); n != 0 {
		t.Errorf("%d presses told how they went before the last press was answered: the busy work was not busy", n)
	}
	if got := x.book.get(last); got.Decided() {
		t.Errorf("the last press decided while every worker was busy: %+v", got)
	}

	x.f.Release()
	testsync.Eventually(t, "the last press decided", func() bool { return x.book.get(last).Outcome == "keep" })
	// The busy presses were decided, but their cards could not be edited:
	// each presser is told.
	for n := range maxDeskWork {
		id := fmt.Sprintf("b%d", n)
		toldOn(x.f, cards[id], "done: 🗑 Deleted.")
	}
}

// A press answered while every worker is busy, when vigie stops before a
// worker is free: the CM is told nothing was done, rather than left with a
// toast and no outcome. The work under way is carried out.
func TestPressAnsweredThenStopped(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	book := newCaseBook()
	desk := c.Desk(book)
	stop := run(t, c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)
	cards := holdWorkers(t, f, c, desk, book, 1)
	last := fmt.Sprintf("b%d", maxDeskWork)
	f.push(callback("q-"+last, alice, cards[last], "v1:"+last+":keep"))
	f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == "q-"+last })

	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	toldOn(f, cards[last], "vigie is stopping: nothing was done.")
	if got := book.get(last); got.Decided() {
		t.Errorf("decided after all: %+v", got)
	}
	f.Release()
	<-stopped
	for n := range maxDeskWork {
		if got := book.get(fmt.Sprintf("b%d", n)); got.Outcome != "delete" {
			t.Errorf("press under way not carried out: %+v", got)
		}
	}
}

// holdWorkers posts maxDeskWork+extra cards (each in book) and presses the
// first maxDeskWork of them, their decisions and card edits held until
// f.Release: every desk worker is busy when it returns. It returns the messages
// Telegram made of the cards, by case id (b0, b1...).
func holdWorkers(t *testing.T, f *fakeBotAPI, c *Client, desk *Desk, book *caseBook, extra int) map[string]map[string]any {
	t.Helper()
	cards := map[string]map[string]any{}
	for n := range maxDeskWork + extra {
		id := fmt.Sprintf("b%d", n)
		book.mu.Lock()
		book.cards[id] = sampleCard(id, at(t0))
		book.mu.Unlock()
		sent := f.count("sendMessage", inChat(deskChat.id))
		if err := desk.PostCard(context.Background(), sampleCard(id, at(t0))); err != nil {
			t.Fatal(err)
		}
		msg := f.waitFor("sendMessage", sent+1, inChat(deskChat.id))
		cards[id] = map[string]any{"message_id": msg.MsgID, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "card"}
	}
	f.SetTrouble(func(method string, _ url.Values) (int, string, bool) { return 0, "", method == "editMessageText" })
	// The card edits alone would free the workers after the five seconds a
	// report is given (reportContext), which a loaded machine may take to
	// flood the desk: the decisions wait too, for as long as the test needs.
	busy := make([]string, maxDeskWork)
	for n := range busy {
		busy[n] = fmt.Sprintf("b%d", n)
	}
	release := book.holdDecisions(busy...)
	f.onRelease(release)
	t.Cleanup(f.Release)
	for n := range maxDeskWork {
		id := fmt.Sprintf("b%d", n)
		f.push(callback("q-"+id, alice, cards[id], "v1:"+id+":delete"))
	}
	testsync.Eventually(t, "every desk worker busy", func() bool { return c.work.Busy() == maxDeskWork })
	return cards
}

// The presses waiting for a worker are bounded: with every worker busy and
// maxPressesWaiting presses waiting, one more is not done: it is answered
// at once, so that the button does not spin, and audited. A stranger's
// press is refused as ever, taking no place. The groups' messages still
// reach the rules, and the presses waiting are all carried out once the
// workers are free.
func TestPressesWaitingAreBounded(t *testing.T) {
	f, c, out, _, logs := busyDesk(t)
	book := c.cmds().(*caseBook)
	cards := map[string]map[string]any{}
	for n := range maxPressesWaiting + 1 {
		id := fmt.Sprintf("w%d", n)
		book.mu.Lock()
		book.cards[id] = sampleCard(id, at(t0))
		book.mu.Unlock()
		cards[id] = map[string]any{"message_id": 5000 + n, "from": vigieUser.json(), "chat": deskChat.json(), "date": t0, "text": "card"}
	}
	answer := func(q string) apiCall {
		return f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == q })
	}
	for n := range maxPressesWaiting {
		id := fmt.Sprintf("w%d", n)
		f.push(callback("q-"+id, alice, cards[id], "v1:"+id+":keep"))
		if got := answer("q-" + id).Params.Get("text"); got != pressWait {
			t.Fatalf("press %s answered %q", id, got)
		}
	}
	last := fmt.Sprintf("w%d", maxPressesWaiting)
	f.push(callback("q-"+last, alice, cards[last], "v1:"+last+":keep"))
	f.push(callback("q-stranger", mallory, cards[last], "v1:"+last+":ban"))
	f.push(map[string]any{"message": message(group, 901, bob, t0, "hello after the presses")})

	busy := answer("q-" + last)
	if got, want := busy.Params.Get("text"), "vigie is too busy: nothing was done. Press again in a moment."; got != want || busy.Params.Get("show_alert") != "true" {
		t.Errorf("one press too many answered %q (alert %s), want %q in a dialog", got, busy.Params.Get("show_alert"), want)
	}
	if !strings.Contains(logs.String(), `msg="desk: a press not done, too many waiting for a worker" platform=telegram audit=true user=telegram:42 chat=`+itoa(deskChat.id)+` button=v1:`+last+`:keep`) {
		t.Errorf("the press turned down is not audited:\n%s", logs)
	}
	if got := answer("q-stranger").Params.Get("text"); !strings.Contains(got, "only the community managers") {
		t.Errorf("a stranger's press answered %q, want a refusal", got)
	}
	if ev := testsync.Next(t, out); ev.Text != "hello after the presses" {
		t.Errorf("event %q, want the group message", ev.Text)
	}
	if n := f.count("sendMessage", pressTold); n != 0 || c.work.Busy() != maxDeskWork {
		t.Fatalf("the last press was answered only once busy work was done: %d presses told how they went, %d workers busy", n, c.work.Busy())
	}

	f.Release()
	for n := range maxPressesWaiting {
		id := fmt.Sprintf("w%d", n)
		testsync.Eventually(t, "press "+id+" decided", func() bool { return book.get(id).Outcome == "keep" })
	}
	if got := book.get(last); got.Decided() {
		t.Errorf("the press turned down was carried out: %+v", got)
	}
}
