package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/store"
)

// TestRefusedDecisionsCaseInWords: a moderator's ban that Discord refuses
// (403 Missing Permissions) opens a case for the ban left to do, and that
// case's reason, which its card shows on the desk, says in a CM's words
// what was not carried out, by whom, and why, as the decided case's card
// says it; Discord's own text stays in the log. Before, the reason was the
// raw error: "case …: ban by … not carried out: ban: discord PUT
// /api/v9/guilds/…/bans/…: 403 Missing Permissions (code 50013)".
func TestRefusedDecisionsCaseInWords(t *testing.T) {
	r := newRefusedBan(t, "1600", "1601", "scam")
	f, a, b, ev, c, by := r.f, r.a, r.b, r.ev, r.c, r.by
	ctx := context.Background()
	posts := f.Count("POST", "/channels/"+deskID+"/messages")
	const words = "Discord refused: vigie lacks the Ban Members permission in this server (or its role is below the member's) [discord 50013]"
	want := fmt.Sprintf("ban by %s on case %s not carried out: %s", by, c.ID, words)

	open, err := b.st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	var left []store.Case
	for _, o := range open {
		if o.ID != c.ID && o.Event.ID == ev.ID {
			left = append(left, o)
		}
	}
	if len(left) != 1 {
		t.Fatalf("%d cases open for the ban left to do, want 1: %+v", len(left), left)
	}
	if left[0].Reason != want {
		t.Errorf("the ban left to do has the reason\n %q\nwant\n %q", left[0].Reason, want)
	}

	if logs := a.logs.String(); !strings.Contains(logs, "decision not carried out") || !strings.Contains(logs, "403 Missing Permissions (code 50013)") {
		t.Errorf("Discord's own text of the refusal is not in the log:\n%s", logs)
	}

	a.mod.FlushCases(ctx)
	card := fmt.Sprint(f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", posts+1, nil).Body["content"])
	// the card's markdown escapes the brackets of the code
	if !strings.Contains(card, "Discord refused: vigie lacks the Ban Members permission") || strings.Contains(card, "discord PUT") || strings.Contains(card, "Missing Permissions (code") {
		t.Errorf("the card of the ban left to do:\n%s\nwant it to say the refusal in a CM's words, without Discord's raw text", card)
	}
}
