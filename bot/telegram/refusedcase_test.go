package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// TestRefusedDecisionsCaseInWords: a CM's ban that Telegram refuses (vigie
// lacks the right) opens a case for the ban left to do, whose card on the
// desk says in a CM's words what was not carried out, by whom, and why, as
// the decided case's card says it. Before, that card showed the raw error:
// "case …: ban by telegram:43 not carried out: ban: telegram banChatMember: …".
func TestRefusedDecisionsCaseInWords(t *testing.T) {
	f := newFakeBotAPI(t)
	in := newInstances(t, f, 2)
	a, b := in[0], in[1]
	ctx := context.Background()
	run(t, b.c, make(chan bot.Event, 10))
	f.waitFor("getUpdates", 1, nil)

	ev := groupEvent(41, "91")
	ev.Text = "achetez sur scam.example"
	c, _ := openCarded(t, a, b, ev, "scam")

	f.fail("banChatMember", 400, "Bad Request: not enough rights to restrict/ban chat member", 0)
	if _, err := a.mod.Decide(ctx, c.ID, "ban", "telegram:43"); err == nil {
		t.Fatal("a ban Telegram refused decided as done")
	}
	open, err := b.st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	var left store.Case
	for _, o := range open {
		if o.ID != c.ID && o.Event.ID == ev.ID {
			left = o
		}
	}
	if left.ID == "" {
		t.Fatalf("no case open for the ban left to do: %+v", open)
	}
	words := "ban by telegram:43 on case " + c.ID + " not carried out: Telegram refused: vigie lacks the Ban users right in this group"
	a.mod.FlushCases(ctx)
	card := f.waitFor("sendMessage", 1, func(m apiCall) bool {
		return inChat(deskChat.id)(m) && strings.Contains(m.Params.Get("text"), "Case "+left.ID)
	}).Params.Get("text")
	if !strings.Contains(card, words) || strings.Contains(card, "banChatMember") {
		t.Errorf("the card of the ban left to do:\n%s\nwant it to say %q, without Telegram's raw error", card, words)
	}
}
