package telegram

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/store"
)

// TestRefusedDecisionsCaseInWords: a CM's ban that Telegram refuses (vigie
// lacks the right) opens a case for the ban left to do, whose card on the
// desk says in a CM's words what was not carried out, by whom, and why, as
// the decided case's card says it. Before, that card showed the raw error:
// "case …: ban by telegram:43 not carried out: ban: telegram banChatMember: …".
func TestRefusedDecisionsCaseInWords(t *testing.T) {
	r := newRefusedBan(t, 41, "91", "scam")
	f, a, b, ev, c := r.f, r.a, r.b, r.ev, r.c
	ctx := context.Background()
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
	words := "ban by " + refusedBanBy + " on case " + c.ID + " not carried out: Telegram refused: vigie lacks the Ban users right in this group"
	a.mod.FlushCases(ctx)
	card := f.waitFor("sendMessage", 1, func(m apiCall) bool {
		return inChat(deskChat.id)(m) && strings.Contains(m.Params.Get("text"), "Case "+left.ID)
	}).Params.Get("text")
	if !strings.Contains(card, words) || strings.Contains(card, "banChatMember") {
		t.Errorf("the card of the ban left to do:\n%s\nwant it to say %q, without Telegram's raw error", card, words)
	}
}
