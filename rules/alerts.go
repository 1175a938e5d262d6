package rules

// The alerts: section: crisis alerts over the rules' hits in a space.
//
//	alerts:
//	  - name: wave
//	    when: 'hits("abuse", "10m") >= 20'
//	    do: [alert("Vague de commentaires hostiles sur {{space}}")]
//	  - name: unusual
//	    when: 'hits("abuse", "1h") >= 10 and hits("abuse", "1h") > 3 * baseline("abuse")'
//	    do: [alert("Trois fois plus d'insultes que d'habitude à cette heure")]
//	  - name: copy-raid
//	    when: counters.copies >= 5
//	    do: [alert("Raid sur {{space}}"), lockdown(10m)]
//
// hits(TARGET, WINDOW) counts the events of the event's space (platform and
// space) that a rule named TARGET, or a rule of the category TARGET, matched in
// the last WINDOW, this event included; shadow rules count. baseline(TARGET) is
// the usual number of such hits in an hour at this time of day: the median over
// the last 7 days of the hits in the same clock hour (0 without history, so add a
// floor like hits(...) >= 10). counters.NAME, platform, space, channel, kind and
// after_hours can be used too.
//
// The counts live in the store, as sliding-window counters keyed by the space:
// they are read in the event's own Observe call, and written by one more call
// only when a rule that an alert counts matched. Whether an alert is raised, how
// long a wave lasts and what the desk is told is package rules/wave's and the
// handlers' business: the engine only says which conditions held.
//
// An alert may also act on the place: lockdown(D) and slowmode(D) are done
// for every event for which its condition holds, as a rule's would be (the
// first locks the place, the next ones extend the lock). They reach the
// verdict as a match named "alert:" and the alert's name, so the handlers
// carry them out, audit them and tell the desk as they do a rule's.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/wave"
	"github.com/vigie-bot/vigie/store"
)

// AlertInfo describes one alert of the file.
type AlertInfo struct {
	Name        string
	Description string
	When        string
	// Targets are the rules and categories its hits() and baseline() name.
	Targets []string
	// Window is the longest window of its hits(): a wave is over when the
	// condition has not held for that long.
	Window time.Duration
	// Counted and Span say what an alert over counters only (no hits())
	// counts, for the desk: "joins" or "messages" when its condition or its
	// counters' keep to one kind of event, "events" otherwise, and the
	// longest window of its counters ("15 joins in 10m").
	Counted string
	Span    time.Duration
	// Message is the text of its alert("…") action, unexpanded.
	Message string
	// Actions are the place's actions it does besides telling the desk
	// (lockdown, slowmode), as written.
	Actions []string
	Line    int
}

// AlertMatchPrefix starts the name of the match an alert's place actions
// (lockdown, slowmode) add to a verdict: "alert:copy-wave". A rule's name
// cannot be mistaken for it, and the reports name the alert.
const AlertMatchPrefix = "alert:"

// AlertCheck is an alert whose condition held for an event.
type AlertCheck struct {
	Alert string
	// Count is the largest of its hits() for the event.
	Count int64
}

// Assessment is an event's verdict and the alerts whose condition held for it.
type Assessment struct {
	Verdict bot.Verdict
	Alerts  []AlertCheck
	// Message has the alerts' texts expanded for the event, by alert name.
	Message map[string]string
	// Errors are the rules and counters whose expression failed on the event
	// (skipped for it; the other rules still decided), in file order.
	Errors []RuleError
	// Seen is the mark the store keeps of the event's id, pending when
	// Options.Pending is set (zero for an event without id, and for a
	// duplicate).
	Seen store.SeenMark
	// alerts writes the messages of Alerts when Message was left out
	// (Options.NoAlertMessages).
	alerts *alertSet
	names  PlaceNames
}

// AlertMessage is the text of alert name's message for ev, the event
// assessed: Message's, or, when the engine left Message out
// (Options.NoAlertMessages), written now as Message would have had it. It
// is "" for an alert that did not hold.
func (a *Assessment) AlertMessage(name string, ev *bot.Event) string {
	if a.Message != nil || a.alerts == nil {
		return a.Message[name]
	}
	for _, c := range a.Alerts {
		if c.Alert != name {
			continue
		}
		for _, al := range a.alerts.alerts {
			if al.name == name {
				return al.message.expand(ev, name, a.names)
			}
		}
	}
	return ""
}

// RuleError is a rule's or a counter's expression that failed at run time.
type RuleError struct {
	// Rule is the rule's name, or counters.NAME for a counter.
	Rule string
	// Line and Col are where the failing expression is written.
	Line, Col int
	Err       error
}

// baselineDays is how many past days baseline() takes the median of.
const baselineDays = 7

// hitPrefix starts the store names of the hit counters; a counter of the file is
// a word, so the two never meet.
const hitPrefix = "~hits:"

type alertSpec struct {
	Name        string
	Node        *yaml.Node
	Description string
	When        exprSpec
	Do          []actionSpec
}

// hitCounter is one (target, window) that some alert counts.
type hitCounter struct {
	target string
	window time.Duration
	// name is the counter's name in the store (hits only), nameSum its
	// hash (store.SumName).
	name    string
	nameSum store.KeySum
	// rules are the indexes of the rules it counts (by name or category).
	rules []int
	// early: every rule it counts is decided before the store is asked
	// (rule.beforeStore), so the event is added in its Observe, not in a
	// second one once the rules ran (hits only).
	early bool
}

// alertSet is the compiled alerts: section.
type alertSet struct {
	alerts []alert
	hits   []hitCounter
	// baselines are the targets baseline() names; each reads baselineDays hour
	// buckets and writes the current one.
	baselines []hitCounter
	// counted marks the rules whose matches feed a counter.
	counted []bool
	// early marks the rules the engine decides before the store is asked,
	// for the hit counters that are early; earlyRules lists them, in order.
	early      []bool
	earlyRules []int
	anyEarly   bool
}

type alert struct {
	name    string
	when    *vm.Program
	native  *alertNative // when's closures, nil when they do not cover it
	message template
	// place are its lockdown and slowmode, done for each event it holds for.
	place []action
	// whenSrc is its condition on one line, for the reason of place's match.
	whenSrc string
	hits    []int // indexes into alertSet.hits, for AlertCheck.Count
	// counters are the counters its condition reads, for AlertCheck.Count
	// when it reads no hits()
	counters []int
}

// alertEnv is what an alert's condition sees.
type alertEnv struct {
	Platform   string `expr:"platform"`
	Space      string `expr:"space"`
	Channel    string `expr:"channel"`
	Kind       string `expr:"kind"`
	AfterHours bool   `expr:"after_hours"`
	Counters   []int  `expr:"counters"`
	// Hits and Baseline are what hits() and baseline() are rewritten to read.
	Hits     []int     `expr:"__hits"`
	Baseline []float64 `expr:"__baseline"`
}

var alertKeys = []string{"name", "description", "when", "do"}

func (d *decoder) decodeAlerts(n *yaml.Node) []alertSpec {
	items, ok := d.seq(n, "alerts", false)
	if !ok {
		return nil
	}
	var out []alertSpec
	seen := map[string]int{}
	for i, it := range items {
		where := fmt.Sprintf("alerts[%d]", i)
		m, ok := d.mapping(it, where, alertKeys...)
		if !ok {
			continue
		}
		sp := alertSpec{Node: it}
		good := true
		if e, ok := m["name"]; ok {
			name, ok := d.str(e.Value, where+": name")
			if ok && strings.TrimSpace(name) == "" {
				d.errorf(resolve(e.Value), "%s: empty name", where)
				ok = false
			}
			if line, dup := seen[name]; ok && dup {
				d.errorf(resolve(e.Value), "alert %q: name used twice (first at line %d)", name, line)
				ok = false
			}
			seen[name] = resolve(e.Value).Line
			sp.Name, good = name, good && ok
			where = fmt.Sprintf("alert %q", name)
		} else {
			d.errorf(it, "%s: missing key \"name\"", where)
			good = false
		}
		if e, ok := m["description"]; ok {
			sp.Description, _ = d.str(e.Value, where+": description")
		}
		when, ok := d.when(m, it, where)
		sp.When, good = when, good && ok
		if e, ok := m["do"]; ok {
			acts, ok := d.decodeActions(e.Value, where+": do")
			good = good && ok
			sp.Do = acts
		} else {
			d.errorf(it, "%s: missing key \"do\" (like do: [alert(\"...\")])", where)
			good = false
		}
		if good {
			out = append(out, sp)
		}
	}
	return out
}

// compileAlerts compiles the alerts against the file's rules and counters.
func compileAlerts(d *decoder, c *exprCompiler, specs []alertSpec, rs *Ruleset) {
	set := &alertSet{counted: make([]bool, len(rs.rules))}
	targets := map[string][]int{}
	var known []string
	for i, r := range rs.rules {
		targets[r.name] = append(targets[r.name], i)
		if r.category != "" && r.category != r.name {
			targets[r.category] = append(targets[r.category], i)
		}
	}
	for t := range targets {
		known = append(known, t)
	}
	sort.Strings(known)
	for _, sp := range specs {
		what := fmt.Sprintf("alert %q", sp.Name)
		info := AlertInfo{Name: sp.Name, Description: sp.Description, Line: sp.Node.Line,
			When: strings.Join(strings.Fields(sp.When.Src), " ")}
		a := alert{name: sp.Name}
		good := true
		told := false
		for _, as := range sp.Do {
			act, err := parseAction(as, true)
			if err != nil {
				d.errorf(as.Node, "%s: %v", what, err)
				good = false
				continue
			}
			switch act.kind {
			case bot.ActAlert:
				if told {
					d.errorf(as.Node, "%s: one alert(\"...\") is enough", what)
					good = false
				}
				told = true
				a.message = act.text
				info.Message = act.text.source()
			case bot.ActLockdown, bot.ActSlowmode:
				if slices.ContainsFunc(a.place, func(p action) bool { return p.kind == act.kind }) {
					d.errorf(as.Node, "%s: %s given twice", what, act.kind)
					good = false
					continue
				}
				a.place = append(a.place, act)
				info.Actions = append(info.Actions, act.String())
			default:
				d.errorf(as.Node, "%s: an alert can do alert(\"...\"), lockdown(D) and slowmode(D), not %s", what, act.kind)
				good = false
			}
		}
		if !told && good {
			d.errorf(sp.Node, "%s: do: needs an alert(\"...\") action", what)
			good = false
		}
		p := &alertPatcher{c: c, set: set, targets: targets, known: known}
		prog, ok := compileAlertExpr(d, sp.When, what+": when", p)
		if !ok || !good {
			continue
		}
		a.when, a.whenSrc = prog, info.When
		a.native = nativeAlert(prog.Node())
		a.hits, a.counters = p.used, p.counters
		for _, i := range p.used {
			info.Window = max(info.Window, set.hits[i].window)
			if !slices.Contains(info.Targets, set.hits[i].target) {
				info.Targets = append(info.Targets, set.hits[i].target)
			}
		}
		for _, t := range p.baselined {
			if !slices.Contains(info.Targets, t) {
				info.Targets = append(info.Targets, t)
			}
		}
		if info.Window == 0 {
			// an alert over counters only: a wave lasts while it holds, and is
			// over after ten quiet minutes
			info.Window = 10 * time.Minute
			whens := []ast.Node{prog.Node()}
			for _, i := range p.counters {
				info.Span = max(info.Span, rs.counters[i].window)
				if w := rs.counters[i].when; w != nil {
					whens = append(whens, w.Node())
				}
			}
			info.Counted = countedKind(whens)
		}
		set.alerts = append(set.alerts, a)
		rs.Alerts = append(rs.Alerts, info)
	}
	for _, h := range append(slices.Clone(set.hits), set.baselines...) {
		for _, i := range h.rules {
			set.counted[i] = true
		}
	}
	// A hit counter whose rules read neither counters nor strikes is added
	// to in the event's Observe: the rules are decided before it, and the
	// event needs no second call to the store (a round trip on Redis).
	set.early = make([]bool, len(rs.rules))
	for k := range set.hits {
		h := &set.hits[k]
		h.early = len(h.rules) > 0 && !slices.ContainsFunc(h.rules, func(i int) bool { return !rs.rules[i].beforeStore })
		for _, i := range h.rules {
			set.early[i] = set.early[i] || h.early
		}
		set.anyEarly = set.anyEarly || h.early
	}
	for i, want := range set.early {
		if want {
			set.earlyRules = append(set.earlyRules, i)
		}
	}
	if len(set.alerts) > 0 {
		rs.alerts = set
	}
}

func compileAlertExpr(d *decoder, e exprSpec, what string, p *alertPatcher) (*vm.Program, bool) {
	if !checkShape(d, e, what) {
		return nil, false
	}
	if strings.TrimSpace(e.Src) == "" {
		d.errorf(e.Node, "%s: empty expression", what)
		return nil, false
	}
	prog, err := expr.Compile(e.Src,
		expr.Env(alertEnv{}),
		expr.MaxNodes(maxExprNodes),
		expr.DisableBuiltin("now"),
		expr.Patch(p),
		expr.AsBool(),
	)
	if len(p.problems) > 0 {
		for _, pr := range p.problems {
			at := d.scalarPos(e.Node, pr.offset)
			d.errorAt(at.Line, at.Col, "%s: %s", what, pr.msg)
		}
		return nil, false
	}
	if err != nil {
		offset, msg := 0, err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			offset, msg = fe.From, fe.Message
		}
		at := d.scalarPos(e.Node, offset)
		d.errorAt(at.Line, at.Col, "%s: %s", what, friendlyExprError(msg))
		return nil, false
	}
	return prog, true
}

// alertPatcher rewrites hits("abuse", "10m") into __hits[i], baseline("abuse")
// into __baseline[j] and counters.NAME into counters[k], registering what the
// engine must count.
type alertPatcher struct {
	c         *exprCompiler
	set       *alertSet
	targets   map[string][]int
	known     []string
	used      []int
	baselined []string
	counters  []int
	patchNotes
}

func (p *alertPatcher) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if strings.HasPrefix(n.Value, "__") && !p.patched[n] {
			p.problem(n, "unknown name %s", n.Value)
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok || id.Value != "counters" || p.patched[n] {
			return
		}
		p.counter(p.c, n)
		if i, ok := n.Property.(*ast.IntegerNode); ok && p.patched[n] && !slices.Contains(p.counters, i.Value) {
			p.counters = append(p.counters, i.Value)
		}
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return
		}
		switch id.Value {
		case "hits":
			p.hits(node, n)
		case "baseline":
			p.baseline(node, n)
		}
	}
}

func (p *alertPatcher) target(n *ast.CallNode, fn string) (string, []int, bool) {
	s, ok := n.Arguments[0].(*ast.StringNode)
	if !ok {
		p.problem(n, "%s: the first argument must be a rule or category name in quotes, like %s(\"abuse\", ...)", fn, fn)
		return "", nil, false
	}
	rules, known := p.targets[s.Value]
	if !known {
		msg := fmt.Sprintf("%s: no rule or category named %q", fn, s.Value)
		if c := bot.Closest(s.Value, p.known); c != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", c)
		} else if len(p.known) > 0 {
			msg += " (known: " + strings.Join(p.known, ", ") + ")"
		}
		p.problem(s, "%s", msg)
		return "", nil, false
	}
	return s.Value, rules, true
}

func (p *alertPatcher) hits(node *ast.Node, n *ast.CallNode) {
	if len(n.Arguments) != 2 {
		p.problem(n, "hits takes a rule or category and a window, like hits(\"abuse\", \"10m\")")
		return
	}
	target, rules, ok := p.target(n, "hits")
	if !ok {
		return
	}
	ws, ok := n.Arguments[1].(*ast.StringNode)
	if !ok {
		p.problem(n.Arguments[1], "hits: the window must be a duration in quotes, like \"10m\"")
		return
	}
	w, err := parseDuration(ws.Value)
	if err != nil {
		p.problem(ws, "hits: %v", err)
		return
	}
	i := slices.IndexFunc(p.set.hits, func(h hitCounter) bool { return h.target == target && h.window == w })
	if i < 0 {
		i = len(p.set.hits)
		name := hitPrefix + target + ":" + bot.FormatDuration(w)
		p.set.hits = append(p.set.hits, hitCounter{target: target, window: w, rules: rules,
			name: name, nameSum: store.SumName(name)})
	}
	if !slices.Contains(p.used, i) {
		p.used = append(p.used, i)
	}
	p.index(node, n, "__hits", i)
}

func (p *alertPatcher) baseline(node *ast.Node, n *ast.CallNode) {
	if len(n.Arguments) != 1 {
		p.problem(n, "baseline takes a rule or category, like baseline(\"abuse\"): the median of its hits in this hour of the day over the last 7 days")
		return
	}
	target, rules, ok := p.target(n, "baseline")
	if !ok {
		return
	}
	i := slices.IndexFunc(p.set.baselines, func(h hitCounter) bool { return h.target == target })
	if i < 0 {
		i = len(p.set.baselines)
		p.set.baselines = append(p.set.baselines, hitCounter{target: target, window: time.Hour, rules: rules})
	}
	if !slices.Contains(p.baselined, target) {
		p.baselined = append(p.baselined, target)
	}
	p.index(node, n, "__baseline", i)
}

func (p *alertPatcher) index(node *ast.Node, n *ast.CallNode, field string, i int) {
	id := &ast.IdentifierNode{Value: field}
	id.SetLocation(n.Location())
	p.markPatched(id)
	idx := &ast.IntegerNode{Value: i}
	idx.SetLocation(n.Location())
	m := &ast.MemberNode{Node: id, Property: idx}
	m.SetLocation(n.Location())
	p.markPatched(m)
	ast.Patch(node, m)
}

// hourBucket names the hour-long bucket of t for baseline(): UTC hours, so that
// a daylight saving change does not merge two hours.
func hourBucket(t time.Time) string { return t.UTC().Format("2006010215") }

// alertOps appends to ops the hit counters an event reads: each hits() window,
// and for each baseline() the same hour on each of the last days. An early
// hit counter is added to when its rules matched (matched, decided before the
// store is asked); incrOps writes the others once the rules have matched.
func (s *alertSet) alertOps(ops []store.CounterOp, space hitSpace, now time.Time, names *bucketNames, matched []bool) []store.CounterOp {
	for _, h := range s.hits {
		ops = append(ops, space.op(&h, h.early && h.hit(matched)))
	}
	if len(s.baselines) == 0 {
		return ops
	}
	past := names.past(s, now)
	for j := range s.baselines {
		for day := range baselineDays {
			ops = append(ops, store.CounterOp{Name: past[j*baselineDays+day], Key: space.name, Window: (baselineDays + 1) * 24 * time.Hour})
		}
	}
	return ops
}

// bucketNames keeps the baseline counters' names of the hour under way: they
// change once an hour, not at each event.
type bucketNames struct {
	hour    int64
	current []string // by baseline
	before  []string // by baseline, then day
}

func (b *bucketNames) past(s *alertSet, now time.Time) []string {
	b.refresh(s, now)
	return b.before
}

func (b *bucketNames) refresh(s *alertSet, now time.Time) {
	h := now.Unix() / 3600
	if b.current != nil && b.hour == h {
		return
	}
	b.hour = h
	b.current, b.before = b.current[:0], b.before[:0]
	for _, bl := range s.baselines {
		b.current = append(b.current, baselineName(bl.target, now))
		for day := 1; day <= baselineDays; day++ {
			b.before = append(b.before, baselineName(bl.target, now.Add(-time.Duration(day)*24*time.Hour)))
		}
	}
}

func baselineName(target string, t time.Time) string {
	return hitPrefix + target + "@" + hourBucket(t)
}

// incrOps appends to ops the counters to add an event to, given which rules
// matched it, and to index where each is in s.hits (-1 for a baseline).
func (s *alertSet) incrOps(ops []store.CounterOp, index []int, matched []bool, space hitSpace, now time.Time, names *bucketNames) ([]store.CounterOp, []int) {
	for i := range s.hits {
		if h := &s.hits[i]; !h.early && h.hit(matched) {
			ops = append(ops, space.op(h, true))
			index = append(index, i)
		}
	}
	for j, b := range s.baselines {
		if b.hit(matched) {
			names.refresh(s, now)
			ops = append(ops, store.CounterOp{Name: names.current[j], Key: space.name,
				Window: (baselineDays + 1) * 24 * time.Hour, Incr: true})
			index = append(index, -1)
		}
	}
	return ops, index
}

// hit reports whether one of the rules h counts matched.
func (h *hitCounter) hit(matched []bool) bool {
	for _, i := range h.rules {
		if matched[i] {
			return true
		}
	}
	return false
}

// median of the baseline buckets read for target b.
func median(counts []int64) float64 {
	if len(counts) == 0 {
		return 0
	}
	s := slices.Clone(counts)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return float64(s[m])
	}
	return float64(s[m-1]+s[m]) / 2
}

// alertMsgKept is how many messages of each alert a scratch keeps: events
// from a few spaces interleave.
const alertMsgKept = 4

// placeMatches are the matches of the alerts that held and act on the place
// (lockdown, slowmode), to add to the event's verdict, their reasons with
// withReasons.
func (s *alertSet) placeMatches(checks []AlertCheck, ev *bot.Event, withReasons bool, names PlaceNames) []bot.Match {
	var out []bot.Match
	for _, c := range checks {
		i := slices.IndexFunc(s.alerts, func(a alert) bool { return a.name == c.Alert })
		if i < 0 || len(s.alerts[i].place) == 0 {
			continue
		}
		m := bot.Match{Rule: AlertMatchPrefix + c.Alert, Category: "alert"}
		if withReasons {
			m.Reason = "alert " + c.Alert + " held: " + s.alerts[i].whenSrc
		}
		for _, a := range s.alerts[i].place {
			m.Actions = append(m.Actions, a.expand(ev, m.Rule, names))
		}
		out = append(out, m)
	}
	return out
}

// check runs the alerts for one event, and with withMsgs writes their
// messages. last keeps the last alertMsgKept messages of each alert, alert
// after alert: the same message (the same space) is not written again.
func (s *alertSet) check(machine *vm.VM, env *alertEnv, ev *bot.Event, last []string, withMsgs bool, names PlaceNames) ([]AlertCheck, map[string]string) {
	var out []AlertCheck
	var msgs map[string]string
	var boxed any // env, boxed once for all the alerts the machine runs
	for k, a := range s.alerts {
		if a.native.usable(env) {
			if !a.native.when(env) {
				continue
			}
		} else {
			if boxed == nil {
				boxed = *env
			}
			res, err := machine.Run(a.when, boxed)
			if err != nil || res != true {
				continue
			}
		}
		c := AlertCheck{Alert: a.name}
		for _, i := range a.hits {
			c.Count = max(c.Count, int64(env.Hits[i]))
		}
		if len(a.hits) == 0 {
			for _, i := range a.counters {
				if i < len(env.Counters) {
					c.Count = max(c.Count, int64(env.Counters[i]))
				}
			}
		}
		if out == nil {
			// room for every alert: a wave often holds two at once
			out = make([]AlertCheck, 0, len(s.alerts)-k)
			if withMsgs {
				msgs = make(map[string]string, len(s.alerts)-k)
			}
		}
		out = append(out, c)
		if withMsgs {
			msgs[a.name] = a.message.reuse(last[k*alertMsgKept:(k+1)*alertMsgKept], ev, a.name, names)
		}
	}
	return out, msgs
}

// WaveAlerts returns the alerts as package wave follows them.
func (rs *Ruleset) WaveAlerts() []wave.Alert {
	out := make([]wave.Alert, len(rs.Alerts))
	for i, a := range rs.Alerts {
		out[i] = wave.Alert{Name: a.Name, Targets: a.Targets, Window: a.Window, Message: a.Message, Counted: a.Counted, Span: a.Span}
	}
	return out
}

// opCount is how many counters alertOps adds to an event's Observe.
func (s *alertSet) opCount() int {
	if s == nil {
		return 0
	}
	return len(s.hits) + baselineDays*len(s.baselines)
}

// alertSpace is the key of a space's hit counters; events without a space (direct
// messages) share one.
func alertSpace(space string) string {
	if space == "" {
		return "-"
	}
	return space
}

// hitSpace is the key of the hit counters of an event's space: its name
// (alertSpace), and for a store that keys counters by hash its sum, set.
type hitSpace struct {
	name   string
	sum    store.KeySum
	summed bool
}

// alertSpace is the key of the hit counters of space for this engine's
// store; the space's sum is the one its counters' keys read.
func (e *Engine) alertSpace(st *evalState, space string) hitSpace {
	hs := hitSpace{name: alertSpace(space)}
	if e.impl.sums {
		if hs.name == space {
			hs.sum = st.spaceSum(space)
		} else {
			hs.sum = store.SumText(hs.name)
		}
		hs.summed = true
	}
	return hs
}

// op is hit counter h's operation in the space.
func (hs hitSpace) op(h *hitCounter, incr bool) store.CounterOp {
	op := store.CounterOp{Name: h.name, Window: h.window, Incr: incr}
	if hs.summed {
		op.Sum = h.nameSum.Then(hs.sum)
	} else {
		op.Key = hs.name
	}
	return op
}

// checkAlerts counts the event's hits (one more store call, only when a rule an
// alert counts matched) and runs the alerts' conditions. read holds the hit
// counters as the event's Observe read them, in alertOps' order.
func (e *Engine) checkAlerts(ctx context.Context, s *scratch, ev *bot.Event, now time.Time, read []int64, counts []int) ([]AlertCheck, map[string]string) {
	set := e.rs.alerts
	s.hits = slices.Grow(s.hits[:0], len(set.hits))[:len(set.hits)]
	s.base = slices.Grow(s.base[:0], len(set.baselines))[:len(set.baselines)]
	hits, base := s.hits, s.base
	for i := range hits {
		if i < len(read) {
			hits[i] = int(read[i])
		}
	}
	for j := range base {
		base[j] = 0
		from := len(set.hits) + j*baselineDays
		if from+baselineDays <= len(read) {
			base[j] = median(read[from : from+baselineDays])
		}
	}
	s.incr, s.incrIndex = set.incrOps(s.incr[:0], s.incrIndex[:0], s.matched, s.hitSpace, now, &s.buckets)
	if ops, index := s.incr, s.incrIndex; len(ops) > 0 {
		res, err := e.store.Observe(ctx, store.Observation{At: now, Platform: s.kept, Space: ev.Space,
			Author: ev.Author.ID, Counters: ops})
		if err != nil {
			// The alerts see the counts without this event; the next ones count.
			e.impl.log.Warn("alert hits not counted", "event", ev.ID, "err", err)
			for _, i := range index {
				if i >= 0 {
					hits[i]++
				}
			}
		} else {
			for k, i := range index {
				if i >= 0 && k < len(res.Counts) {
					hits[i] = int(res.Counts[k])
				}
			}
		}
	}
	// the environment lives in the scratch: the native conditions take its
	// address, which would move a local one to the heap on every event
	s.alertEnv = alertEnv{Platform: ev.Platform, Space: ev.Space, Channel: ev.Channel, Kind: string(ev.Kind),
		AfterHours: s.hoursAfter, Counters: counts, Hits: hits, Baseline: base}
	if len(s.alertMsgs) != alertMsgKept*len(set.alerts) {
		s.alertMsgs = make([]string, alertMsgKept*len(set.alerts))
	}
	checks, msgs := set.check(&s.machine, &s.alertEnv, ev, s.alertMsgs, !e.opts.NoAlertMessages, e.opts.PlaceName)
	s.alertEnv = alertEnv{}
	return checks, msgs
}

// countedKind names what an alert over counters counts, from its condition
// and its counters' when: the kind of event one of them keeps to (kind ==
// "join"), "events" when none does or they name several.
func countedKind(whens []ast.Node) string {
	var kinds []string
	for _, n := range whens {
		ast.Find(n, func(n ast.Node) bool {
			b, ok := n.(*ast.BinaryNode)
			if !ok || b.Operator != "==" {
				return false
			}
			for _, side := range [][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
				id, ok := side[0].(*ast.IdentifierNode)
				s, ok2 := side[1].(*ast.StringNode)
				if ok && ok2 && id.Value == "kind" && !slices.Contains(kinds, s.Value) {
					kinds = append(kinds, s.Value)
				}
			}
			return false
		})
	}
	if len(kinds) != 1 {
		return "events"
	}
	switch bot.Kind(kinds[0]) {
	case bot.KindJoin:
		return "joins"
	case bot.KindMessage:
		return "messages"
	case bot.KindComment:
		return "comments"
	case bot.KindEdit:
		return "edits"
	case bot.KindDM:
		return "private messages"
	case bot.KindProfile:
		return "name changes"
	}
	return "events"
}
