package rules

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
)

// The spec types are the rule file as written: decoded strictly from YAML, with
// positions, before anything is compiled. compile.go turns them into a Ruleset.
//
// ${NAME} is expanded from the environment in every string value (an unset
// variable is empty; in desk: it is also a warning), except in expressions
// (when:, key:), which are compiled as written: a rule's meaning does not depend
// on the machine it runs on.

type fileSpec struct {
	Timezone    *yaml.Node
	OfficeHours []officeSpec
	OfficeNode  *yaml.Node
	Holidays    []*yaml.Node
	Desk        deskSpec
	Lists       []listSpec
	Owners      []ownerSpec
	Models      []modelSpec
	Counters    []counterSpec
	Rules       []ruleSpec
	// FAQOnly: the file has no rules: key, only faq:.
	FAQOnly bool
	// RuleNames holds every rule name written, also of rules with errors, so
	// that tests naming a broken rule do not add noise to its error.
	RuleNames map[string]bool
	FAQ       faqSpec
	Tests     []testSpec
	Alerts    []alertSpec
	// CommentDelete is what delete does to a page comment: "delete" or "hide".
	CommentDelete string
	// HTTPActOn lists the platforms that events posted over HTTP may act on
	// even though vigie's own connector for them is on (http_events.act_on).
	HTTPActOn []string
	ModLog    modLogSpec
	// Vars are the vars: section, the values communities may change.
	Vars        []varSpec
	Communities []communitySpec
	Verify      verifySpec
}

type officeSpec struct {
	Days   *yaml.Node
	Ranges []*yaml.Node
}

type deskSpec struct {
	TelegramChat   string
	DiscordChannel string
	DiscordGuilds  []string
	TelegramChats  []string
	CMs            []string
	CMNodes        []*yaml.Node
}

type listSpec struct {
	Name     string
	Node     *yaml.Node
	Entries  []string
	File     string
	FileNode *yaml.Node
}

// modelSpec is a model of the models: section, name: {file: path}.
type modelSpec struct {
	Name     string
	Node     *yaml.Node
	File     string
	FileNode *yaml.Node
}

type counterSpec struct {
	Name   string
	Node   *yaml.Node
	Key    exprSpec
	Window durationAt
	When   *exprSpec
	// Broken says the counter's own error is reported: it stands in by name
	// only, so that the expressions reading it do not add "unknown counter".
	Broken bool
}

type ruleSpec struct {
	Name        string
	Node        *yaml.Node
	NameNode    *yaml.Node
	Category    string
	Description string
	When        exprSpec
	Do          []actionSpec
	Hours       *yaml.Node
	Mode        *yaml.Node
	Office      *yaml.Node
	Priority    *yaml.Node
	// Enabled, when false, keeps the rule off but in the communities that
	// enable it.
	Enabled *yaml.Node
}

type faqSpec struct {
	Threshold    float64
	ThresholdSet bool
	Entries      []faqEntrySpec
	Settings     faqSettingsSpec
}

type faqEntrySpec struct {
	Node      *yaml.Node
	ID        string
	Questions []string
	Answer    map[string]string
	Keywords  []string
	Intents   []string
	Mode      string
	Private   bool
}

// decodeFile reads the document's root mapping into a fileSpec.
func (d *decoder) decodeFile(root *yaml.Node) fileSpec {
	var fs fileSpec
	top, ok := d.mapping(root, "rule file", "timezone", "office_hours", "holidays", "desk",
		"lists", "owners", "models", "counters", "rules", "faq", "tests", "alerts", "comments", "http_events", "modlog",
		"vars", "communities", "verify")
	if !ok {
		return fs
	}
	if e, ok := top["timezone"]; ok {
		fs.Timezone = e.Value
	}
	if e, ok := top["office_hours"]; ok {
		fs.OfficeNode = e.Value
		fs.OfficeHours = d.decodeOffice(e.Value)
	}
	if e, ok := top["holidays"]; ok {
		items, _ := d.seq(e.Value, "holidays", false)
		fs.Holidays = items
	}
	if e, ok := top["desk"]; ok {
		fs.Desk = d.decodeDesk(e.Value)
	}
	if e, ok := top["lists"]; ok {
		fs.Lists = d.decodeLists(e.Value)
	}
	if e, ok := top["owners"]; ok {
		fs.Owners = d.decodeOwners(e.Value)
	}
	if e, ok := top["models"]; ok {
		fs.Models = d.decodeModels(e.Value)
	}
	if e, ok := top["counters"]; ok {
		fs.Counters = d.decodeCounters(e.Value)
	}
	// A file may hold only the FAQ: a CM who wants the assistant alone writes
	// faq: and nothing else. A file with neither is surely a mistake.
	if e, ok := top["rules"]; ok {
		fs.Rules, fs.RuleNames = d.decodeRules(e.Value)
	} else if _, faq := top["faq"]; !faq {
		d.errorf(resolve(root), "rule file: missing key \"rules\" (or \"faq\" for a file that only answers questions)")
	} else {
		fs.FAQOnly = true
		d.warnf(top["faq"].KeyN, "no \"rules\" key: this file only answers questions; write \"rules: []\" to say so (a vigie whose rules run refuses to reload a file without it)")
	}
	if e, ok := top["faq"]; ok {
		fs.FAQ = d.decodeFAQ(e.Value)
	}
	if e, ok := top["alerts"]; ok {
		fs.Alerts = d.decodeAlerts(e.Value)
	}
	if e, ok := top["tests"]; ok {
		fs.Tests = d.decodeTests(e.Value)
	}
	if e, ok := top["comments"]; ok {
		fs.CommentDelete = d.decodeComments(e.Value)
	}
	if e, ok := top["http_events"]; ok {
		fs.HTTPActOn = d.decodeHTTPEvents(e.Value)
	}
	if e, ok := top["modlog"]; ok {
		fs.ModLog = d.decodeModLog(e.Value)
	}
	if e, ok := top["vars"]; ok {
		fs.Vars = d.decodeVars(e.Value, "vars")
	}
	if e, ok := top["communities"]; ok {
		fs.Communities = d.decodeCommunities(e.Value)
	}
	if e, ok := top["verify"]; ok {
		fs.Verify = d.decodeVerify(e.Value, "verify")
	}
	return fs
}

// decodeHTTPEvents reads the http_events: section: the platforms whose connector
// is on that events posted to /v1/events may still act on.
func (d *decoder) decodeHTTPEvents(n *yaml.Node) []string {
	m, ok := d.mapping(n, "http_events", "act_on")
	if !ok {
		return nil
	}
	e, ok := m["act_on"]
	if !ok {
		return nil
	}
	items, _ := d.seq(e.Value, "http_events.act_on", true)
	var out []string
	for _, it := range items {
		s, ok := d.str(it, "http_events.act_on")
		if !ok {
			continue
		}
		switch s {
		case "discord", "telegram", "facebook", "instagram":
			out = append(out, s)
		default:
			d.errorf(it, "http_events.act_on: unknown platform %q (want discord, telegram, facebook or instagram)", s)
		}
	}
	return out
}

// decodeComments reads the comments: section: what delete does to a page comment.
func (d *decoder) decodeComments(n *yaml.Node) string {
	m, ok := d.mapping(n, "comments", "delete")
	if !ok {
		return ""
	}
	e, ok := m["delete"]
	if !ok {
		return ""
	}
	s, ok := d.str(e.Value, "comments.delete")
	if !ok {
		return ""
	}
	if s != "delete" && s != "hide" {
		d.errorf(resolve(e.Value), "comments.delete: want hide or delete, got %q", s)
		return ""
	}
	return s
}

func (d *decoder) decodeOffice(n *yaml.Node) []officeSpec {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "office_hours: expected a mapping like {mon-fri: \"09:00-19:00\"}, got %s", kindName(n))
		return nil
	}
	var out []officeSpec
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		sp := officeSpec{Days: k}
		if v.Kind == yaml.SequenceNode {
			for _, c := range v.Content {
				sp.Ranges = append(sp.Ranges, resolve(c))
			}
		} else {
			sp.Ranges = []*yaml.Node{v}
		}
		out = append(out, sp)
	}
	return out
}

func (d *decoder) decodeDesk(n *yaml.Node) deskSpec {
	var ds deskSpec
	m, ok := d.mapping(n, "desk", "telegram_chat", "discord_channel", "discord_guilds", "telegram_chats", "cms")
	if !ok {
		return ds
	}
	deskStr := func(key string) string {
		e, ok := m[key]
		if !ok {
			return ""
		}
		d.unset = d.unset[:0]
		s, _ := d.str(e.Value, "desk."+key)
		for _, name := range d.unset {
			d.warnf(resolve(e.Value), "desk.%s: environment variable %s is not set", key, name)
		}
		return s
	}
	// vigie run refuses a desk that is not an id when its platform is on:
	// check says so before.
	deskID := func(key, want string, valid func(string) bool) string {
		s := deskStr(key)
		if s != "" && !valid(s) {
			d.errorf(resolve(m[key].Value), "desk.%s: %q is not %s", key, s, want)
		}
		return s
	}
	ds.TelegramChat = deskID("telegram_chat", "a Telegram chat id, like -1001234567890", func(s string) bool {
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil
	})
	ds.DiscordChannel = deskID("discord_channel", "a Discord channel id, like 123456789012345678", func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
	})
	ds.DiscordGuilds = d.deskIDs(m, "discord_guilds", "a Discord guild id, like 123456789012345678", func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
	})
	ds.TelegramChats = d.deskIDs(m, "telegram_chats", "a Telegram chat id, like -1001234567890", func(s string) bool {
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil
	})
	if e, ok := m["cms"]; ok {
		items, _ := d.seq(e.Value, "desk.cms", true)
		for _, it := range items {
			d.unset = d.unset[:0]
			s, ok := d.str(it, "desk.cms")
			if !ok {
				continue
			}
			for _, name := range d.unset {
				d.warnf(it, "desk.cms: environment variable %s is not set", name)
			}
			if s == "" && len(d.unset) > 0 {
				continue
			}
			if !d.checkCM(it, "desk.cms", s) {
				continue
			}
			ds.CMs = append(ds.CMs, s)
			ds.CMNodes = append(ds.CMNodes, it)
		}
	}
	return ds
}

// checkCM reports whether s, an entry of a desk's cms at n, is platform:id,
// and says what is wrong with it: CMs decide from the Telegram or the Discord
// desk, as their numeric user id there (vigie run refuses another id when
// the platform is on). An entry of another platform decides nothing: a
// warning, since nothing breaks.
func (d *decoder) checkCM(n *yaml.Node, where, s string) bool {
	platform, id, found := strings.Cut(s, ":")
	if !found || platform == "" || id == "" {
		d.errorf(n, "%s: %q is not platform:id (like telegram:123456789)", where, s)
		return false
	}
	switch platform {
	case "telegram":
		if v, err := strconv.ParseInt(id, 10, 64); err != nil || v <= 0 {
			d.errorf(n, "%s: %q: a Telegram user id is a number, like telegram:123456789", where, s)
			return false
		}
	case "discord":
		if _, err := strconv.ParseUint(id, 10, 64); err != nil {
			d.errorf(n, "%s: %q: a Discord user id is a number, like discord:123456789012345678", where, s)
			return false
		}
	default:
		msg := fmt.Sprintf("%s: %q decides nothing: CMs are telegram:ID or discord:ID", where, s)
		if c := bot.Closest(platform, []string{"telegram", "discord"}); c != "" {
			msg += fmt.Sprintf(" (did you mean %s:%s?)", c, id)
		}
		d.warnf(n, "%s", msg)
	}
	return true
}

// deskIDs reads a list of platform ids under desk:, the places vigie moderates.
// An entry may be ${ENV} holding several ids separated by commas; an unset
// variable is a warning and adds nothing.
func (d *decoder) deskIDs(m map[string]entry, key, want string, valid func(string) bool) []string {
	e, ok := m[key]
	if !ok {
		return nil
	}
	items, _ := d.seq(e.Value, "desk."+key, true)
	var out []string
	for _, it := range items {
		d.unset = d.unset[:0]
		s, ok := d.str(it, "desk."+key)
		if !ok {
			continue
		}
		for _, name := range d.unset {
			d.warnf(it, "desk.%s: environment variable %s is not set", key, name)
		}
		for _, id := range strings.Split(s, ",") {
			id = strings.TrimSpace(id)
			if id == "" {
				continue
			}
			if !valid(id) {
				d.errorf(it, "desk.%s: %q is not %s", key, id, want)
				continue
			}
			out = append(out, id)
		}
	}
	return out
}

func (d *decoder) decodeLists(n *yaml.Node) []listSpec {
	var out []listSpec
	d.eachNamed(n, "list", "name: [entries] or name: {file: path}", func(k, v *yaml.Node) {
		v = resolve(v)
		ls := listSpec{Name: k.Value, Node: k}
		where := fmt.Sprintf("list %q", k.Value)
		switch v.Kind {
		case yaml.SequenceNode:
			ls.Entries, _ = d.strList(v, where, false)
		case yaml.MappingNode:
			m, ok := d.mapping(v, where, "file")
			if !ok {
				return
			}
			e, ok := m["file"]
			if !ok {
				d.errorf(v, "%s: missing key \"file\"", where)
				return
			}
			ls.File, _ = d.str(e.Value, where+": file")
			ls.FileNode = resolve(e.Value)
		default:
			d.errorf(v, "%s: expected a list of entries or {file: path}, got %s", where, kindName(v))
			return
		}
		out = append(out, ls)
	})
	return out
}

func (d *decoder) decodeModels(n *yaml.Node) []modelSpec {
	var out []modelSpec
	d.eachNamed(n, "model", "name: {file: path}", func(k, v *yaml.Node) {
		where := fmt.Sprintf("model %q", k.Value)
		m, ok := d.mapping(v, where, "file")
		if !ok {
			return
		}
		e, ok := m["file"]
		if !ok {
			d.errorf(resolve(v), "%s: missing key \"file\"", where)
			return
		}
		ms := modelSpec{Name: k.Value, Node: k, FileNode: resolve(e.Value)}
		if ms.File, ok = d.str(e.Value, where+": file"); ok {
			out = append(out, ms)
		}
	})
	return out
}

// eachNamed calls fn with each name: value of the section lists or counters
// that has a usable name not declared before.
func (d *decoder) eachNamed(n *yaml.Node, what, shape string, fn func(k, v *yaml.Node)) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%ss: expected a mapping of %s, got %s", what, shape, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.checkName(k, what) {
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, "%ss: %s %q declared twice (first at line %d)", what, what, k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, v)
	}
}

// checkName accepts names usable as counters.NAME and lists.NAME in expressions.
func (d *decoder) checkName(k *yaml.Node, what string) bool {
	if k.Kind != yaml.ScalarNode {
		d.errorf(k, "%s names must be words, got %s", what, kindName(k))
		return false
	}
	if !isIdent(k.Value) {
		written := what + "s.NAME"
		if what == "model" {
			written = `score("NAME")`
		}
		d.errorf(k, "%s name %q must be a word of letters, digits and _ (it is written %s in expressions)", what, k.Value, written)
		return false
	}
	return true
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func (d *decoder) decodeCounters(n *yaml.Node) []counterSpec {
	var out []counterSpec
	d.eachNamed(n, "counter", "name: {key: EXPR, window: DURATION}", func(k, v *yaml.Node) {
		where := fmt.Sprintf("counter %q", k.Value)
		m, ok := d.mapping(v, where, "key", "window", "when")
		if !ok {
			return
		}
		cs := counterSpec{Name: k.Value, Node: k}
		good := true
		if e, ok := m["key"]; ok {
			s, ok := d.rawStr(e.Value, where+": key")
			good = good && ok
			cs.Key = exprSpec{Src: s, Node: resolve(e.Value)}
		} else {
			d.errorf(resolve(v), "%s: missing key \"key\" (what to count by, like author.id)", where)
			good = false
		}
		if e, ok := m["window"]; ok {
			w, ok := d.duration(e.Value, where+": window")
			good = good && ok
			cs.Window = w
		} else {
			d.errorf(resolve(v), "%s: missing key \"window\" (like 10s or 1h)", where)
			good = false
		}
		if e, ok := m["when"]; ok {
			s, ok := d.rawStr(e.Value, where+": when")
			good = good && ok
			cs.When = &exprSpec{Src: s, Node: resolve(e.Value)}
		}
		cs.Broken = !good
		out = append(out, cs)
	})
	return out
}

var ruleKeys = []string{"name", "category", "description", "when", "do", "hours", "mode", "office", "priority", "enabled"}

func (d *decoder) decodeRules(n *yaml.Node) ([]ruleSpec, map[string]bool) {
	names := map[string]bool{}
	items, ok := d.seq(n, "rules", false)
	if !ok {
		return nil, names
	}
	var out []ruleSpec
	seen := map[string]int{}
	for i, it := range items {
		where := fmt.Sprintf("rules[%d]", i)
		// read the name first so that the other messages can use it
		if it.Kind == yaml.MappingNode {
			for j := 0; j+1 < len(it.Content); j += 2 {
				if it.Content[j].Value == "name" && resolve(it.Content[j+1]).Kind == yaml.ScalarNode {
					where = fmt.Sprintf("rule %q", resolve(it.Content[j+1]).Value)
				}
			}
		}
		m, ok := d.mapping(it, where, ruleKeys...)
		if !ok {
			continue
		}
		rs := ruleSpec{Node: it}
		good := true
		if e, ok := m["name"]; ok {
			rs.Name, ok = d.str(e.Value, where+": name")
			rs.NameNode = resolve(e.Value)
			good = good && ok
			if ok && strings.TrimSpace(rs.Name) == "" {
				d.errorf(rs.NameNode, "%s: empty name", where)
				good = false
			}
			if line, dup := seen[rs.Name]; ok && dup {
				d.errorf(rs.NameNode, "%s: name used twice (first at line %d)", where, line)
				good = false
			}
			seen[rs.Name] = rs.NameNode.Line
			names[rs.Name] = true
		} else {
			d.errorf(it, "%s: missing key \"name\"", where)
			good = false
		}
		if e, ok := m["category"]; ok {
			rs.Category, _ = d.str(e.Value, where+": category")
		}
		if e, ok := m["description"]; ok {
			rs.Description, _ = d.str(e.Value, where+": description")
		}
		when, ok := d.when(m, it, where)
		rs.When, good = when, good && ok
		if e, ok := m["do"]; ok {
			acts, ok := d.decodeActions(e.Value, where+": do")
			good = good && ok
			rs.Do = acts
		}
		if e, ok := m["hours"]; ok {
			rs.Hours = resolve(e.Value)
		}
		if e, ok := m["mode"]; ok {
			rs.Mode = resolve(e.Value)
		}
		if e, ok := m["office"]; ok {
			rs.Office = resolve(e.Value)
		}
		if e, ok := m["priority"]; ok {
			rs.Priority = resolve(e.Value)
		}
		if e, ok := m["enabled"]; ok {
			rs.Enabled = resolve(e.Value)
		}
		if good {
			out = append(out, rs)
		}
	}
	return out, names
}

// when reads the condition that every rule and alert must have.
func (d *decoder) when(m map[string]entry, n *yaml.Node, where string) (exprSpec, bool) {
	e, ok := m["when"]
	if !ok {
		d.errorf(n, "%s: missing key \"when\"", where)
		return exprSpec{}, false
	}
	s, ok := d.rawStr(e.Value, where+": when")
	return exprSpec{Src: s, Node: resolve(e.Value)}, ok
}

func (d *decoder) decodeActions(n *yaml.Node, where string) ([]actionSpec, bool) {
	items, ok := d.seq(n, where, true)
	if !ok {
		return nil, false
	}
	var out []actionSpec
	good := true
	for _, it := range items {
		switch {
		case it.Kind == yaml.ScalarNode && it.Tag != "!!null":
			out = append(out, actionSpec{Src: d.expand(it.Value), Node: it})
		case it.Kind == yaml.MappingNode && len(it.Content) == 2:
			k, v := it.Content[0], resolve(it.Content[1])
			if v.Kind != yaml.ScalarNode {
				d.errorf(v, "%s: %s: expected a text or a duration, got %s", where, k.Value, kindName(v))
				good = false
				continue
			}
			sp := actionSpec{Src: k.Value + "(" + v.Value + ")", Node: v, Name: k.Value, Split: true}
			if v.Tag != "!!null" && v.Value != "" {
				sp.Arg, sp.HasArg = d.expand(v.Value), true
			}
			out = append(out, sp)
		default:
			d.errorf(it, "%s: expected an action like delete, timeout(10m) or warn: \"text\", got %s", where, kindName(it))
			good = false
		}
	}
	return out, good
}

var faqEntryKeys = []string{"id", "questions", "answer", "keywords", "intent", "mode", "private"}

func (d *decoder) decodeFAQ(n *yaml.Node) (fs faqSpec) {
	m, ok := d.mapping(n, "faq", faqKeys...)
	if !ok {
		return fs
	}
	// The settings (faq.go) are read last: tests name the entries.
	defer d.decodeFAQSettings(m, &fs)
	if e, ok := m["threshold"]; ok {
		f, ok := d.number(e.Value, "faq: threshold")
		if ok && (f < 0 || f > 1) {
			d.errorf(resolve(e.Value), "faq: threshold must be between 0 and 1, got %v", f)
		}
		fs.Threshold, fs.ThresholdSet = f, ok
	}
	e, ok := m["entries"]
	if !ok {
		return fs
	}
	items, _ := d.seq(e.Value, "faq: entries", false)
	seen := map[string]int{}
	for i, it := range items {
		where := fmt.Sprintf("faq entry %d", i+1)
		em, ok := d.mapping(it, where, faqEntryKeys...)
		if !ok {
			continue
		}
		fe := faqEntrySpec{Node: it}
		if e, ok := em["id"]; ok {
			fe.ID, _ = d.str(e.Value, where+": id")
			where = fmt.Sprintf("faq entry %q", fe.ID)
			if line, dup := seen[fe.ID]; dup {
				d.errorf(resolve(e.Value), "%s: id used twice (first at line %d)", where, line)
			}
			seen[fe.ID] = resolve(e.Value).Line
		} else {
			d.errorf(it, "%s: missing key \"id\"", where)
		}
		if e, ok := em["questions"]; ok {
			fe.Questions, _ = d.strList(e.Value, where+": questions", true)
			if len(fe.Questions) == 0 {
				d.errorf(resolve(e.Value), "%s: questions is empty", where)
			}
		} else {
			d.errorf(it, "%s: missing key \"questions\"", where)
		}
		if e, ok := em["answer"]; ok {
			fe.Answer = d.decodeAnswer(e.Value, where+": answer")
		} else {
			d.errorf(it, "%s: missing key \"answer\"", where)
		}
		if e, ok := em["keywords"]; ok {
			fe.Keywords, _ = d.strList(e.Value, where+": keywords", true)
		}
		if e, ok := em["mode"]; ok {
			var ok bool
			if fe.Mode, ok = d.str(e.Value, where+": mode"); ok {
				d.checkFAQMode(e.Value, where, fe.Mode)
			}
		}
		if e, ok := em["intent"]; ok {
			fe.Intents, _ = d.strList(e.Value, where+": intent", true)
		}
		if e, ok := em["private"]; ok {
			fe.Private, _ = d.boolean(e.Value, where+": private")
		}
		fs.Entries = append(fs.Entries, fe)
	}
	return fs
}

// decodeAnswer reads {lang: text}; a lone text is taken as the answer in every
// language.
func (d *decoder) decodeAnswer(n *yaml.Node, where string) map[string]string {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		s, _ := d.str(n, where)
		return map[string]string{"": s}
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: expected {lang: text}, got %s", where, kindName(n))
		return nil
	}
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		s, ok := d.str(v, where+"."+k.Value)
		if ok {
			out[k.Value] = s
		}
	}
	if len(out) == 0 {
		d.errorf(n, "%s: no answer", where)
	}
	return out
}
