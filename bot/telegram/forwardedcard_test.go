package telegram

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestForwardedCardIsNotADesk: a card forwarded out of the desk chat keeps
// its buttons, and Telegram sends their presses to vigie from wherever the
// copy is. A press there is not carried out, a CM's no more than anyone's:
// the copy is dated by its forward (after a restart with the memory store,
// yesterday's card forwarded today would pass for today's case of the same
// id, another member's), vigie cannot show the outcome on it, and it may sit
// in a chat of strangers. The presser is asked to decide on the desk's card
// or from /queue, and the attempt is logged with audit=true; the card in
// the desk chat still decides.
func TestForwardedCardIsNotADesk(t *testing.T) {
	x := newDeskFixture(t, sampleCard("f1", at(t0)))
	card := x.postCard(t, sampleCard("f1", at(t0)))
	private := tgChat{id: alice.id, kind: "private"}
	copyOf := func(chat tgChat) map[string]any {
		return map[string]any{
			"message_id": 900, "from": alice.json(), "chat": chat.json(), "date": t0 + 3600, "text": card["text"],
			"forward_origin": map[string]any{"type": "user", "sender_user": vigieUser.json(), "date": t0},
		}
	}
	answer := func(id string) apiCall {
		return x.f.waitFor("answerCallbackQuery", 1, func(c apiCall) bool { return c.Params.Get("callback_query_id") == id })
	}

	x.f.push(callback("fw1", alice, copyOf(private), "v1:f1:ban"))
	if a := answer("fw1"); !strings.Contains(a.Params.Get("text"), "forwarded copy") || a.Params.Get("show_alert") != "true" {
		t.Errorf("a CM's press on a forwarded card answered %q (alert %s), want the copy refused", a.Params.Get("text"), a.Params.Get("show_alert"))
	}
	x.f.push(callback("fw2", mallory, copyOf(group), "v1:f1:ban"))
	if a := answer("fw2"); !strings.Contains(a.Params.Get("text"), "Sorry") {
		t.Errorf("a stranger's press on a forwarded card answered %q", a.Params.Get("text"))
	}
	// The desk's own card decides, and the case was not banned meanwhile.
	x.f.push(callback("fw3", alice, card, "v1:f1:keep"))
	answer("fw3")
	x.f.waitFor("editMessageText", 1, inChat(deskChat.id))
	if got := x.book.get("f1"); got.Outcome != bot.OutcomeKeep {
		t.Errorf("case = %s by %s, want kept from the desk's card", got.Outcome, got.DecidedBy)
	}
	if n := x.f.count("editMessageText", inChat(private.id)); n != 0 {
		t.Errorf("vigie tried to edit the copy %d times", n)
	}
	logs := x.logs.String()
	if !strings.Contains(logs, "forwarded copy") || !strings.Contains(logs, "user=telegram:42") || !strings.Contains(logs, "audit=true") {
		t.Errorf("the CM's press on the copy is not in the audit log:\n%s", logs)
	}
}
