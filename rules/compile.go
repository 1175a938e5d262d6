package rules

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"go.yaml.in/yaml/v3"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/rules/text"
	"github.com/vigie-bot/vigie/store"
)

const (
	// defaultStrikeTTL is how long a strike is kept when no strikes() window in
	// the file asks for longer.
	defaultStrikeTTL = 30 * 24 * time.Hour
	// dedupeTTL is how long an event id is remembered: webhook retries come
	// within minutes, Meta's for up to 36 hours, a replayed file within the
	// same run. The journal (store.Begin) covers a crash after an event was seen.
	dedupeTTL = 72 * time.Hour
	// defaultFAQThreshold is the faq: threshold when the file gives none.
	defaultFAQThreshold = 0.55
)

// Ruleset is a compiled rule file.
type Ruleset struct {
	// File is the rule file's name as given to Load or Parse.
	File string
	// Warnings are problems that do not stop the file from loading (an unset
	// ${ENV} in desk, a rule whose hours can never apply).
	Warnings []Problem
	// Rules describes the rules in file order.
	Rules []RuleInfo
	Desk  Desk
	FAQ   FAQ
	// FAQOnly says the file has no rules: key, only faq: (the assistant
	// alone). A reload refuses such a file over rules that run: a file saved
	// half-written, or the wrong one, would stop all moderation; rules: []
	// says it on purpose.
	FAQOnly bool
	// HTTPActOn lists the platforms whose connector is on that events posted
	// over HTTP may still act on (http_events.act_on); none by default.
	HTTPActOn []string
	// ModLog is where every action is logged (modlog:).
	ModLog ModLog
	// Verify is the new members' button captcha (verify:).
	Verify Verify
	// Timezone is the file's timezone:, UTC when it gives none. Office hours,
	// holidays and the tests' local times are read in it.
	Timezone *time.Location

	// Alerts describes the alerts: section, in file order.
	Alerts []AlertInfo
	// Models describes the models: section, in file order.
	Models []ModelInfo
	// Communities are the communities: section, in file order.
	Communities []Community

	// places maps a place to its community's index in Communities.
	places map[placeKey]int
	// envDefault is community in expressions outside every community: no
	// name, the file's vars.
	envDefault communityEnv
	// offOutside marks the rules off outside every community (enabled: false).
	offOutside []bool
	// onOutside lists the rules that run outside every community (onRules).
	onOutside [2]ruleRun
	// sumsNative says every counter's key can be summed (keySum) and its
	// when: runs as a closure: for a store that takes sums, the engine
	// fills the counters' operations in one tight loop (sumOps).
	sumsNative bool

	schedule schedule
	// owners are the domains the file declares one owner's (owners:), nil
	// for none: masked_links does not count a link between two of them
	owners *text.Owners
	// hideComments turns the rules' delete into hide for page comments, so that a
	// wrong call can be undone from the desk (comments: {delete: hide}).
	hideComments bool
	alerts       *alertSet // nil without alerts
	counters     []counter
	rules        []rule
	tests        []ruleTest
	// strikeWindow is how far back Observe returns strikes: the longest window
	// given to strikes(), or strikeTTL when a window is only known at run time.
	strikeWindow time.Duration
	// strikeTTL is how long strikes are kept: 30 days, or the longest strikes()
	// window of the file when that is longer.
	strikeTTL time.Duration
	// source is the text the rules were compiled from, as read.
	source []byte
	// files are the list and model files it read, by their names in it.
	files map[string][]byte
}

// Source is the text the rules were compiled from, as read (before ${ENV} is
// expanded): Parse(rs.File, rs.Source(), opts) compiles the same rules while
// their lists are unchanged, whatever became of the file since.
func (rs *Ruleset) Source() []byte { return rs.source }

// Files are the list and model files the rules were compiled with, as read,
// by their names in the rule file (the file: of lists: and models:, as
// written): Parse(rs.File, rs.Source(), opts) with an opts.ReadFile that
// answers them compiles the same rules whatever became of the files since.
// A model given in LoadOptions.Models is not among them.
func (rs *Ruleset) Files() map[string][]byte { return rs.files }

type counter struct {
	name   string
	key    *vm.Program
	when   *vm.Program // nil: every event counts
	window time.Duration
	// keyFn and whenFn are key and when compiled to closures (native.go), nil
	// when they run on the machine.
	keyFn  func(*exprEnv) string
	whenFn func(*exprEnv) bool
	// keyApp, for a key glued from parts, appends it to the event's key
	// buffer instead (engine.go): one string for all the keys of an event.
	keyApp func(*exprEnv, []byte) []byte
	// keySum, for a store that keys counters by hash (store.SumKeyed), adds
	// the key's parts to nameSum, the name's hash, instead: no string is
	// built for the key.
	keySum  keySummer
	nameSum store.KeySum
	// byAuthor says author.id is a part of keySum's key
	// (store.CounterOp.ByAuthor).
	byAuthor bool
	// keyAt and whenAt are where key: and when: are written.
	keyAt, whenAt pos
}

type rule struct {
	name     string
	category string
	when     *vm.Program
	whenFn   func(*exprEnv) bool // when compiled to a closure, nil if it runs on the machine
	whenText string
	probes   []probe
	actions  []action
	strike   bool // an enforced strike action is among actions
	hours    Hours
	mode     Mode
	// officeForward: in office hours the rule only forwards to the desk.
	officeForward bool
	priority      string
	// disabled: written enabled: false, the rule applies only in the
	// communities that enable it.
	disabled bool
	line     int
	whenAt   pos // where when: is written, for run-time errors
	// beforeStore: the condition reads neither counters nor strikes, so it
	// can be decided before the store is asked (alerts.go folds the hits it
	// feeds into the event's one Observe).
	beforeStore bool
}

// AfterHours reports whether t is outside the file's office hours, or on one of
// its holidays, in the file's timezone. Without office_hours only holidays are
// after hours.
func (rs *Ruleset) AfterHours(t time.Time) bool { return rs.schedule.afterHours(t) }

// StrikeTTL is how long the engine keeps a strike.
func (rs *Ruleset) StrikeTTL() time.Duration { return rs.strikeTTL }

func loadFile(p string, opts LoadOptions) (*Ruleset, error) {
	src, err := readRegular(p, maxRuleFileBytes)
	if err != nil {
		return nil, fmt.Errorf("read rule file: %s: %w", p, pathless(err))
	}
	return parse(p, src, opts)
}

var yamlLineRe = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlHint adds to a YAML syntax error what a rule file's author can do about
// it, and the line and column to report; the parser's words name the grammar,
// not the mistake. A tab in the indentation of the line is the mistake
// whatever the parser says. After a plain scalar (category: flood) the parser
// names the scalar's line for a tab that indents a line below it, as it reads
// on for the scalar's continuation: the tab is then on the first line from
// there that has one in its indentation.
func yamlHint(lines []string, line int, msg string) (string, int, int) {
	last := line
	if strings.Contains(msg, "tab character") {
		last = len(lines)
	}
	for n := max(line, 1); n <= last && n <= len(lines); n++ {
		l := lines[n-1]
		if i := strings.IndexByte(l, '\t'); i >= 0 && strings.TrimLeft(l[:i], " ") == "" {
			return "a tab in the indentation: YAML indents with spaces only", n, i + 1
		}
	}
	switch {
	case strings.HasPrefix(msg, "found unexpected end of stream"):
		msg += ": a quote, [ or { is opened and never closed (a text with {{…}} in a list goes in quotes as a whole: 'warn(\"Merci {{author.name}}\")')"
	case strings.HasPrefix(msg, "mapping values are not allowed"):
		if overIndented(lines, line) {
			msg += ": this line is indented more than the key above it; the keys of one rule (or of one mapping) line up"
			return msg, line, keyCol(lines[line-1]) + 1
		}
		msg += `: a text holding ": " goes in quotes`
	case strings.HasPrefix(msg, "did not find expected '-' indicator"), strings.HasPrefix(msg, "did not find expected key"):
		// The parser names the line where the list or the mapping began
		// (rules:, hundreds of lines above); the mistake is the line
		// from there that goes back to no indentation of the lines above.
		if n, col, ok := misIndented(lines, line); ok {
			return msg + ": this line is not indented as the lines above it: the keys of one rule (or of one mapping) line up, and so do the items of a list", n, col
		}
		for n := max(line, 1); n <= len(lines); n++ {
			if keyLine.MatchString(lines[n-1]) && overIndented(lines, n) {
				return msg + ": this line is indented more than the key above it; the keys of one rule (or of one mapping) line up", n, keyCol(lines[n-1]) + 1
			}
		}
		msg += ": check the lines from here on: their indentation (a list's items, and a rule's keys, line up) and their quotes (a ' inside '…' is written '')"
	case strings.HasPrefix(msg, "did not find expected"):
		msg += ": check the lines from here on: their indentation (a list's items, and a rule's keys, line up) and their quotes (a ' inside '…' is written '')"
	}
	return msg, line, 1
}

// keyLine is a line that starts a key of a mapping (author: {id: r2}),
// after its indentation and a list's "- ".
var keyLine = regexp.MustCompile(`^[ ]*(- +)*[A-Za-z_][A-Za-z0-9_.-]*:( |$)`)

// keyCol is the column (from 0) where the line's key starts: a "- " before
// it counts as indentation, as the keys of a list item line up after it.
func keyCol(l string) int {
	t := strings.TrimLeft(l, " ")
	for strings.HasPrefix(t, "- ") {
		t = strings.TrimLeft(t[2:], " ")
	}
	return len(l) - len(t)
}

// misIndented finds the first line from line "from" (from 1) that goes back
// left to a column where no line above it, still open, starts ("   do:"
// under "    when:" in a rule), or that starts a key where a list's items
// start ("  when:" under "  - name: a"). It returns that line and the
// column of its first character, or false when every line lines up (the
// mistake is then something else: a quote, a flow collection).
func misIndented(lines []string, from int) (int, int, bool) {
	type level struct {
		col int
		seq bool // opened by a list's "- ", deeper than its key
	}
	open := []level{{}}
	for n, l := range lines {
		t := strings.TrimLeft(l, " ")
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind, item := len(l)-len(t), strings.HasPrefix(t, "- ") || t == "-"
		if top := open[len(open)-1]; ind > top.col {
			open = append(open, level{ind, item})
		} else {
			for len(open) > 1 && open[len(open)-1].col > ind {
				open = open[:len(open)-1]
			}
			if top := open[len(open)-1]; top.col != ind || (top.seq && !item) {
				if n+1 >= from {
					return n + 1, ind + 1, true
				}
				open = append(open, level{ind, item})
			}
		}
		if c := keyCol(l); c > ind {
			open = append(open, level{col: c})
		}
	}
	return 0, 0, false
}

// overIndented reports whether line (from 1) starts a key further right than
// the line above it, when that line is a key with its value on the same line
// (when: counters.msgs > 5): the parser reads the deeper line as the rest of
// that value and trips on its ": ". A "- " before a key counts as indentation,
// as the keys of a list item line up after it.
func overIndented(lines []string, line int) bool {
	if line < 2 || line > len(lines) {
		return false
	}
	cur := lines[line-1]
	for n := line - 1; n >= 1; n-- {
		prev := lines[n-1]
		t := strings.TrimSpace(prev)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return strings.Index(t, ": ") > 0 && keyCol(cur) > keyCol(prev)
	}
	return false
}

func parse(file string, src []byte, opts LoadOptions) (*Ruleset, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	d := &decoder{file: file, lines: strings.Split(text, "\n"), lookupEnv: opts.LookupEnv}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(text), &root); err != nil {
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		msg, line, col := yamlHint(d.lines, line, msg)
		d.errorAt(line, col, "%s", msg)
		return nil, &LoadError{Problems: d.errs}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		d.errorAt(1, 1, "the rule file is empty (it needs at least rules:)")
		return nil, &LoadError{Problems: d.errs}
	}
	if !d.checkAliases(&root) {
		return nil, &LoadError{Problems: d.errs}
	}
	fs := d.decodeFile(root.Content[0])
	rs := compileFile(d, fs, opts)
	d.refuseSecrets()
	if len(d.errs) > 0 {
		sortProblems(d.errs)
		if d.dropped > 0 {
			last := d.errs[len(d.errs)-1]
			d.errs = append(d.errs, Problem{File: d.file, Line: last.Line, Col: last.Col,
				Msg: fmt.Sprintf("and %d more problems", d.dropped)})
		}
		return nil, &LoadError{Problems: d.errs}
	}
	sortProblems(d.warns)
	rs.Warnings = d.warns
	rs.source = slices.Clone(src)
	rs.files = d.read
	return rs, nil
}

func sortProblems(ps []Problem) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		return a.Col - b.Col
	})
}

func compileFile(d *decoder, fs fileSpec, opts LoadOptions) *Ruleset {
	rs := &Ruleset{File: d.file, Timezone: time.UTC, FAQOnly: fs.FAQOnly}
	if fs.Timezone != nil {
		if name, ok := d.str(fs.Timezone, "timezone"); ok {
			loc, err := time.LoadLocation(name)
			if err != nil || name == "" {
				d.errorf(resolve(fs.Timezone), "timezone: unknown time zone %q (like Europe/Paris or UTC)", name)
			} else {
				rs.Timezone = loc
			}
		}
	}
	rs.schedule = compileSchedule(d, fs, rs.Timezone)
	rs.Desk = Desk{TelegramChat: fs.Desk.TelegramChat, DiscordChannel: fs.Desk.DiscordChannel,
		DiscordGuilds: fs.Desk.DiscordGuilds, TelegramChats: fs.Desk.TelegramChats, CMs: fs.Desk.CMs}
	rs.HTTPActOn = fs.HTTPActOn
	rs.ModLog = compileModLog(fs.ModLog)
	rs.Verify = compileVerify(fs.Verify)
	rs.hideComments = fs.CommentDelete == "hide"
	rs.owners = compileOwners(d, fs.Owners)

	c := &exprCompiler{d: d, counterIndex: map[string]int{}, lists: map[string]*wordList{}}
	for _, v := range fs.Vars {
		c.varNames = append(c.varNames, v.Name)
	}
	for _, ls := range fs.Lists {
		l := compileList(d, ls, opts)
		if l == nil {
			// the list's own error is reported; an empty stand-in keeps the
			// expressions that use it from adding "unknown list" to it
			empty, err := text.NewList(nil)
			if err != nil {
				continue
			}
			l = &wordList{name: ls.Name, l: empty}
		}
		c.lists[ls.Name] = l
		c.listNames = append(c.listNames, ls.Name)
		l.index = len(c.listNames)
	}
	// has_any on the event's text looks for the lists' first words once for
	// all the lists (text.ListSet)
	var all []*text.List
	for _, name := range c.listNames {
		all = append(all, c.lists[name].l)
	}
	set := text.NewListSet(all...)
	for _, l := range c.lists {
		l.set = set
	}
	c.models, c.modelNames, rs.Models = compileModels(d, fs.Models, opts)
	// Counter names are known before any expression compiles, so that a rule can
	// be checked against them even when a counter's own expression is wrong.
	for _, cs := range fs.Counters {
		c.counterIndex[cs.Name] = len(c.counterNames)
		c.counterNames = append(c.counterNames, cs.Name)
	}
	for _, cs := range fs.Counters {
		what := fmt.Sprintf("counter %q", cs.Name)
		if cs.Broken {
			rs.counters = append(rs.counters, counter{name: cs.Name})
			continue
		}
		ct := counter{name: cs.Name, window: cs.Window.D, keyAt: d.scalarPos(cs.Key.Node, 0)}
		if cs.When != nil {
			ct.whenAt = d.scalarPos(cs.When.Node, 0)
		}
		if k, ok := c.compile(cs.Key, what+": key", scopeCounter, reflect.String); ok {
			ct.key = k.prog
			ct.keyFn, _ = nativeString(k.prog.Node())
			ct.keyApp, _ = nativeKeyAppender(k.prog.Node())
			ct.keySum, ct.byAuthor, _ = nativeKeySum(k.prog.Node())
			ct.nameSum = store.SumName(cs.Name)
		}
		if cs.When != nil {
			if w, ok := c.compile(*cs.When, what+": when", scopeCounter, reflect.Bool); ok {
				ct.when = w.prog
				ct.whenFn, _ = nativeBool(w.prog.Node())
			}
		}
		rs.counters = append(rs.counters, ct)
	}
	rs.sumsNative = !slices.ContainsFunc(rs.counters, func(ct counter) bool {
		return ct.key != nil && ct.keySum == nil || ct.when != nil && ct.whenFn == nil
	})
	for _, sp := range fs.Rules {
		if r, ok := compileRule(d, c, sp, len(rs.counters)); ok {
			if r.hours != HoursAlways && !rs.schedule.set && len(rs.schedule.holidays) == 0 && len(rs.schedule.calendars) == 0 {
				effect := "never applies"
				if r.hours == HoursOffice {
					effect = "always applies"
				}
				d.warnf(sp.Hours, "rule %q: hours: %s %s, the file has no office_hours nor holidays", r.name, r.hours, effect)
			}
			rs.rules = append(rs.rules, r)
			info := RuleInfo{Name: r.name, Category: r.category, Mode: r.mode, Hours: r.hours, Line: r.line, Office: OfficeAct, Priority: r.priority}
			if r.officeForward {
				info.Office = OfficeForward
			}
			for _, a := range r.actions {
				info.Actions = append(info.Actions, a.String())
			}
			rs.Rules = append(rs.Rules, info)
		}
	}
	compileCommunities(d, fs, rs)
	compileAlerts(d, c, fs.Alerts, rs)
	if len(c.brands) > 0 {
		// a brand's name alone under any top-level domain is a link
		// (steamcommunity.lat): the analysis reads them with the owners
		if rs.owners == nil {
			rs.owners = text.NewOwners()
		}
		for _, l := range c.brands {
			rs.owners.AddBrands(l.l)
		}
	}
	rs.strikeTTL = max(defaultStrikeTTL, c.strikeWindow)
	rs.strikeWindow = c.strikeWindow
	if c.dynamic {
		rs.strikeWindow = rs.strikeTTL
	}
	rs.FAQ = compileFAQ(fs.FAQ)
	rs.tests = compileTests(d, fs, rs)
	return rs
}

func compileSchedule(d *decoder, fs fileSpec, loc *time.Location) schedule {
	s := schedule{loc: loc, holidays: map[dateKey]bool{}, last: new(atomic.Pointer[hoursAnswer])}
	if fs.OfficeNode != nil {
		s.set = true
	}
	var given [7]int // line where each weekday was given
	for _, o := range fs.OfficeHours {
		spec, ok := d.str(o.Days, "office_hours")
		if !ok {
			continue
		}
		days, err := parseDays(spec)
		if err != nil {
			d.errorf(o.Days, "office_hours: %v", err)
			continue
		}
		var ranges []minuteRange
		for _, rn := range o.Ranges {
			str, ok := d.str(rn, "office_hours: "+spec)
			if !ok {
				continue
			}
			r, err := parseRanges(str)
			if err != nil {
				d.errorf(rn, "office_hours: %s: %v", spec, err)
				continue
			}
			ranges = append(ranges, r...)
		}
		for _, wd := range days {
			if given[wd] != 0 {
				d.errorf(o.Days, "office_hours: %s given twice (first at line %d)", dayNames[wd], given[wd])
				continue
			}
			given[wd] = o.Days.Line
			s.days[wd] = ranges
		}
	}
	for _, h := range fs.Holidays {
		str, ok := d.str(h, "holidays")
		if !ok {
			continue
		}
		str = strings.TrimSpace(str)
		if len(str) == 2 {
			c, ok := newCalendar(str)
			if !ok {
				d.errorf(h, "holidays: unknown country %q (known: %s)", str, knownCountries())
				continue
			}
			if slices.ContainsFunc(s.calendars, func(o calendar) bool { return o.code == c.code }) {
				d.warnf(h, "holidays: %s given twice", c.code)
				continue
			}
			s.calendars = append(s.calendars, c)
			continue
		}
		t, err := time.Parse("2006-01-02", str)
		if err != nil {
			d.errorf(h, "holidays: bad date %q (want YYYY-MM-DD, or a country code such as FR)", str)
			continue
		}
		y, m, dd := t.Date()
		s.holidays[dateKey{y, m, dd}] = true
	}
	return s
}

func compileList(d *decoder, ls listSpec, opts LoadOptions) *wordList {
	where := fmt.Sprintf("list %q", ls.Name)
	if ls.FileNode == nil {
		l, err := text.NewList(ls.Entries)
		if err != nil {
			d.errorf(ls.Node, "%s: %v", where, err)
			return nil
		}
		return &wordList{name: ls.Name, l: l}
	}
	key := fileKey(d.file, ls.File, opts)
	f, seen := d.listFiles[key]
	if !seen || key == "" {
		f = readList(d.file, ls.File, opts)
		if key != "" {
			if d.listFiles == nil {
				d.listFiles = map[string]listFile{}
			}
			d.listFiles[key] = f
		}
	}
	switch {
	case f.readErr != nil:
		d.errorf(ls.FileNode, "%s: %v", where, f.readErr)
		return nil
	case f.err != nil:
		d.errorf(ls.Node, "%s: %v", where, f.err)
		return nil
	case len(f.bad) > 0:
		for _, msg := range f.bad {
			d.errorf(ls.Node, "%s: %s", where, msg)
		}
		return nil
	}
	d.keepRead(ls.File, f.data)
	return &wordList{name: ls.Name, l: f.l}
}

// listFile is a list file read and compiled, or why it is not.
type listFile struct {
	l       *text.List
	data    []byte // as read
	readErr error  // the file could not be read
	err     error  // its entries could not be compiled
	// bad tells its entries with no word to match, each with its line, up
	// to listEntryProblems, then how many there are.
	bad []string
}

// listEntryProblems bounds the entries of a list file told as problems:
// enough for a CM to mend a paste gone wrong in one go, not a thousand
// lines on the desk.
const listEntryProblems = 20

func readList(ruleFile, name string, opts LoadOptions) listFile {
	data, err := readListFile(ruleFile, name, maxListBytes, opts)
	if err != nil {
		return listFile{readErr: err}
	}
	entries, lines := parseListFile(data)
	l, err := text.NewList(entries)
	if es, ok := errors.AsType[text.EntryErrors](err); ok {
		// the line a CM opens the file at: entry 2 is not line 2 once
		// comments and blank lines are skipped
		var bad []string
		for i, e := range es[:min(len(es), listEntryProblems)] {
			msg := fmt.Sprintf("%s:%d: %q has no word to match", filepath.ToSlash(name), lines[e.Index], e.Entry)
			if i == 0 {
				msg += " (a line is a word, a phrase or a domain; # starts a comment)"
			}
			bad = append(bad, msg)
		}
		if len(es) > listEntryProblems {
			bad = append(bad, fmt.Sprintf("%s: %d entries have no word to match, the first %d told above", filepath.ToSlash(name), len(es), listEntryProblems))
		}
		return listFile{data: data, bad: bad}
	}
	return listFile{l: l, data: data, err: err}
}

// fileKey is where a list or model file named name is read, the same for
// every spelling of it (./lists/a.txt, lists//a.txt): files named under
// one key are read once. "" for a name read apart each time, which
// readListFile refuses.
func fileKey(ruleFile, name string, opts LoadOptions) string {
	if name == "" || opts.Confined && !filepath.IsLocal(name) {
		return ""
	}
	return modelPath(ruleFile, name, opts)
}

// The largest list and model files a rule file may name. The starter pack's
// lists are a few KB and its largest model 1 MiB; a list takes about 30
// times its size in memory once compiled. Past these, or when the name is not
// a regular file (/dev/zero, a FIFO, a folder), the file is refused rather
// than read: a load, and so a reload, never waits on a pipe nor fills the
// memory.
//
// A file named many times is read and compiled once (fileKey): a draft of
// the console's 1 MiB naming one model 30,000 times (or a list 30,000
// times) asked for tens of GB when each name read its own copy.
const (
	maxListBytes  = 16 << 20
	maxModelBytes = classify.MaxFileBytes
	// the rule file itself: its lists belong in list files
	maxRuleFileBytes = 16 << 20
)

// readListFile reads a list or model file named relative to the rule file's
// folder: a regular file of at most limit bytes.
func readListFile(ruleFile, name string, limit int64, opts LoadOptions) ([]byte, error) {
	if name == "" {
		return nil, errors.New("empty file name")
	}
	if opts.Confined && !filepath.IsLocal(name) {
		return nil, fmt.Errorf("file %q is outside the rule file's folder: name a file in it or below it, as lists/NAME.txt", name)
	}
	var (
		full string
		data []byte
		err  error
	)
	if opts.ReadFile != nil {
		// an fs.FS-like reader wants slash-separated names without ./
		full = path.Join(path.Dir(filepath.ToSlash(ruleFile)), filepath.ToSlash(name))
		if filepath.IsAbs(name) {
			full = name
		}
		data, err = opts.ReadFile(full)
	} else {
		full = name
		if !filepath.IsAbs(name) {
			full = filepath.Join(filepath.Dir(ruleFile), name)
		}
		if opts.Confined {
			data, err = readRegularIn(filepath.Dir(ruleFile), name, limit)
		} else {
			data, err = readRegular(full, limit)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", full, pathless(err))
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("cannot read %s: %w", full, tooLarge(limit))
	}
	return data, nil
}

// readRegular reads the regular file name, of at most limit bytes. It looks
// before it opens: opening a FIFO for reading waits for a writer.
func readRegular(name string, limit int64) ([]byte, error) {
	return readRegularWith(os.Stat, os.Open, name, limit)
}

// readRegularIn is readRegular of name inside the folder dir, through an
// os.Root: a name or a symbolic link that leads out of dir is refused.
func readRegularIn(dir, name string, limit int64) ([]byte, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return readRegularWith(root.Stat, root.Open, name, limit)
}

func readRegularWith(stat func(string) (fs.FileInfo, error), open func(string) (*os.File, error), name string, limit int64) ([]byte, error) {
	fi, err := stat(name)
	if err != nil {
		return nil, err
	}
	if err := regular(fi, limit); err != nil {
		return nil, err
	}
	f, err := open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// what was opened may not be what was looked at
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := regular(fi, limit); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, tooLarge(limit) // grew since
	}
	return data, nil
}

// pathless is err without the path an fs.PathError repeats, for a message
// that names the file itself.
func pathless(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func regular(fi fs.FileInfo, limit int64) error {
	switch {
	case fi.IsDir():
		return errors.New("is a folder, not a file")
	case !fi.Mode().IsRegular():
		return fmt.Errorf("not a regular file (%s)", fileType(fi.Mode()))
	case fi.Size() > limit:
		return fmt.Errorf("%d bytes, %w", fi.Size(), tooLarge(limit))
	}
	return nil
}

func tooLarge(limit int64) error {
	return fmt.Errorf("larger than the %d MiB allowed", limit>>20)
}

// fileType names what a file that is not a regular one is.
func fileType(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// parseListFile reads one entry a line, and the line of each (from 1);
// blank lines and # comments are skipped.
func parseListFile(data []byte) (out []string, lines []int) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if i := strings.Index(line, " #"); i >= 0 {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, line)
		lines = append(lines, n)
	}
	return out, lines
}

func compileRule(d *decoder, c *exprCompiler, sp ruleSpec, nCounters int) (rule, bool) {
	what := fmt.Sprintf("rule %q", sp.Name)
	r := rule{name: sp.Name, category: sp.Category, hours: HoursAlways, mode: ModeEnforce,
		line: sp.NameNode.Line, whenText: strings.Join(strings.Fields(sp.When.Src), " ")}
	good := true
	if sp.Hours != nil {
		h, _ := d.str(sp.Hours, what+": hours")
		switch Hours(h) {
		case HoursAfter, HoursOffice, HoursAlways:
			r.hours = Hours(h)
		default:
			d.errorf(sp.Hours, "%s: hours must be after, office or always, got %q", what, h)
			good = false
		}
	}
	if sp.Office != nil {
		o, _ := d.str(sp.Office, what+": office")
		switch Office(o) {
		case OfficeAct:
		case OfficeForward:
			r.officeForward = true
		default:
			d.errorf(sp.Office, "%s: office must be act or forward, got %q", what, o)
			good = false
		}
	}
	if sp.Enabled != nil {
		on, ok := d.boolean(sp.Enabled, what+": enabled")
		good = good && ok
		r.disabled = !on
	}
	if sp.Priority != nil {
		p, _ := d.str(sp.Priority, what+": priority")
		switch p {
		case "high", "low":
			r.priority = p
		case "normal":
		default:
			d.errorf(sp.Priority, "%s: priority must be high, normal or low, got %q", what, p)
			good = false
		}
	}
	if sp.Mode != nil {
		m, _ := d.str(sp.Mode, what+": mode")
		switch Mode(m) {
		case ModeEnforce, ModeShadow:
			r.mode = Mode(m)
		default:
			d.errorf(sp.Mode, "%s: mode must be enforce or shadow, got %q", what, m)
			good = false
		}
	}
	for _, as := range sp.Do {
		a, err := parseAction(as, true)
		if err != nil {
			d.errorf(as.Node, "%s: %v", what, err)
			good = false
			continue
		}
		a.at = posOf(as.Node)
		if a.kind == bot.ActStrike && r.mode == ModeEnforce {
			r.strike = true
		}
		r.actions = append(r.actions, a)
	}
	w, ok := c.compile(sp.When, what+": when", scopeRule, reflect.Bool)
	if !ok {
		return r, false
	}
	r.when = w.prog
	r.whenAt = c.d.scalarPos(sp.When.Node, 0)
	r.whenFn, _ = nativeBool(w.prog.Node())
	r.beforeStore = r.whenFn != nil && !readsStore(w.prog.Node())
	if offset, err := dryRun(w.prog, nCounters); err != nil {
		at := c.d.scalarPos(sp.When.Node, offset)
		d.errorAt(at.Line, at.Col, "%s: when: %v", what, err)
		return r, false
	}
	r.probes = c.probes(w.src)
	return r, good
}

// dryRun runs a condition once on an empty event so that an expression that
// blows the memory or loop budget whatever the event is refused at load. The
// offset is where in the expression it ran out, the error what ran out (and
// what a call in a loop counts, when a call's count did).
func dryRun(prog *vm.Program, nCounters int) (offset int, err error) {
	env := exprEnv{Counters: make([]int, nCounters), State: &evalState{analysis: text.Analyze(""), now: time.Unix(0, 0)}}
	machine := vm.VM{MemoryBudget: exprMemoryLimit}
	_, err = machine.Run(prog, env)
	if err == nil {
		return 0, nil
	}
	msg := err.Error()
	var fe *file.Error
	if errors.As(err, &fe) {
		offset, msg = fe.From, fe.Message
	}
	switch {
	case strings.Contains(msg, "memory budget exceeded"):
		return offset, errors.New("the expression uses too much memory (memory budget exceeded)")
	case strings.Contains(msg, "loop budget exceeded"):
		return offset, errors.New(msg)
	}
	return 0, nil
}

func compileFAQ(fs faqSpec) FAQ {
	out := FAQ{Threshold: defaultFAQThreshold}
	if fs.ThresholdSet {
		out.Threshold = fs.Threshold
	}
	for _, e := range fs.Entries {
		out.Entries = append(out.Entries, FAQEntry{
			ID: e.ID, Questions: e.Questions, Answer: e.Answer, Line: e.Node.Line, Col: e.Node.Column,
			Keywords: e.Keywords, Intents: e.Intents, Mode: e.Mode, Private: e.Private,
		})
	}
	compileFAQSettings(fs, &out)
	return out
}

// readsStore reports whether an expression reads what the store answers:
// counters.NAME or strikes().
func readsStore(n ast.Node) bool {
	f := &storeReader{}
	ast.Walk(&n, f)
	return f.found
}

type storeReader struct{ found bool }

func (f *storeReader) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		f.found = f.found || n.Value == "counters" || n.Value == "strikes"
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "strikes" {
			f.found = true
		}
	}
}
