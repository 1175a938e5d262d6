package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
)

// actionSpec is one item of a do: list as written: either a scalar like
// timeout(10m) or warn("Merci"), or a one-key mapping like {warn: "Hi, there"}
// (handy when the text holds a comma inside a [flow, list]).
type actionSpec struct {
	Src  string
	Node *yaml.Node
	// Mapping form: the name and argument are already apart.
	Name   string
	Arg    string
	HasArg bool
	Split  bool
}

// action is a compiled step of a rule.
type action struct {
	kind bot.ActionKind
	text template
	dur  time.Duration
	at   pos // where it is written, for CheckPlatform's warnings
}

type argKind int

const (
	argNone argKind = iota
	argText
	argTextOptional
	argDuration
	argDurationOptional
)

var actionArgs = map[bot.ActionKind]argKind{
	bot.ActDelete:   argNone,
	bot.ActHide:     argNone,
	bot.ActKick:     argNone,
	bot.ActStrike:   argNone,
	bot.ActReply:    argText,
	bot.ActWarn:     argText,
	bot.ActAlert:    argText,
	bot.ActTag:      argText,
	bot.ActForward:  argTextOptional,
	bot.ActTimeout:  argDuration,
	bot.ActBan:      argDurationOptional,
	bot.ActLockdown: argDuration,
	bot.ActSlowmode: argDuration,
}

var actionRe = regexp.MustCompile(`(?s)^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\((.*)\))?\s*$`)

// splitAction separates name(arg) and unquotes arg.
func splitAction(src string) (name, arg string, hasArg bool, err error) {
	m := actionRe.FindStringSubmatchIndex(src)
	if m == nil {
		return "", "", false, fmt.Errorf("cannot read action %q (write it like delete, timeout(10m) or warn(\"text\"))", src)
	}
	name = src[m[2]:m[3]]
	if m[4] < 0 {
		return name, "", false, nil
	}
	arg = strings.TrimSpace(src[m[4]:m[5]])
	if arg == "" {
		return name, "", false, nil
	}
	arg, err = unquoteArg(arg)
	return name, arg, true, err
}

func unquoteArg(arg string) (string, error) {
	switch {
	case len(arg) >= 2 && arg[0] == '"' && arg[len(arg)-1] == '"':
		s, err := strconv.Unquote(arg)
		if err != nil {
			return "", fmt.Errorf("bad quoted text %s", arg)
		}
		return s, nil
	case len(arg) >= 2 && arg[0] == '\'' && arg[len(arg)-1] == '\'':
		return strings.ReplaceAll(arg[1:len(arg)-1], "''", "'"), nil
	case arg[0] == '"' || arg[0] == '\'':
		return "", fmt.Errorf("unclosed quote in %s", arg)
	}
	return arg, nil
}

// parseAction compiles one action. With templates false, text is taken as is
// (expected actions in tests are already expanded).
func parseAction(sp actionSpec, templates bool) (action, error) {
	name, arg, hasArg := sp.Name, sp.Arg, sp.HasArg
	if !sp.Split {
		var err error
		if name, arg, hasArg, err = splitAction(sp.Src); err != nil {
			return action{}, err
		}
	}
	kind := bot.ActionKind(strings.ToLower(name))
	ak, known := actionArgs[kind]
	if !known {
		names := make([]string, len(bot.ActionKinds))
		for i, k := range bot.ActionKinds {
			names[i] = string(k)
		}
		msg := fmt.Sprintf("unknown action %q", name)
		if strings.Contains(name, "(") {
			// YAML cut the action at a ": " in its text, unquoted in a list.
			return action{}, fmt.Errorf(`%s: the action was cut at a ": " in its text; put the whole action in quotes, like '%s("…: …")'`,
				msg, strings.ToLower(name[:strings.Index(name, "(")]))
		}
		if s := bot.Closest(name, names); s != "" {
			return action{}, fmt.Errorf("%s (did you mean %q?)", msg, s)
		}
		return action{}, fmt.Errorf("%s (known: %s)", msg, strings.Join(names, ", "))
	}
	a := action{kind: kind}
	switch ak {
	case argNone:
		if hasArg {
			return action{}, fmt.Errorf("%s takes no argument", kind)
		}
	case argText, argTextOptional:
		if !hasArg {
			if ak == argText {
				return action{}, fmt.Errorf("%s needs a text, like %s(\"...\")", kind, kind)
			}
			break
		}
		if templates {
			t, err := parseTemplate(arg)
			if err != nil {
				return action{}, fmt.Errorf("%s: %w", kind, err)
			}
			a.text = t
		} else {
			a.text = template{static: arg}
		}
	case argDuration, argDurationOptional:
		if !hasArg {
			if ak == argDuration {
				return action{}, fmt.Errorf("%s needs a duration, like %s(10m)", kind, kind)
			}
			break
		}
		d, err := parseDuration(arg)
		if err != nil {
			return action{}, fmt.Errorf("%s: %w", kind, err)
		}
		a.dur = d
	}
	return a, nil
}

// String is the action as a CM would write it, templates unexpanded.
func (a action) String() string {
	return bot.Action{Kind: a.kind, Text: a.text.source(), Duration: a.dur}.String()
}

// expand returns the action for one event; names names its place
// (Options.PlaceName), nil for none.
func (a action) expand(ev *bot.Event, rule string, names PlaceNames) bot.Action {
	return bot.Action{Kind: a.kind, Text: a.text.expand(ev, rule, names), Duration: a.dur}
}

// PlaceNames names an event's place (a Telegram group's title) as its members
// read it; "" when the platform has no name for it.
type PlaceNames func(ev *bot.Event) string

// SpaceField is what {{space}} writes: the place's name when names has one
// (a Telegram group's title, which its members may change), on one line,
// cut and inert as a member's name is (bot.NameInText), otherwise its id.
func SpaceField(ev *bot.Event, names PlaceNames) string {
	if names == nil || ev.Space == "" {
		return ev.Space
	}
	// names is handed a copy: given ev itself, a function the compiler
	// cannot see into would move every caller's event to the heap, for
	// every event judged, though a space is named only in the messages of
	// the few events that raise an alert.
	named := *ev
	if name := bot.NameInText(names(&named)); name != "" {
		return name
	}
	return ev.Space
}

// template is an action's text with {{field}} slots, parsed at load.
type template struct {
	static string // the whole text when it has no fields
	parts  []tmplPart
}

type tmplField uint8

const (
	fieldNone tmplField = iota
	fieldAuthorName
	fieldAuthorID
	fieldChannel
	fieldSpace
	fieldPlatform
	fieldRule
)

var tmplFields = map[string]tmplField{
	"author.name": fieldAuthorName,
	"author.id":   fieldAuthorID,
	"channel":     fieldChannel,
	"space":       fieldSpace,
	"platform":    fieldPlatform,
	"rule":        fieldRule,
}

var tmplFieldNames = []string{"author.name", "author.id", "channel", "space", "platform", "rule"}

type tmplPart struct {
	lit   string
	field tmplField
	name  string
}

func parseTemplate(s string) (template, error) {
	if !strings.Contains(s, "{{") {
		return template{static: s}, nil
	}
	var t template
	rest := s
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if rest != "" {
				t.parts = append(t.parts, tmplPart{lit: rest})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, tmplPart{lit: rest[:i]})
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return template{}, fmt.Errorf("unclosed {{ in %q", s)
		}
		name := strings.TrimSpace(rest[i+2 : i+j])
		f, ok := tmplFields[name]
		if !ok {
			msg := fmt.Sprintf("unknown field {{%s}}", name)
			if c := bot.Closest(name, tmplFieldNames); c != "" {
				return template{}, fmt.Errorf("%s (did you mean {{%s}}?)", msg, c)
			}
			return template{}, fmt.Errorf("%s (known: %s)", msg, strings.Join(tmplFieldNames, ", "))
		}
		t.parts = append(t.parts, tmplPart{field: f, name: name})
		rest = rest[i+j+2:]
	}
}

func (t template) source() string {
	if t.parts == nil {
		return t.static
	}
	var b strings.Builder
	for _, p := range t.parts {
		if p.field == fieldNone {
			b.WriteString(p.lit)
		} else {
			b.WriteString("{{" + p.name + "}}")
		}
	}
	return b.String()
}

// renders reports whether expand would return s for ev and rule, without
// writing it: a message that names the space is the same for the events of a
// wave, and is written once.
func (t template) renders(s string, ev *bot.Event, rule string, names PlaceNames) bool {
	if t.parts == nil {
		return s == t.static
	}
	for _, p := range t.parts {
		f := t.field(p, ev, rule, names)
		if !strings.HasPrefix(s, f) {
			return false
		}
		s = s[len(f):]
	}
	return s == ""
}

// reuse returns what expand returns for ev and rule, taken from kept when it
// is there; otherwise it is written and kept in place of the oldest (kept is
// most recent first).
func (t template) reuse(kept []string, ev *bot.Event, rule string, names PlaceNames) string {
	for i, k := range kept {
		if k != "" && t.renders(k, ev, rule, names) {
			copy(kept[1:i+1], kept[:i])
			kept[0] = k
			return k
		}
	}
	msg := t.expand(ev, rule, names)
	copy(kept[1:], kept)
	kept[0] = msg
	return msg
}

// field is the text of one part of t for ev and rule.
func (template) field(p tmplPart, ev *bot.Event, rule string, names PlaceNames) string {
	switch p.field {
	case fieldNone:
		return p.lit
	case fieldAuthorName:
		if ev.Author.Name == "" {
			return ev.Author.ID
		}
		// one line, cut, and no mention, command or link in vigie's voice
		return bot.NameInText(ev.Author.Name)
	case fieldAuthorID:
		return ev.Author.ID
	case fieldChannel:
		return ev.Channel
	case fieldSpace:
		return SpaceField(ev, names)
	case fieldPlatform:
		return ev.Platform
	case fieldRule:
		return rule
	}
	return ""
}

func (t template) expand(ev *bot.Event, rule string, names PlaceNames) string {
	if t.parts == nil {
		return t.static
	}
	// one allocation: the builder is sized first instead of growing per part
	field := func(p tmplPart) string { return t.field(p, ev, rule, names) }
	n := 0
	for _, p := range t.parts {
		n += len(field(p))
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range t.parts {
		b.WriteString(field(p))
	}
	return b.String()
}
