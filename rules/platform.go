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

// Skipped is an action kind a platform does not have, with the rules that ask
// for it, in file order.
type Skipped struct {
	Kind  bot.ActionKind
	Rules []string
}

// SkippedOn groups CheckPlatform's findings by action: what p will skip, and
// for which rules. A comment page has no timeout whoever wrote the file, so the
// daemon says it once per platform rather than once per rule.
func (rs *Ruleset) SkippedOn(p bot.Platform) []Skipped {
	var out []Skipped
	index := map[bot.ActionKind]int{}
	for _, r := range rs.rules {
		for _, a := range r.actions {
			if bot.Capable(p, a.kind) {
				continue
			}
			i, ok := index[a.kind]
			if !ok {
				i = len(out)
				index[a.kind] = i
				out = append(out, Skipped{Kind: a.kind})
			}
			if rs := out[i].Rules; len(rs) == 0 || rs[len(rs)-1] != r.name {
				out[i].Rules = append(out[i].Rules, r.name)
			}
		}
	}
	return out
}
