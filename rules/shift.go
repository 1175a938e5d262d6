package rules

import (
	"strings"

	"github.com/vigie-bot/vigie/bot"
)

// officeActions is what a rule with office: forward does in office hours: the CMs
// are there, so what it would do to the message becomes one forward to the desk
// that says so; its alerts still go out, its strike waits for the CMs' decision.
func officeActions(acts []bot.Action) []bot.Action {
	var would []string
	var reason string
	var out []bot.Action
	for _, a := range acts {
		switch a.Kind {
		case bot.ActForward:
			reason = a.Text
		case bot.ActAlert:
			out = append(out, a)
		case bot.ActStrike:
		default:
			would = append(would, a.String())
		}
	}
	text := "office hours"
	if len(would) > 0 {
		text += ": would " + strings.Join(would, ", ")
	}
	if reason != "" {
		text = reason + " (" + text + ")"
	}
	return append([]bot.Action{{Kind: bot.ActForward, Text: text}}, out...)
}
