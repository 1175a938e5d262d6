package discord

import (
	"strings"
	"testing"
	"time"

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
	if d, ok := bot.ButtonDecision("answer"); !ok || d.Outcome != bot.OutcomeAnswer {
		t.Errorf("the answer button decides %+v", d)
	}
}

// A case's card offers to undo only what vigie carried out: a hide, timeout
// or ban that failed is offered to do (a page comment's card hides rather
// than deletes), never to undo; each button stands for a decision.
func TestUndoOnlyWhatWasDone(t *testing.T) {
	ids := func(card bot.Card) []string {
		var out []string
		for _, row := range buttons(card) {
			for _, c := range row.(discordgo.ActionsRow).Components {
				out = append(out, c.(discordgo.Button).CustomID[len("vigie:v1:c-000001:"):])
			}
		}
		return out
	}
	hide, timeout, ban := bot.Action{Kind: bot.ActHide}, bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute}, bot.Action{Kind: bot.ActBan}
	comment := bot.Event{Platform: "facebook", Kind: bot.KindComment}
	for _, tt := range []struct {
		name    string
		ev      bot.Event
		sugg    []bot.Action
		notDone []bot.Action
		want    string
		offers  []bot.ActionKind // nil: every button
	}{
		{"a message, nothing done", bot.Event{Platform: "discord"}, nil, nil, "keep delete mute ban", nil},
		{"timeout and ban done", bot.Event{Platform: "discord"}, []bot.Action{timeout, ban}, nil, "keep delete mute ban unmute unban", nil},
		{"the timeout failed", bot.Event{Platform: "discord"}, []bot.Action{timeout, ban}, []bot.Action{timeout}, "keep delete mute ban unban", nil},
		{"both held", bot.Event{Platform: "discord"}, []bot.Action{timeout, ban}, []bot.Action{timeout, ban}, "keep delete mute ban", nil},
		{"a comment hidden", comment, []bot.Action{hide}, nil, "keep hide mute ban unhide", nil},
		{"a comment whose hide failed", comment, []bot.Action{hide}, []bot.Action{hide}, "keep hide mute ban", nil},
		// what the case's platform can do on the message, as the handlers say
		{"a Messenger message", bot.Event{Platform: "facebook", Kind: bot.KindDM}, nil, nil, "keep ban",
			[]bot.ActionKind{"keep", bot.ActBan, bot.ActReply, "unban"}},
		{"an Instagram comment hidden", bot.Event{Platform: "instagram", Kind: bot.KindComment}, []bot.Action{hide, ban}, []bot.Action{ban}, "keep hide unhide",
			[]bot.ActionKind{"keep", bot.ActDelete, bot.ActHide, bot.ActReply, "unhide"}},
		{"a message that can be hidden, not deleted", bot.Event{Platform: "x", Kind: bot.KindMessage}, nil, nil, "keep hide",
			[]bot.ActionKind{"keep", bot.ActHide}},
		{"a platform that is off", bot.Event{Platform: "x"}, []bot.Action{timeout}, nil, "keep", []bot.ActionKind{"keep"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ids(bot.Card{ID: "c-000001", Rule: "insult", Event: tt.ev, Suggested: tt.sugg, NotDone: tt.notDone, Offers: tt.offers})
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("buttons %q, want %q", s, tt.want)
			}
			for _, b := range got {
				if _, ok := bot.ButtonDecision(b); !ok {
					t.Errorf("button %q decides nothing", b)
				}
			}
		})
	}
}
