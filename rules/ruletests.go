package rules

// The rule file's own tests, run by `vigie test` (Ruleset.RunTests). Format:
//
//	tests:
//	  - name: six fast messages are a flood
//	    events:
//	      - {text: "spam", author: {id: u1}, repeat: 6, every: 1s}
//	      - {text: "salut", author: {id: u2}, after: 2s}
//	    expect:
//	      - {event: last, rules: [flood], actions: [delete, "timeout(10m)"]}
//	      - {event: 1, rules: []}
//
// Each test runs on a fresh, empty memory store, its events in the order written.
//
// An event takes the fields of the event JSON (id, platform, kind, space, channel,
// thread, reply_to, text, attachments, files, hidden_links, forward with from and
// text, embeds with title, description, url and fields (name, value), poll with
// question and options, link, label, and author with id, name, username, roles,
// staff, bot, created_at, joined_at, verified) plus:
//   - at: the event's time, absolute: RFC 3339 ("2026-01-05T23:30:00+01:00") or a
//     local time in the file's timezone ("2026-01-05T23:30" or "2026-01-05 23:30").
//   - after: a duration from the test's base time, Monday 2026-01-05 12:00 in the
//     file's timezone (office hours in most files). Without at or after an event
//     is at the base time. after is NOT from the previous event: six events a second
//     apart are after: 1s, 2s, ... 5s.
//   - repeat: N copies of the event, every: DURATION apart (default 1s), the first
//     at the event's time.
//   - author.account_age / author.member_age: a duration, sets created_at /
//     joined_at that long before the event.
//
// Defaults: id t1, t2, ... in order (an id given with repeat becomes id-1, id-2,
// ...), platform "test", kind message, space "test", channel "test", author id
// "u1", text "".
//
// An expectation names its event: a number (1 is the first event after repeats
// are expanded), first, last (the default), or an event id. Then any of:
//   - rules: the exact set of rules that matched, shadow rules included; [] for none.
//   - actions: the exact list of actions to carry out (Verdict.Actions, so shadow
//     rules' actions are not in it), written as in a do: list; texts are compared
//     expanded ('warn("Merci de ralentir, Bob")').
//   - counters: {NAME: value} for the counters named.
//   - duplicate: true when the event should be dropped as already seen.
//   - alerts: the exact set of alerts of the alerts: section whose condition held
//     for the event; [] for none.
//
// Rule and counter names and actions in expectations are checked when the file
// loads.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/memory"
)

type testSpec struct {
	Name   string
	Node   *yaml.Node
	Events []*yaml.Node
	Expect []*yaml.Node
}

func (d *decoder) decodeTests(n *yaml.Node) []testSpec {
	items, ok := d.seq(n, "tests", false)
	if !ok {
		return nil
	}
	var out []testSpec
	seen := map[string]int{}
	for i, it := range items {
		where := fmt.Sprintf("tests[%d]", i)
		m, ok := d.mapping(it, where, "name", "events", "expect")
		if !ok {
			continue
		}
		ts := testSpec{Node: it}
		if e, ok := m["name"]; ok {
			ts.Name, _ = d.str(e.Value, where+": name")
			if line, dup := seen[ts.Name]; dup {
				d.errorf(resolve(e.Value), "test %q: name used twice (first at line %d)", ts.Name, line)
			}
			seen[ts.Name] = resolve(e.Value).Line
		} else {
			d.errorf(it, "%s: missing key \"name\"", where)
			ts.Name = where
		}
		where = fmt.Sprintf("test %q", ts.Name)
		if e, ok := m["events"]; ok {
			ts.Events, _ = d.seq(e.Value, where+": events", false)
		}
		if len(ts.Events) == 0 {
			d.errorf(it, "%s: no events", where)
		}
		if e, ok := m["expect"]; ok {
			ts.Expect, _ = d.seq(e.Value, where+": expect", false)
		}
		if len(ts.Expect) == 0 {
			d.errorf(it, "%s: nothing expected (add expect:)", where)
		}
		out = append(out, ts)
	}
	return out
}

// ruleTest is a compiled test.
type ruleTest struct {
	name    string
	line    int
	events  []bot.Event
	expects []expectation
}

type expectation struct {
	line     int
	event    int // index into events
	rules    []string
	hasRules bool
	actions  []string
	hasActs  bool
	counters map[string]int64
	dup      *bool
	alerts   []string
	hasAlrt  bool
}

var testEventKeys = []string{"id", "platform", "kind", "space", "channel", "thread", "reply_to",
	"text", "attachments", "files", "hidden_links", "forward", "embeds", "poll", "link", "label", "author",
	"at", "after", "repeat", "every"}

var testAuthorKeys = []string{"id", "name", "username", "roles", "staff", "bot", "created_at", "joined_at",
	"account_age", "member_age", "verified"}

// maxTestEvents bounds the events of a file's tests, repeats included. They
// are all made when the file loads (some 500 bytes each: a console draft's
// check on each keystroke included) and run by each reload; without it a
// draft of 1 MiB (tests of repeat: 10000) made a hundred million events,
// tens of GB, and the process died.
const maxTestEvents = 20_000

func compileTests(d *decoder, fs fileSpec, rs *Ruleset) []ruleTest {
	base := time.Date(2026, 1, 5, 12, 0, 0, 0, rs.Timezone)
	ruleNames := fs.RuleNames
	var allRules []string
	for name := range ruleNames {
		allRules = append(allRules, name)
	}
	sort.Strings(allRules)
	alertNames := map[string]bool{}
	for _, a := range fs.Alerts {
		alertNames[a.Name] = true
	}
	counterNames := map[string]bool{}
	for _, c := range fs.Counters {
		counterNames[c.Name] = true
	}
	var out []ruleTest
	for _, ts := range fs.Tests {
		if d.testEventsMade > maxTestEvents {
			break // said once, at the event that went past
		}
		t := ruleTest{name: ts.Name, line: ts.Node.Line}
		where := fmt.Sprintf("test %q", ts.Name)
		for _, en := range ts.Events {
			t.events = append(t.events, d.testEvents(en, where, base, rs.Timezone, len(t.events))...)
		}
		for _, xn := range ts.Expect {
			if x, ok := d.expectation(xn, where, t.events, ruleNames, allRules, counterNames, alertNames); ok {
				t.expects = append(t.expects, x)
			}
		}
		out = append(out, t)
	}
	return out
}

func (d *decoder) testEvents(n *yaml.Node, where string, base time.Time, loc *time.Location, before int) []bot.Event {
	where += ": event"
	m, ok := d.mapping(n, where, testEventKeys...)
	if !ok {
		return nil
	}
	ev := bot.Event{Platform: "test", Kind: bot.KindMessage, Space: "test", Channel: "test", Author: bot.Author{ID: "u1"}}
	strField := func(key string, dst *string) {
		if e, ok := m[key]; ok {
			*dst, _ = d.str(e.Value, where+": "+key)
		}
	}
	strField("id", &ev.ID)
	strField("platform", &ev.Platform)
	var kind string
	strField("kind", &kind)
	if kind != "" {
		ev.Kind = bot.Kind(kind)
	}
	strField("space", &ev.Space)
	strField("channel", &ev.Channel)
	strField("thread", &ev.Thread)
	strField("reply_to", &ev.ReplyTo)
	strField("text", &ev.Text)
	strField("link", &ev.Link)
	strField("label", &ev.Label)
	if e, ok := m["attachments"]; ok {
		ev.Attachments, _ = d.integer(e.Value, where+": attachments")
	}
	d.testShown(m, where, &ev)
	ev.At = base
	if e, ok := m["at"]; ok {
		if s, ok := d.str(e.Value, where+": at"); ok {
			t, err := parseTestTime(s, loc)
			if err != nil {
				d.errorf(resolve(e.Value), "%s: at: %v", where, err)
			}
			ev.At = t
		}
	}
	if e, ok := m["after"]; ok {
		if _, hasAt := m["at"]; hasAt {
			d.errorf(e.KeyN, "%s: give at or after, not both", where)
		}
		if da, ok := d.duration(e.Value, where+": after"); ok {
			ev.At = base.Add(da.D)
		}
	}
	repeat, every := 1, time.Second
	if e, ok := m["repeat"]; ok {
		if r, ok := d.integer(e.Value, where+": repeat"); ok {
			if r < 1 || r > 10000 {
				d.errorf(resolve(e.Value), "%s: repeat must be between 1 and 10000", where)
			} else {
				repeat = r
			}
		}
	}
	if e, ok := m["every"]; ok {
		if da, ok := d.duration(e.Value, where+": every"); ok {
			every = da.D
		}
	}
	if d.testEventsMade += repeat; d.testEventsMade > maxTestEvents {
		d.errorf(n, "%s: the tests have more than %d events in all, repeats included: keep them to what shows each rule's work "+
			"(vigie replay is for a large history)", where, maxTestEvents)
		return nil
	}
	var ages [2]time.Duration
	if e, ok := m["author"]; ok {
		ages = d.testAuthor(e.Value, where+": author", &ev.Author, loc)
	}
	out := make([]bot.Event, repeat)
	for i := range out {
		c := ev
		c.At = ev.At.Add(time.Duration(i) * every)
		switch {
		case ev.ID == "":
			c.ID = "t" + strconv.Itoa(before+i+1)
		case repeat > 1:
			c.ID = ev.ID + "-" + strconv.Itoa(i+1)
		}
		if ages[0] > 0 {
			c.Author.CreatedAt = c.At.Add(-ages[0])
		}
		if ages[1] > 0 {
			c.Author.JoinedAt = c.At.Add(-ages[1])
		}
		out[i] = c
	}
	return out
}

// testShown reads what a test event shows besides its text: files,
// hidden_links, forward, embeds and poll.
func (d *decoder) testShown(m map[string]entry, where string, ev *bot.Event) {
	if e, ok := m["files"]; ok {
		ev.Files, _ = d.strList(e.Value, where+": files", true)
	}
	if e, ok := m["hidden_links"]; ok {
		ev.HiddenLinks, _ = d.strList(e.Value, where+": hidden_links", true)
	}
	if e, ok := m["forward"]; ok {
		w := where + ": forward"
		if fm, ok := d.mapping(e.Value, w, "from", "text"); ok {
			ev.Forward = &bot.Forward{}
			if x, ok := fm["from"]; ok {
				ev.Forward.From, _ = d.str(x.Value, w+".from")
			}
			if x, ok := fm["text"]; ok {
				ev.Forward.Text, _ = d.str(x.Value, w+".text")
			}
		}
	}
	if e, ok := m["poll"]; ok {
		w := where + ": poll"
		if pm, ok := d.mapping(e.Value, w, "question", "description", "options", "explanation"); ok {
			ev.Poll = &bot.Poll{}
			if x, ok := pm["question"]; ok {
				ev.Poll.Question, _ = d.str(x.Value, w+".question")
			}
			if x, ok := pm["description"]; ok {
				ev.Poll.Description, _ = d.str(x.Value, w+".description")
			}
			if x, ok := pm["options"]; ok {
				ev.Poll.Options, _ = d.strList(x.Value, w+".options", true)
			}
			if x, ok := pm["explanation"]; ok {
				ev.Poll.Explanation, _ = d.str(x.Value, w+".explanation")
			}
		}
	}
	if e, ok := m["embeds"]; ok {
		w := where + ": embeds"
		items, _ := d.seq(e.Value, w, true)
		for _, it := range items {
			em, ok := d.mapping(it, w, "author", "author_url", "title", "description", "url", "fields", "footer")
			if !ok {
				continue
			}
			var out bot.Embed
			for i, key := range []string{"author", "author_url", "title", "description", "url", "footer"} {
				if x, ok := em[key]; ok {
					*[]*string{&out.Author, &out.AuthorURL, &out.Title, &out.Description, &out.URL, &out.Footer}[i], _ = d.str(x.Value, w+"."+key)
				}
			}
			if x, ok := em["fields"]; ok {
				fields, _ := d.seq(x.Value, w+".fields", true)
				for _, f := range fields {
					fm, ok := d.mapping(f, w+".fields", "name", "value")
					if !ok {
						continue
					}
					var field bot.EmbedField
					if y, ok := fm["name"]; ok {
						field.Name, _ = d.str(y.Value, w+".fields.name")
					}
					if y, ok := fm["value"]; ok {
						field.Value, _ = d.str(y.Value, w+".fields.value")
					}
					out.Fields = append(out.Fields, field)
				}
			}
			ev.Embeds = append(ev.Embeds, out)
		}
	}
}

func (d *decoder) testAuthor(n *yaml.Node, where string, a *bot.Author, loc *time.Location) (ages [2]time.Duration) {
	m, ok := d.mapping(n, where, testAuthorKeys...)
	if !ok {
		return ages
	}
	if e, ok := m["id"]; ok {
		a.ID, _ = d.str(e.Value, where+".id")
	}
	if e, ok := m["name"]; ok {
		a.Name, _ = d.str(e.Value, where+".name")
	}
	if e, ok := m["username"]; ok {
		a.Username, _ = d.str(e.Value, where+".username")
	}
	if e, ok := m["roles"]; ok {
		a.Roles, _ = d.strList(e.Value, where+".roles", true)
	}
	if e, ok := m["staff"]; ok {
		a.Staff, _ = d.boolean(e.Value, where+".staff")
	}
	if e, ok := m["bot"]; ok {
		a.Bot, _ = d.boolean(e.Value, where+".bot")
	}
	if e, ok := m["verified"]; ok {
		v, _ := d.boolean(e.Value, where+".verified")
		a.Unverified = !v
	}
	for i, key := range []string{"created_at", "joined_at"} {
		e, ok := m[key]
		if !ok {
			continue
		}
		s, ok := d.str(e.Value, where+"."+key)
		if !ok {
			continue
		}
		t, err := parseTestTime(s, loc)
		if err != nil {
			d.errorf(resolve(e.Value), "%s.%s: %v", where, key, err)
			continue
		}
		if i == 0 {
			a.CreatedAt = t
		} else {
			a.JoinedAt = t
		}
	}
	for i, key := range []string{"account_age", "member_age"} {
		if e, ok := m[key]; ok {
			if da, ok := d.duration(e.Value, where+"."+key); ok {
				ages[i] = da.D
			}
		}
	}
	return ages
}

func parseTestTime(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("bad time %q (want RFC 3339 like 2026-01-05T23:30:00+01:00, or 2026-01-05 23:30 in the file's timezone)", s)
}

func (d *decoder) expectation(n *yaml.Node, where string, events []bot.Event, ruleNames map[string]bool,
	allRules []string, counterNames, alertNames map[string]bool) (expectation, bool) {
	m, ok := d.mapping(n, where+": expect", "event", "rules", "actions", "counters", "duplicate", "alerts")
	if !ok {
		return expectation{}, false
	}
	x := expectation{line: resolve(n).Line, event: len(events) - 1}
	good := true
	if e, ok := m["event"]; ok {
		s, _ := d.str(e.Value, where+": event")
		idx, err := eventIndex(s, events)
		if err != nil {
			d.errorf(resolve(e.Value), "%s: event: %v", where, err)
			good = false
		}
		x.event = idx
	}
	if e, ok := m["rules"]; ok {
		items, _ := d.seq(e.Value, where+": rules", true)
		x.hasRules = true
		x.rules = []string{}
		for _, it := range items {
			s, ok := d.str(it, where+": rules")
			if !ok {
				good = false
				continue
			}
			if !ruleNames[s] {
				msg := fmt.Sprintf("%s: unknown rule %q", where, s)
				if c := bot.Closest(s, allRules); c != "" {
					msg += fmt.Sprintf(" (did you mean %q?)", c)
				}
				d.errorf(it, "%s", msg)
				good = false
				continue
			}
			x.rules = append(x.rules, s)
		}
		sort.Strings(x.rules)
	}
	if e, ok := m["actions"]; ok {
		specs, ok := d.decodeActions(e.Value, where+": actions")
		good = good && ok
		x.hasActs = true
		x.actions = []string{}
		for _, sp := range specs {
			a, err := parseAction(sp, false)
			if err != nil {
				d.errorf(sp.Node, "%s: actions: %v", where, err)
				good = false
				continue
			}
			x.actions = append(x.actions, a.String())
		}
	}
	if e, ok := m["counters"]; ok {
		cn := resolve(e.Value)
		if cn.Kind != yaml.MappingNode {
			d.errorf(cn, "%s: counters: expected {name: value}, got %s", where, kindName(cn))
			good = false
		} else {
			x.counters = map[string]int64{}
			for i := 0; i+1 < len(cn.Content); i += 2 {
				k := cn.Content[i]
				if !counterNames[k.Value] {
					msg := fmt.Sprintf("%s: counters: unknown counter %q", where, k.Value)
					if c := bot.Closest(k.Value, slices.Sorted(maps.Keys(counterNames))); c != "" {
						msg += fmt.Sprintf(" (did you mean %q?)", c)
					}
					d.errorf(k, "%s", msg)
					good = false
					continue
				}
				v, ok := d.integer(cn.Content[i+1], where+": counters."+k.Value)
				good = good && ok
				x.counters[k.Value] = int64(v)
			}
		}
	}
	if e, ok := m["duplicate"]; ok {
		b, ok := d.boolean(e.Value, where+": duplicate")
		good = good && ok
		x.dup = &b
	}
	if e, ok := m["alerts"]; ok {
		items, _ := d.seq(e.Value, where+": alerts", true)
		x.hasAlrt = true
		x.alerts = []string{}
		for _, it := range items {
			s, ok := d.str(it, where+": alerts")
			if !ok {
				good = false
				continue
			}
			if !alertNames[s] {
				d.errorf(it, "%s: unknown alert %q", where, s)
				good = false
				continue
			}
			x.alerts = append(x.alerts, s)
		}
		sort.Strings(x.alerts)
	}
	if !x.hasRules && !x.hasActs && x.counters == nil && x.dup == nil && !x.hasAlrt {
		d.errorf(n, "%s: an expectation needs rules, actions, counters, duplicate or alerts", where)
		good = false
	}
	return x, good
}

func eventIndex(s string, events []bot.Event) (int, error) {
	switch s {
	case "last":
		return len(events) - 1, nil
	case "first":
		return 0, nil
	}
	if i, err := strconv.Atoi(s); err == nil {
		if i < 1 || i > len(events) {
			return 0, fmt.Errorf("no event %d (the test has %d)", i, len(events))
		}
		return i - 1, nil
	}
	for i, ev := range events {
		if ev.ID == s {
			return i, nil
		}
	}
	return 0, fmt.Errorf("no event with id %q (write a number, first, last or an id)", s)
}

// RunTests runs the rule file's tests, each on a fresh memory store with the
// events' own clock.
func (rs *Ruleset) RunTests(ctx context.Context) []TestResult {
	out := make([]TestResult, 0, len(rs.tests))
	for _, t := range rs.tests {
		if ctx.Err() != nil {
			out = append(out, TestResult{Name: t.name, Line: t.line, Failures: []string{ctx.Err().Error()}})
			continue
		}
		out = append(out, rs.runTest(ctx, t))
	}
	return out
}

func (rs *Ruleset) runTest(ctx context.Context, t ruleTest) TestResult {
	res := TestResult{Name: t.name, Line: t.line}
	st := memory.New()
	defer st.Close()
	eng := NewEngine(rs, st, Options{})
	assessed := make([]Assessment, len(t.events))
	for i, ev := range t.events {
		a, err := eng.Assess(ctx, ev)
		if err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("event %d (%s): %v", i+1, ev.ID, err))
			return res
		}
		assessed[i] = a
		res.Errors = append(res.Errors, a.Errors...)
	}
	for _, x := range t.expects {
		v := assessed[x.event].Verdict
		at := fmt.Sprintf("line %d: event %d (%s)", x.line, x.event+1, t.events[x.event].ID)
		if x.hasRules {
			got := make([]string, 0, len(v.Matches))
			for _, m := range v.Matches {
				if !strings.HasPrefix(m.Rule, AlertMatchPrefix) { // alerts: says those
					got = append(got, m.Rule)
				}
			}
			sort.Strings(got)
			if !slices.Equal(got, x.rules) {
				res.Failures = append(res.Failures, fmt.Sprintf("%s: expected rules %s, got %s", at, list(x.rules), describeMatches(v)))
			}
		}
		if x.hasActs {
			got := []string{}
			for _, a := range v.Actions() {
				got = append(got, a.String())
			}
			if !slices.Equal(got, x.actions) {
				res.Failures = append(res.Failures, fmt.Sprintf("%s: expected actions %s, got %s", at, list(x.actions), list(got)))
			}
		}
		for _, name := range sortedKeys(x.counters) {
			if got := v.Counters[name]; got != x.counters[name] {
				res.Failures = append(res.Failures, fmt.Sprintf("%s: expected counters.%s = %d, got %d", at, name, x.counters[name], got))
			}
		}
		if x.dup != nil && v.Duplicate != *x.dup {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: expected duplicate: %t, got %t", at, *x.dup, v.Duplicate))
		}
		if x.hasAlrt {
			got := []string{}
			for _, c := range assessed[x.event].Alerts {
				got = append(got, c.Alert)
			}
			sort.Strings(got)
			if !slices.Equal(got, x.alerts) {
				res.Failures = append(res.Failures, fmt.Sprintf("%s: expected alerts %s, got %s", at, list(x.alerts), list(got)))
			}
		}
	}
	return res
}

func list(items []string) string { return "[" + strings.Join(items, ", ") + "]" }

// describeMatches lists the matched rules with their reasons, so that a failing
// test says why a rule fired.
func describeMatches(v bot.Verdict) string {
	parts := make([]string, 0, len(v.Matches))
	for _, m := range v.Matches {
		s := m.Rule
		if m.Shadow {
			s += " (shadow)"
		}
		parts = append(parts, s+" ("+m.Reason+")")
	}
	return list(parts)
}

func sortedKeys(m map[string]int64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
