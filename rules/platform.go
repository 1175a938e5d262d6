package rules

import (
	"fmt"

	"github.com/vigie-bot/vigie/bot"
)

// CheckPlatform returns one warning per rule and action that p cannot carry out
// (hide on Discord, say). Such actions are skipped at run time, not errors.
func (rs *Ruleset) CheckPlatform(p bot.Platform) []Problem {
	var out []Problem
	for _, o := range rs.actors() {
		seen := map[bot.ActionKind]bool{}
		for _, a := range o.actions {
			if seen[a.kind] || bot.Capable(p, a.kind) {
				continue
			}
			seen[a.kind] = true
			out = append(out, Problem{File: rs.File, Line: a.at.Line, Col: a.at.Col,
				Msg: fmt.Sprintf("%s: %s cannot %s; the action is skipped there", o.what, p.Name(), a.kind)})
		}
	}
	return out
}

// actor is a rule or an alert with the actions it does.
type actor struct {
	// name is the rule's name, or alert: and the alert's (AlertMatchPrefix);
	// what names it in messages: rule "flood", alert "copy-wave".
	name, what string
	actions    []action
}

// actors are the rules, then the alerts that act on the place, in file order.
func (rs *Ruleset) actors() []actor {
	out := make([]actor, 0, len(rs.rules))
	for _, r := range rs.rules {
		out = append(out, actor{name: r.name, what: fmt.Sprintf("rule %q", r.name), actions: r.actions})
	}
	if rs.alerts != nil {
		for _, a := range rs.alerts.alerts {
			if len(a.place) > 0 {
				out = append(out, actor{name: AlertMatchPrefix + a.name, what: fmt.Sprintf("alert %q", a.name), actions: a.place})
			}
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
	for _, r := range rs.actors() {
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
