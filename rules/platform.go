package rules

import (
	"fmt"

	"github.com/vigie-bot/vigie/bot"
)

// CheckPlatform returns one warning per rule and action that p cannot carry out
// (hide on Discord, say). Such actions are skipped at run time, not errors.
func (rs *Ruleset) CheckPlatform(p bot.Platform) []Problem {
	var out []Problem
	for _, r := range rs.rules {
		seen := map[bot.ActionKind]bool{}
		for _, a := range r.actions {
			if seen[a.kind] || bot.Capable(p, a.kind) {
				continue
			}
			seen[a.kind] = true
			out = append(out, Problem{File: rs.File, Line: a.at.Line, Col: a.at.Col,
				Msg: fmt.Sprintf("rule %q: %s cannot %s; the action is skipped there", r.name, p.Name(), a.kind)})
		}
	}
	return out
}
