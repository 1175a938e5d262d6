package telegram

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A CM's command in a desk chat that Telegram's limits leave no room in
// before the command's time is up (a raid's cards took the chat's twenty
// messages a minute) is answered in the CM's private chat at once, saying
// why, rather than not at all. (The answer once waited for the desk chat
// past the command's time, and was lost: only the log said "cannot answer
// a command".)
func TestCommandAnsweredInPrivateWhenTheDeskChatIsFull(t *testing.T) {
	// One message a minute in a group: the desk chat is full after one.
	w := newStrangerWorld(t, limits{perChatGap: time.Millisecond, groupPerMinute: 1, globalPerSecond: 1000})
	first := w.say(deskChat, alice, "/status")
	w.f.waitFor("sendMessage", 1, func(c apiCall) bool {
		return strings.Contains(c.Params.Get("reply_parameters"), `"message_id":`+strconv.Itoa(first)+`}`)
	})
	w.say(deskChat, alice, "/help")
	told := w.f.waitFor("sendMessage", 1, inChat(alice.id))
	if text := told.Params.Get("text"); !strings.Contains(text, "vigie's desk commands") || !strings.Contains(text, "limit") {
		t.Errorf("told in private:\n%s\nwant the answer, and why it comes here", text)
	}
	if n := w.f.count("sendMessage", inChat(deskChat.id)); n != 1 {
		t.Errorf("%d messages in the desk chat, want the first answer only", n)
	}
}

// Telegram answers a command's answer 429 with retry_after: the answer is
// sent again once that time is over, in the desk chat when it fits in the
// command's time, in the CM's private chat when it does not. (It was once
// not sent again: the CM got nothing.)
func TestCommandAnswerAfterA429(t *testing.T) {
	for _, tt := range []struct {
		name       string
		retryAfter int
		chat       int64
	}{
		{"in the desk chat after a short wait", 1, deskChat.id},
		{"in private after a long one", 60, alice.id},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newStrangerWorld(t, limits{perChatGap: time.Millisecond, groupPerMinute: 1000, globalPerSecond: 1000})
			w.f.fail("sendMessage", 429, "Too Many Requests: retry after "+strconv.Itoa(tt.retryAfter), tt.retryAfter)
			w.say(deskChat, alice, "/help")
			told := w.f.waitFor("sendMessage", 2, func(apiCall) bool { return true })
			if chat := told.Params.Get("chat_id"); chat != strconv.FormatInt(tt.chat, 10) || !strings.Contains(told.Params.Get("text"), "vigie's desk commands") {
				t.Errorf("told in %s:\n%s\nwant the answer in %d", chat, told.Params.Get("text"), tt.chat)
			}
		})
	}
}

// What a press comes to, when it is more than the card shows (a case the
// store does not know, already decided, not carried out), is told in the
// CM's private chat when the desk chat is at Telegram's limit, rather than
// lost. (It once waited for the desk chat past its time, and was lost.)
func TestPressToldInPrivateWhenTheDeskChatIsFull(t *testing.T) {
	w := newStrangerWorld(t, limits{perChatGap: time.Millisecond, groupPerMinute: 1, globalPerSecond: 1000})
	w.say(deskChat, alice, "/status")
	w.f.waitFor("sendMessage", 1, inChat(deskChat.id))
	card := message(deskChat, 7, tgUser{id: botUserID, first: "vigie", bot: true}, time.Now().Unix(), "Case c-zzzzz-000009")
	w.f.push(callback("cb-1", alice, card, "v1:c-zzzzz-000009:keep"))
	told := w.f.waitFor("sendMessage", 1, inChat(alice.id))
	if text := told.Params.Get("text"); !strings.Contains(text, "c-zzzzz-000009") || !strings.Contains(text, "limit") {
		t.Errorf("told in private:\n%s\nwant what the press came to, and why it comes here", text)
	}
}

// /queue's cards in a desk chat that Telegram's limits leave no room in
// go to the CM's private chat once the chat is full, saying why there,
// as the answers to the other commands do: every card reaches the CM.
// (They once waited for the desk chat past the command's time, and the CM
// was only told, in private, to send /queue again: which the same limit
// held back.)
func TestQueueCardsInPrivateWhenTheDeskChatIsFull(t *testing.T) {
	f := newFakeBotAPI(t)
	c, _ := newTestClient(t, f, Config{DeskChat: deskChat.id, CMs: []string{"telegram:42"}, Chats: fixtureChats})
	// Two messages a minute in a group: the count and the first card.
	c.limiter = newLimiter(limits{perChatGap: time.Millisecond, groupPerMinute: 2, globalPerSecond: 1000}, time.Now)
	c.Desk(newCaseBook(sampleCard("q1", at(t0)), sampleCard("q2", at(t0+1)), sampleCard("q3", at(t0+2))))
	run(t, c, make(chan bot.Event, 10))
	cards := func(chat int64) int {
		return f.count("sendMessage", func(call apiCall) bool {
			return inChat(chat)(call) && strings.HasPrefix(call.Params.Get("text"), "<b>Case ")
		})
	}
	f.push(map[string]any{"message": message(deskChat, 40, alice, t0+10, "/queue")})
	testsync.Eventually(t, "the three cards posted", func() bool { return cards(deskChat.id)+cards(alice.id) == 3 })
	if got := cards(deskChat.id); got != 1 {
		t.Errorf("%d cards in the desk chat, want the one its limit left room for", got)
	}
	note := f.waitFor("sendMessage", 1, func(call apiCall) bool {
		return inChat(alice.id)(call) && !strings.HasPrefix(call.Params.Get("text"), "<b>Case ")
	})
	if text := note.Params.Get("text"); !strings.Contains(text, "limit") || !strings.Contains(text, "2 card(s)") {
		t.Errorf("told in private:\n%s\nwant why the 2 cards left come here", text)
	}
}
