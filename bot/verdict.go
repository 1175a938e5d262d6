package bot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
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
	// ActLockdown closes the place to newcomers for a while (a raid); the
	// handlers lift it when the time is up.
	ActLockdown ActionKind = "lockdown"
	// ActSlowmode makes members of the channel wait between two messages for
	// a while.
	ActSlowmode ActionKind = "slowmode"
)

// ActionKinds lists every action in the order docs/rules.md documents them.
var ActionKinds = []ActionKind{ActDelete, ActHide, ActReply, ActWarn, ActTimeout,
	ActKick, ActBan, ActStrike, ActForward, ActAlert, ActTag, ActLockdown, ActSlowmode}

// Action is one step of a verdict. Text is already expanded ({{author.name}} done).
type Action struct {
	Kind     ActionKind    `json:"kind"`
	Text     string        `json:"text,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
}

// actionJSON is Action as JSON: the duration written as a CM writes it ("1h",
// "7d"), not in nanoseconds.
type actionJSON struct {
	Kind     ActionKind      `json:"kind"`
	Text     string          `json:"text,omitempty"`
	Duration json.RawMessage `json:"duration,omitempty"`
}

// MarshalJSON writes the duration as a string such as "10m" or "7d". An
// action whose kind and text need no escaping, as most do, is written
// directly: an encoder per action was about a fifteenth of vigie's CPU on the
// Redis store, which encodes every journal entry, audit entry and case.
func (a Action) MarshalJSON() ([]byte, error) {
	if plainJSON(string(a.Kind)) && plainJSON(a.Text) {
		b := make([]byte, 0, 40+len(a.Kind)+len(a.Text))
		b = append(append(append(b, `{"kind":"`...), a.Kind...), '"')
		if a.Text != "" {
			b = append(append(append(b, `,"text":"`...), a.Text...), '"')
		}
		if a.Duration != 0 {
			b = append(append(append(b, `,"duration":"`...), FormatDuration(a.Duration)...), '"')
		}
		return append(b, '}'), nil
	}
	j := actionJSON{Kind: a.Kind, Text: a.Text}
	if a.Duration != 0 {
		j.Duration = strconv.AppendQuote(nil, FormatDuration(a.Duration))
	}
	// Not escaped here: the encoder that called us escapes HTML or not, as
	// it was told.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(j); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// plainJSON says whether s is written in JSON as it is, between quotes, by
// an encoder that does not escape HTML: valid UTF-8 without quotes,
// backslashes, control characters or the line and paragraph separators
// (which encoding/json escapes).
func plainJSON(s string) bool {
	wide := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c == '"' || c == '\\':
			return false
		case c >= 0x80:
			wide = true
		}
	}
	return !wide || utf8.ValidString(s) && !strings.ContainsAny(s, "\u2028\u2029")
}

// UnmarshalJSON reads the duration as MarshalJSON writes it, and as a number
// of nanoseconds, as vigie wrote it before (journal entries and cases kept in
// a store from an older version).
func (a *Action) UnmarshalJSON(b []byte) error {
	var j actionJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*a = Action{Kind: j.Kind, Text: j.Text}
	if len(j.Duration) == 0 || string(j.Duration) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(j.Duration, &s); err != nil {
		var ns int64
		if err := json.Unmarshal(j.Duration, &ns); err != nil {
			return fmt.Errorf("action %s: duration: want a string such as \"1h\" or \"7d\"", j.Kind)
		}
		a.Duration = time.Duration(ns)
		return nil
	}
	d, err := ParseDuration(s)
	if err != nil {
		return fmt.Errorf("action %s: %w", j.Kind, err)
	}
	a.Duration = d
	return nil
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
	var room [32]byte
	return string(AppendDuration(room[:0], d))
}

// AppendDuration appends FormatDuration(d) to dst. A whole number of seconds,
// what a rule's timeouts are, is written without time.Duration.String, which
// makes a string for each: the answer and the verdict's log line write one for
// every timeout of a raid night.
func AppendDuration(dst []byte, d time.Duration) []byte {
	if d <= 0 || d%time.Second != 0 {
		return append(dst, formatDuration(d)...)
	}
	if d%(24*time.Hour) == 0 {
		return append(strconv.AppendInt(dst, int64(d/(24*time.Hour)), 10), 'd')
	}
	secs := int64(d / time.Second)
	h, m, s := secs/3600, secs/60%60, secs%60
	// As Duration.String writes it (1h0m30s), less a trailing 0s after
	// minutes and a trailing 0m after hours.
	if h > 0 {
		dst = append(strconv.AppendInt(dst, h, 10), 'h')
		if m == 0 && s == 0 {
			return dst
		}
	}
	if h > 0 || m > 0 {
		dst = append(strconv.AppendInt(dst, m, 10), 'm')
		if s == 0 {
			return dst
		}
	}
	return append(strconv.AppendInt(dst, s, 10), 's')
}

// formatDuration is FormatDuration through Duration.String, for any duration.
func formatDuration(d time.Duration) string {
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
	Duplicate bool `json:"duplicate,omitempty"`
	// Again is true when the event was seen before, but whoever judged it
	// then stopped before its verdict was journaled (store.Result.Again):
	// it was judged again, nothing counted again. Not part of the JSON: a
	// verdict judged again is answered as any other.
	Again   bool    `json:"-"`
	Matches []Match `json:"matches"`
	// Counters holds the values the rules saw, by counter name.
	Counters map[string]int64 `json:"counters,omitempty"`
	// Withheld, when set, says why the verdict's platform actions were not
	// carried out (an event posted over HTTP about a platform whose own
	// connector is on); its cases and alerts still were.
	Withheld string `json:"withheld,omitempty"`
}

// Unverified reports whether v's event may be forged: it was posted over
// HTTP about a platform whose own connector is on, which is when Withheld
// is set. Its cases say so, and the desks do not act on them.
func (v Verdict) Unverified() bool { return v.Withheld != "" }

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
	// Sized once for the enforced rules' actions, rather than grown by
	// append: it is merged for every verdict, and stays nil when there are none.
	n := 0
	for _, m := range v.Matches {
		if !m.Shadow {
			n += len(m.Actions)
		}
	}
	if n == 0 {
		return nil
	}
	return v.AppendActions(make([]Action, 0, n))
}

// AppendActions appends Actions() to dst: a caller that only reads them
// passes room of its own (on its stack) rather than a list made for each
// verdict.
func (v Verdict) AppendActions(dst []Action) []Action {
	from := len(dst)
	for _, m := range v.Matches {
		if m.Shadow {
			continue
		}
		for _, a := range m.Actions {
			dst = mergeAction(dst, from, a)
		}
	}
	return dst
}

// mergeAction merges a into list[from:], the actions merged so far.
func mergeAction(list []Action, from int, a Action) []Action {
	for i := from; i < len(list); i++ {
		b := list[i]
		if b.Kind != a.Kind {
			continue
		}
		switch a.Kind {
		case ActReply, ActWarn, ActAlert, ActTag, ActForward:
			if b.Text == a.Text {
				return list
			}
		case ActTimeout, ActLockdown, ActSlowmode:
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
