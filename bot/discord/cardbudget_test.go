package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
)

// TestNotesAndReasonsCannotCrowdTheDecisionOffADiscordCard: the CMs'
// notes on the author and the case's reasons are written by people too,
// and escaped they may pass Discord's 2,000 characters alone (a reason of
// asterisks, notes of underscores, each twice as long escaped): they share
// the room the card's own lines leave, so that the link to the message and
// the decision stay, with the newest note and each reason begun.
func TestNotesAndReasonsCannotCrowdTheDecisionOffADiscordCard(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	const link = "https://discord.com/channels/1/5/1001"
	for i, tt := range []struct {
		what   string
		reason string
		notes  []string
		edited bool
	}{
		{"a reason of 600 asterisks, three notes of 300 underscores", strings.Repeat("*", 600),
			[]string{strings.Repeat("_", 300), strings.Repeat("_", 300), "discord:9, 2026-12-01: " + strings.Repeat("_", 300)}, false},
		{"three notes of 300 brackets, the message edited", "scam link",
			[]string{strings.Repeat("[", 300), strings.Repeat("]", 300), "discord:9, 2026-12-01: " + strings.Repeat("<", 300)}, true},
		{"a reason of 600 backslashes, a note", strings.Repeat(`\`, 600), []string{"discord:9, 2026-12-01: " + strings.Repeat("|", 300)}, true},
	} {
		ev := bot.Event{ID: fmt.Sprint(1001 + i), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: "5",
			Author: bot.Author{ID: "7", Name: "Eve"}, Text: strings.Repeat("buy now ", 100), Link: link}
		card := bot.Card{ID: fmt.Sprintf("c-%d", i), Rule: "scam", Reason: tt.reason, Notes: tt.notes, Event: ev,
			Suggested: []bot.Action{{Kind: bot.ActDelete}}, Outcome: bot.OutcomeDelete, DecidedBy: "discord:9", DecidedAt: t0}
		if tt.edited {
			card.Edited = &bot.Edited{Edits: 1, Text: strings.Repeat("#", 600), Reason: "scam: " + strings.Repeat("~", 600)}
		}
		content := decidedCard(t, f, desk, fmt.Sprint(1200+i), card, tt.what)
		if !strings.Contains(content, "📝 discord:9, 2026-12-01: ") {
			t.Errorf("%s: the card lost the newest note:\n%s", tt.what, content)
		}
		if testing.Verbose() {
			t.Logf("%s:\n%s", tt.what, content)
		}
		if n := len([]rune(content)); n > maxContent {
			t.Errorf("%s: %d characters", tt.what, n)
		}
	}
}

// decidedCard edits the desk's card msg to card, decided as "🗑 Deleted" by
// discord:9 with the note "Done.", and returns its content as Discord got
// it; the test fails (what names the card) when the card lost its end: the
// link to card's message, the decision, its note.
func decidedCard(t *testing.T, f *discordfake.Server, desk *Desk, msg string, card bot.Card, what string) string {
	t.Helper()
	if err := desk.EditCard(context.Background(), bot.CardRef{Platform: Platform, Chat: deskID, Message: msg}, card, "Done."); err != nil {
		t.Fatalf("%s: EditCard: %v", what, err)
	}
	content := fmt.Sprint(f.WaitFor(t, "PATCH", "/channels/"+deskID+"/messages/"+msg, 1, nil).Body["content"])
	if !strings.Contains(content, "\n"+card.Event.Link+"\n") || !strings.Contains(content, "**🗑 Deleted** — decided by discord:9 at ") ||
		!strings.HasSuffix(content, "\nDone.") {
		t.Errorf("%s: the card lost its link or its decision (%d characters):\n…%s", what, len([]rune(content)), tail(content, 300))
	}
	return content
}
