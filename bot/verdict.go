package bot

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// ActionKind names something a rule can ask for in its do: list.
type ActionKind string

// The actions of the rule file's do: lists.
const (
	ActDelete  ActionKind = "delete"
	ActHide    ActionKind = "hide"
	ActReply   ActionKind = "reply"
	ActWarn    ActionKind = "warn"
	ActTimeout ActionKind = "timeout"
	ActKick    ActionKind = "kick"
	ActBan     ActionKind = "ban"
	ActStrike  ActionKind = "strike"
	ActForward ActionKind = "forward"
	ActAlert   ActionKind = "alert"
	ActTag     ActionKind = "tag"
)

// ActionKinds lists every action in the order the README documents them.
var ActionKinds = []ActionKind{ActDelete, ActHide, ActReply, ActWarn, ActTimeout,
	ActKick, ActBan, ActStrike, ActForward, ActAlert, ActTag}

// Action is one step of a verdict. Text is already expanded ({{author.name}} done).
type Action struct {
	Kind     ActionKind    `json:"kind"`
	Text     string        `json:"text,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
}

// String renders the action as it is written in the rule file: timeout(10m).
func (a Action) String() string {
	switch {
	case a.Text != "":
		return fmt.Sprintf("%s(%q)", a.Kind, a.Text)
	case a.Duration > 0:
		return fmt.Sprintf("%s(%s)", a.Kind, FormatDuration(a.Duration))
	default:
		return string(a.Kind)
	}
}

// FormatDuration writes a duration the way a CM would: 10m, 1h30m, 7d.
func FormatDuration(d time.Duration) string {
	if d >= 24*time.Hour && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// Match is one rule that matched an event.
type Match struct {
	Rule     string   `json:"rule"`
	Category string   `json:"category,omitempty"`
	Actions  []Action `json:"actions"`
	// Shadow rules report what they would do; their actions are never carried out.
	Shadow bool `json:"shadow,omitempty"`
	// Reason says in plain words why the rule matched.
	Reason string `json:"reason"`
}

// Verdict is the engine's answer for one event.
type Verdict struct {
	EventID  string    `json:"event_id"`
	Platform string    `json:"platform"`
	At       time.Time `json:"at"`
	// Duplicate is true when the event was already seen (a webhook retry): nothing
	// was counted and no rule ran.
	Duplicate bool    `json:"duplicate,omitempty"`
	Matches   []Match `json:"matches"`
	// Counters holds the values the rules saw, by counter name.
	Counters map[string]int64 `json:"counters,omitempty"`
	// Withheld, when set, says why the verdict's platform actions were not
	// carried out (an event posted over HTTP about a platform whose own
	// connector is on); its cases and alerts still were.
	Withheld string `json:"withheld,omitempty"`
}

// WithoutPlatformActions is v with only the actions that do not touch the
// platform: forward, alert and strike.
func (v Verdict) WithoutPlatformActions() Verdict {
	out := v
	out.Matches = make([]Match, len(v.Matches))
	for i, m := range v.Matches {
		m.Actions = slices.DeleteFunc(slices.Clone(m.Actions), func(a Action) bool {
			return a.Kind != ActForward && a.Kind != ActAlert && a.Kind != ActStrike
		})
		out.Matches[i] = m
	}
	return out
}

// Flagged reports whether any rule matched, shadow rules included.
func (v Verdict) Flagged() bool { return len(v.Matches) > 0 }

// Actions returns the actions to carry out: those of enforced rules, in file order.
// Each kind comes once, except texts that differ (two different replies stay two);
// when two rules time out or ban, the heavier sanction is kept (a ban without a
// duration is permanent).
func (v Verdict) Actions() []Action {
	var out []Action
	for _, m := range v.Matches {
		if m.Shadow {
			continue
		}
		for _, a := range m.Actions {
			out = mergeAction(out, a)
		}
	}
	return out
}

func mergeAction(list []Action, a Action) []Action {
	for i, b := range list {
		if b.Kind != a.Kind {
			continue
		}
		switch a.Kind {
		case ActReply, ActWarn, ActAlert, ActTag, ActForward:
			if b.Text == a.Text {
				return list
			}
		case ActTimeout:
			list[i].Duration = max(b.Duration, a.Duration)
			return list
		case ActBan:
			if b.Duration != 0 && (a.Duration == 0 || a.Duration > b.Duration) {
				list[i].Duration = a.Duration
			}
			return list
		default:
			return list
		}
	}
	return append(list, a)
}

// Categories returns the categories of the matched rules, shadow included, once each.
func (v Verdict) Categories() []string {
	var out []string
	for _, m := range v.Matches {
		if m.Category == "" {
			continue
		}
		seen := false
		for _, c := range out {
			if c == m.Category {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, m.Category)
		}
	}
	return out
}
