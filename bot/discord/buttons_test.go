package discord

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
)

// An FAQ case's card has a button that sends the suggested answer; another
// case's has none.
func TestFAQAnswerButton(t *testing.T) {
	card := bot.Card{ID: "c-000001", Rule: "faq:hours", Suggested: []bot.Action{{Kind: bot.ActReply, Text: "9h-19h"}}}
	ids := func(card bot.Card) []string {
		var out []string
		for _, row := range buttons(card) {
			for _, c := range row.(discordgo.ActionsRow).Components {
				out = append(out, c.(discordgo.Button).CustomID)
			}
		}
		return out
	}
	got := ids(card)
	if len(got) != 5 || got[4] != "vigie:v1:c-000001:answer" {
		t.Errorf("faq card's buttons %q", got)
	}
	card.Rule = "insult"
	if got := ids(card); len(got) != 4 {
		t.Errorf("another card's buttons %q", got)
	}
	if d, ok := buttonOutcomes["answer"]; !ok || d.Outcome != bot.OutcomeAnswer {
		t.Errorf("the answer button decides %+v", d)
	}
}
