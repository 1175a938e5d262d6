package discord

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
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
	f := newFakeDiscord(t)
	in := newInstances(t, f, 2)
	a, b := in[0], in[1]
	ctx := context.Background()
	run(t, f, b.c, make(chan bot.Event, 10), allPerms)

	const author = "1600"
	ev := bot.Event{ID: "1601", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: author, Name: "Bob"}, Text: "free nitro on https://scam.example/gift"}
	c, _ := openCarded(t, a, b, ev, "scam")
	posts := f.Count("POST", "/channels/"+deskID+"/messages")

	f.Fail("PUT", "/guilds/"+guildID+"/bans/"+author, http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	by := "discord:" + mod.id
	if _, err := a.mod.Decide(ctx, c.ID, "ban", by); err == nil {
		t.Fatal("a ban Discord refused decided as done")
	}
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
