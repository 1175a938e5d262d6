package telegram

import (
	"context"
	"fmt"
	"net/url"
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
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}})
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
// first maxDeskWork of them, their card edits held by f until f.Release:
// every desk worker is busy when it returns. It returns the messages
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
	for n := range maxDeskWork {
		id := fmt.Sprintf("b%d", n)
		f.push(callback("q-"+id, alice, cards[id], "v1:"+id+":delete"))
	}
	testsync.Eventually(t, "every desk worker busy", func() bool { return c.work.Busy() == maxDeskWork })
	return cards
}
