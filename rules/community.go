package rules

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
)

// Community is one entry of the communities: section: the places (Discord
// guilds, Telegram chats, Facebook and Instagram pages) of one brand or
// server, with its own desk, mod-log, office hours, language and changes to
// the shared rules. An agency runs several from one file and one process;
// an event outside every community is handled as the file says.
type Community struct {
	Name string
	// Places are platform:id, as written (telegram:-1001234567890).
	Places []string
	// Desk is the community's desk; an empty chat or channel falls back to
	// the file's desk:. DiscordGuilds and TelegramChats are unused.
	Desk Desk
	// ModLog is the community's mod-log; when it logs nowhere, the file's
	// modlog: is used.
	ModLog ModLog
	// Language is the community's language (fr, en…), "" when not given.
	Language string
	// Off are the rules that do not apply in the community (rules.disable,
	// and the rules written enabled: false that it does not enable).
	Off []string
	// Vars are the file's vars: with the community's values over them, read
	// in expressions as community.vars.NAME.
	Vars map[string]any
	// Verify is its own verification of new members (verify:, On false for
	// off), nil when the file's applies.
	Verify *Verify
	// Line is where the community is named.
	Line int

	// schedule is its own office hours, or the file's; ownHours says it
	// gives its own.
	schedule *schedule
	ownHours bool
	// off is Off by the rule's index in the compiled rules.
	off []bool
	// on lists the rules that run in the community (onRules).
	on  [2]ruleRun
	env communityEnv
}

// AfterHours reports whether t is outside the community's office hours (the
// file's when it gives none), or on one of its holidays.
func (c *Community) AfterHours(t time.Time) bool { return c.schedule.afterHours(t) }

// DeskFor is where the community's cases go on a platform's desk: its own
// chat or channel, else the file's.
func (c *Community) DeskFor(file Desk) Desk {
	out := file
	if c.Desk.TelegramChat != "" {
		out.TelegramChat = c.Desk.TelegramChat
	}
	if c.Desk.DiscordChannel != "" {
		out.DiscordChannel = c.Desk.DiscordChannel
	}
	if len(c.Desk.CMs) > 0 {
		out.CMs = slices.Concat(file.CMs, c.Desk.CMs)
	}
	return out
}

// communityEnv is what expressions read of the event's community.
type communityEnv struct {
	Name string         `expr:"name"`
	Vars map[string]any `expr:"vars"`
}

// placeKey is a place as events name it: platform and space.
type placeKey struct{ platform, space string }

// CommunityOf returns the community of a place (the platform and the event's
// space: a guild, a chat, a page), or nil when the place is in none.
func (rs *Ruleset) CommunityOf(platform, space string) *Community {
	if len(rs.places) == 0 {
		return nil
	}
	i, ok := rs.places[placeKey{platform, space}]
	if !ok {
		return nil
	}
	return &rs.Communities[i]
}

// Community returns the community named name, or nil.
func (rs *Ruleset) Community(name string) *Community {
	for i := range rs.Communities {
		if rs.Communities[i].Name == name {
			return &rs.Communities[i]
		}
	}
	return nil
}

var communityKeys = []string{"places", "desk", "modlog", "office_hours", "timezone", "holidays", "language", "rules", "vars", "verify"}

type communitySpec struct {
	Name       string
	Node       *yaml.Node
	Places     []string
	PlaceNodes []*yaml.Node
	Desk       deskSpec
	ModLog     modLogSpec
	// Timezone, OfficeNode, OfficeHours and Holidays are read as the file's.
	Timezone    *yaml.Node
	OfficeNode  *yaml.Node
	OfficeHours []officeSpec
	Holidays    []*yaml.Node
	Language    string
	Disable     []*yaml.Node
	Enable      []*yaml.Node
	Vars        []varSpec
	// Verify is its own verify:, nil when it follows the file's.
	Verify *verifySpec
}

// varSpec is one name: value of vars:, the file's or a community's.
type varSpec struct {
	Name  string
	Node  *yaml.Node
	Value any
}

// decodeVars reads vars: NAME: value, a number, a boolean or a text.
func (d *decoder) decodeVars(n *yaml.Node, where string) []varSpec {
	var out []varSpec
	d.eachNamed(n, "var", "name: value", func(k, v *yaml.Node) {
		v = resolve(v)
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			d.errorf(v, "%s: %s: expected a number, true, false or a text, got %s", where, k.Value, kindName(v))
			return
		}
		vs := varSpec{Name: k.Value, Node: k}
		switch v.Tag {
		case "!!int":
			i, err := strconv.Atoi(v.Value)
			if err != nil {
				d.errorf(v, "%s: %s: %q is not a whole number", where, k.Value, v.Value)
				return
			}
			vs.Value = i
		case "!!float":
			f, ok := d.number(v, where+": "+k.Value)
			if !ok {
				return
			}
			vs.Value = f
		case "!!bool":
			b, _ := d.boolean(v, where+": "+k.Value)
			vs.Value = b
		default:
			vs.Value = d.expand(v.Value)
		}
		out = append(out, vs)
	})
	return out
}

// decodeCommunities reads the communities: section, name: {places: …}; the
// names are free text (community.name compares them as strings).
func (d *decoder) decodeCommunities(n *yaml.Node) []communitySpec {
	var out []communitySpec
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "communities: expected a mapping of name: {places: [...], desk: {...}}, got %s", kindName(n))
		return nil
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode || strings.TrimSpace(k.Value) == "" {
			d.errorf(k, "communities: a community's name must be a word, got %s", kindName(k))
			continue
		}
		if line, dup := seen[k.Value]; dup {
			d.errorf(k, "communities: community %q declared twice (first at line %d)", k.Value, line)
			continue
		}
		seen[k.Value] = k.Line
		if cs, ok := d.decodeCommunity(k, v); ok {
			out = append(out, cs)
		}
	}
	return out
}

// decodeCommunity reads one community; what it says of the rules and vars is
// checked once they are known (compileCommunities).
func (d *decoder) decodeCommunity(k, v *yaml.Node) (communitySpec, bool) {
	where := fmt.Sprintf("community %q", k.Value)
	m, ok := d.mapping(v, where, communityKeys...)
	if !ok {
		return communitySpec{}, false
	}
	cs := communitySpec{Name: k.Value, Node: k}
	if e, ok := m["places"]; ok {
		items, _ := d.seq(e.Value, where+": places", true)
		for _, it := range items {
			s, ok := d.str(it, where+": places")
			if !ok {
				continue
			}
			if p, ok := d.place(it, where, s); ok {
				cs.Places = append(cs.Places, p)
				cs.PlaceNodes = append(cs.PlaceNodes, it)
			}
		}
	}
	if len(cs.Places) == 0 {
		at := k
		if e, ok := m["places"]; ok {
			at = resolve(e.Value)
		}
		d.errorf(at, "%s: no places (like places: [discord:123456789012345678, telegram:-1001234567890, facebook:104523749012345])", where)
	}
	if e, ok := m["desk"]; ok {
		cs.Desk = d.decodeCommunityDesk(e.Value, where)
	}
	if e, ok := m["modlog"]; ok {
		cs.ModLog = d.decodeModLog(e.Value)
	}
	if e, ok := m["timezone"]; ok {
		cs.Timezone = e.Value
	}
	if e, ok := m["office_hours"]; ok {
		cs.OfficeNode = e.Value
		cs.OfficeHours = d.decodeOffice(e.Value)
	}
	if e, ok := m["holidays"]; ok {
		cs.Holidays, _ = d.seq(e.Value, where+": holidays", false)
	}
	if e, ok := m["language"]; ok {
		if s, ok := d.str(e.Value, where+": language"); ok {
			if !isLanguage(s) {
				d.errorf(resolve(e.Value), "%s: language: %q is not a language code (like fr, en or pt-BR)", where, s)
			}
			cs.Language = s
		}
	}
	if e, ok := m["rules"]; ok {
		if rm, ok := d.mapping(e.Value, where+": rules", "disable", "enable"); ok {
			if e, ok := rm["disable"]; ok {
				cs.Disable, _ = d.seq(e.Value, where+": rules.disable", true)
			}
			if e, ok := rm["enable"]; ok {
				cs.Enable, _ = d.seq(e.Value, where+": rules.enable", true)
			}
		}
	}
	if e, ok := m["vars"]; ok {
		cs.Vars = d.decodeVars(e.Value, where+": vars")
	}
	if e, ok := m["verify"]; ok {
		cs.Verify = d.decodeCommunityVerify(e.Value, where+": verify")
	}
	return cs, true
}

// place reads platform:id, the id checked as the platform writes it.
func (d *decoder) place(n *yaml.Node, where, s string) (string, bool) {
	platform, id, found := strings.Cut(strings.TrimSpace(s), ":")
	id = strings.TrimSpace(id)
	if !found || id == "" {
		d.errorf(n, "%s: places: %q is not platform:id (like discord:123456789012345678)", where, s)
		return "", false
	}
	var err error
	want := ""
	switch platform {
	case "telegram":
		_, err = strconv.ParseInt(id, 10, 64)
		want = "a Telegram chat id, like -1001234567890"
	case "discord":
		_, err = strconv.ParseUint(id, 10, 64)
		want = "a Discord guild id, like 123456789012345678"
	case "facebook", "instagram":
		_, err = strconv.ParseUint(id, 10, 64)
		want = "a page id, like 104523749012345"
	default:
		d.errorf(n, "%s: places: unknown platform %q in %q (want discord, telegram, facebook or instagram)", where, platform, s)
		return "", false
	}
	if err != nil {
		d.errorf(n, "%s: places: %q is not %s", where, id, want)
		return "", false
	}
	return platform + ":" + id, true
}

func (d *decoder) decodeCommunityDesk(n *yaml.Node, where string) deskSpec {
	var ds deskSpec
	m, ok := d.mapping(n, where+": desk", "telegram_chat", "discord_channel", "cms")
	if !ok {
		return ds
	}
	idOf := func(key string, valid func(string) bool, want string) string {
		e, ok := m[key]
		if !ok {
			return ""
		}
		d.unset = d.unset[:0]
		s, _ := d.str(e.Value, where+": desk."+key)
		for _, name := range d.unset {
			d.warnf(resolve(e.Value), "%s: desk.%s: environment variable %s is not set", where, key, name)
		}
		if s != "" && !valid(s) {
			d.errorf(resolve(e.Value), "%s: desk.%s: %q is not %s", where, key, s, want)
			return ""
		}
		return s
	}
	ds.TelegramChat = idOf("telegram_chat", func(s string) bool {
		_, err := strconv.ParseInt(s, 10, 64)
		return err == nil
	}, "a Telegram chat id, like -1001234567890")
	ds.DiscordChannel = idOf("discord_channel", func(s string) bool {
		_, err := strconv.ParseUint(s, 10, 64)
		return err == nil
	}, "a Discord channel id, like 123456789012345678")
	if e, ok := m["cms"]; ok {
		items, _ := d.seq(e.Value, where+": desk.cms", true)
		for _, it := range items {
			s, ok := d.str(it, where+": desk.cms")
			if !ok || s == "" {
				continue
			}
			if !d.checkCM(it, where+": desk.cms", s) {
				continue
			}
			ds.CMs = append(ds.CMs, s)
		}
	}
	return ds
}

// isLanguage accepts a language code as the FAQ's answers are keyed: two or
// three letters, and a region (pt-BR).
func isLanguage(s string) bool {
	lang, region, _ := strings.Cut(s, "-")
	letters := func(s string, lo, hi int) bool {
		if len(s) < lo || len(s) > hi {
			return false
		}
		for _, r := range s {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
		return true
	}
	return letters(lang, 2, 3) && (region == "" && !strings.Contains(s, "-") || letters(region, 2, 3))
}

// compileCommunities checks the communities against the file and each other
// and fills rs.Communities and rs.places. It runs once the rules are compiled.
func compileCommunities(d *decoder, fs fileSpec, rs *Ruleset) {
	defaults := map[string]any{}
	var varNames []string
	for _, v := range fs.Vars {
		defaults[v.Name] = v.Value
		varNames = append(varNames, v.Name)
	}
	index := map[string]int{}
	for i, r := range rs.rules {
		index[r.name] = i
	}
	var ruleNames []string
	for name := range fs.RuleNames {
		ruleNames = append(ruleNames, name)
	}
	slices.Sort(ruleNames)
	type firstAt struct {
		community string
		line      int
	}
	seen := map[string]firstAt{}
	rs.places = map[placeKey]int{}
	rs.envDefault = communityEnv{Vars: defaults}
	for _, cs := range fs.Communities {
		where := fmt.Sprintf("community %q", cs.Name)
		c := Community{Name: cs.Name, Places: cs.Places, Language: cs.Language, Line: cs.Node.Line,
			Desk:   Desk{TelegramChat: cs.Desk.TelegramChat, DiscordChannel: cs.Desk.DiscordChannel, CMs: cs.Desk.CMs},
			ModLog: compileModLog(cs.ModLog), schedule: &rs.schedule, off: make([]bool, len(rs.rules))}
		if !c.ModLog.On() {
			c.ModLog = rs.ModLog
		}
		for i, p := range cs.Places {
			if first, dup := seen[p]; dup {
				d.errorf(cs.PlaceNodes[i], "%s: place %s is already in community %q (line %d): a place belongs to one community", where, p, first.community, first.line)
				continue
			}
			seen[p] = firstAt{cs.Name, cs.PlaceNodes[i].Line}
			platform, id, _ := strings.Cut(p, ":")
			rs.places[placeKey{platform, id}] = len(rs.Communities)
		}
		if cs.OfficeNode != nil || cs.Timezone != nil || len(cs.Holidays) > 0 {
			loc := rs.Timezone
			if cs.Timezone != nil {
				if name, ok := d.str(cs.Timezone, where+": timezone"); ok {
					l, err := time.LoadLocation(name)
					if err != nil || name == "" {
						d.errorf(resolve(cs.Timezone), "%s: timezone: unknown time zone %q (like Europe/Paris or UTC)", where, name)
					} else {
						loc = l
					}
				}
			}
			own := fileSpec{OfficeNode: fs.OfficeNode, OfficeHours: fs.OfficeHours, Holidays: fs.Holidays}
			if cs.OfficeNode != nil {
				own.OfficeNode, own.OfficeHours = cs.OfficeNode, cs.OfficeHours
			}
			if cs.Holidays != nil {
				own.Holidays = cs.Holidays
			}
			s := compileSchedule(d, own, loc)
			c.schedule, c.ownHours = &s, true
		}
		// rules written enabled: false are off unless the community enables them
		for i, r := range rs.rules {
			c.off[i] = r.disabled
		}
		toggle := func(nodes []*yaml.Node, key string, off bool) {
			for _, n := range nodes {
				name, ok := d.str(n, where+": rules."+key)
				if !ok {
					continue
				}
				if !fs.RuleNames[name] {
					msg := fmt.Sprintf("%s: rules.%s: unknown rule %q", where, key, name)
					if s := bot.Closest(name, ruleNames); s != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", s)
					}
					d.errorf(n, "%s", msg)
					continue
				}
				if i, ok := index[name]; ok {
					c.off[i] = off
				}
			}
		}
		toggle(cs.Disable, "disable", true)
		toggle(cs.Enable, "enable", false)
		for _, n := range cs.Disable {
			if slices.ContainsFunc(cs.Enable, func(e *yaml.Node) bool { return e.Value == n.Value }) {
				d.errorf(n, "%s: rule %q is both disabled and enabled", where, n.Value)
			}
		}
		for i, off := range c.off {
			if off {
				c.Off = append(c.Off, rs.rules[i].name)
			}
		}
		c.on = onRules(rs.rules, c.off)
		c.Vars = make(map[string]any, len(defaults))
		for k, v := range defaults {
			c.Vars[k] = v
		}
		for _, v := range cs.Vars {
			def, known := defaults[v.Name]
			if !known {
				msg := fmt.Sprintf("%s: vars: %s is not in the file's vars: (a community changes the value of a var the file declares)", where, v.Name)
				if s := bot.Closest(v.Name, varNames); s != "" {
					msg = fmt.Sprintf("%s: vars: unknown var %s (did you mean %s?)", where, v.Name, s)
				}
				d.errorf(v.Node, "%s", msg)
				continue
			}
			if !sameKind(def, v.Value) {
				d.errorf(v.Node, "%s: vars: %s is %v, of another kind than the file's %v", where, v.Name, v.Value, def)
				continue
			}
			c.Vars[v.Name] = v.Value
		}
		c.env = communityEnv{Name: c.Name, Vars: c.Vars}
		if cs.Verify != nil {
			v := compileVerify(ownVerify(fs.Verify, *cs.Verify))
			c.Verify = &v
		}
		rs.Communities = append(rs.Communities, c)
	}
	// the rules written enabled: false are off outside the communities too
	rs.offOutside = make([]bool, len(rs.rules))
	for i, r := range rs.rules {
		rs.offOutside[i] = r.disabled
	}
	rs.onOutside = onRules(rs.rules, rs.offOutside)
}

// ruleRun is the rules an event runs, in order: their indexes, and the
// closures of their conditions (nil for a condition the machine runs).
type ruleRun struct {
	rules []int32
	when  []func(*exprEnv) bool
}

// onRules lists the rules an event runs, in order, given those off: in
// office hours ([0]) and after hours ([1]). The engine goes through them
// rather than through every rule asking whether it is off or of the other
// hours.
func onRules(rules []rule, off []bool) (on [2]ruleRun) {
	for after := range on {
		for i := range rules {
			if !off[i] && rules[i].applies(after == 1) {
				on[after].rules = append(on[after].rules, int32(i))
				on[after].when = append(on[after].when, rules[i].whenFn)
			}
		}
	}
	return on
}

// next runs the native conditions from the rule at j on, and returns where
// the first that holds is, or the first the machine runs, or the end. A
// condition's hits are dropped before it runs: what the rule that holds
// found makes its reason. Its loop keeps few values live across the calls,
// so that the two dozen conditions of an event are not each a round of
// saving and loading the engine's.
func (r *ruleRun) next(j int, env *exprEnv, st *evalState) int {
	when := r.when
	for ; j < len(when); j++ {
		f := when[j]
		if f == nil {
			return j
		}
		st.hits = st.hits[:0]
		if f(env) {
			return j
		}
	}
	return j
}

// sameKind reports whether a community's value can stand for the file's: a
// number for a number, a text for a text, a boolean for a boolean.
func sameKind(a, b any) bool {
	num := func(v any) bool {
		switch v.(type) {
		case int, float64:
			return true
		}
		return false
	}
	if num(a) || num(b) {
		return num(a) && num(b)
	}
	return fmt.Sprintf("%T", a) == fmt.Sprintf("%T", b)
}

// communitySchema is the communities: section in the rule file's schema.
func communitySchema(strs func(string) obj, office, holidays obj) obj {
	vars := jsNamed(obj{"type": []string{"string", "number", "boolean"}}, "The values of the file's vars: in this community.")
	c := jsDesc(jsStrict(obj{
		"places": strs("The community's places as platform:id: discord:GUILD, telegram:CHAT, facebook:PAGE, instagram:ACCOUNT. A place is in one community."),
		"desk": jsDesc(jsStrict(obj{
			"telegram_chat":   jsScalar("The Telegram chat where the community's cases and alerts go (default: the file's desk)."),
			"discord_channel": jsScalar("The Discord channel where the community's cases and alerts go (default: the file's desk)."),
			"cms":             strs("The community's CMs, as platform:id: they decide its cases and command in its places only; the file's CMs decide everywhere."),
		}), "The community's desk."),
		"modlog":       modLogSchema(),
		"timezone":     jsScalar("The community's time zone (default: the file's)."),
		"office_hours": office,
		"holidays":     holidays,
		"language":     jsScalar("The community's language code (fr, en, pt-BR)."),
		"rules": jsDesc(jsStrict(obj{
			"disable": strs("Rules that do not apply in this community."),
			"enable":  strs("Rules written enabled: false that apply in this community."),
		}), "Which of the shared rules apply."),
		"vars": vars,
		"verify": jsDesc(obj{"anyOf": []any{verifySchema(), jsOneOf("", "off")}},
			"The community's own verification of new members, over the file's verify: (discord_channel and discord_role are not taken from it), or off."),
	}, "places"), "A community: its places, desk, mod-log, office hours and changes to the shared rules.")
	return jsNamed(c, "Communities: places run as one, each with its own desk, mod-log, office hours and rule changes, on top of the shared rules.")
}

// ScopeOf is the communities cm's rights are kept to, in file order: nil when
// cm has them everywhere (a CM of the file's desk, or in no community's cms),
// as MayDecide judges. The desk commands show such a CM only these
// communities' cases and figures, and refuse them what acts file-wide.
func (rs *Ruleset) ScopeOf(cm string) []string {
	if rs == nil || slices.Contains(rs.Desk.CMs, cm) {
		return nil
	}
	var names []string
	for i := range rs.Communities {
		if slices.Contains(rs.Communities[i].Desk.CMs, cm) {
			names = append(names, rs.Communities[i].Name)
		}
	}
	return names
}

// MayDecide reports whether cm (platform:id, as in desk.cms) may decide the
// cases and give the moderators' commands of community ("" for none). The
// file's desk CMs, and anyone in no community's cms, keep the rights they
// have everywhere; a CM named only in communities' cms has them in those
// communities alone. own is the first of those communities, for telling
// the CM whose cases they are.
func (rs *Ruleset) MayDecide(cm, community string) (ok bool, own string) {
	if rs == nil || slices.Contains(rs.Desk.CMs, cm) {
		return true, ""
	}
	for i := range rs.Communities {
		c := &rs.Communities[i]
		if !slices.Contains(c.Desk.CMs, cm) {
			continue
		}
		if c.Name == community {
			return true, ""
		}
		if own == "" {
			own = c.Name
		}
	}
	return own == "", own
}

// LocationOf is the time zone of a place: its community's, else the rule
// file's (UTC when it gives none). The desk is told times in it.
func (rs *Ruleset) LocationOf(platform, space string) *time.Location {
	if rs == nil {
		return time.UTC
	}
	if c := rs.CommunityOf(platform, space); c != nil && c.schedule != nil && c.schedule.loc != nil {
		return c.schedule.loc
	}
	if rs.Timezone != nil {
		return rs.Timezone
	}
	return time.UTC
}
