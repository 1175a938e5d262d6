// Package report sums up a shift for the CMs: what came in, what vigie did, what
// waits for them, what the humans overturned, the crisis alerts and the worst
// offenders, with a chart of messages and actions per hour. The morning report on
// the desk, `vigie report` and GET /v1/report all build it here.
package report

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/wave"
	"github.com/vigie-bot/vigie/store"
)

// Source is where a report reads its figures. Only Store is required.
type Source struct {
	Store store.Store
	// Events, when set, counts every event per hour and platform (not only those
	// a rule matched); without it the report counts the flagged ones only.
	Events func(ctx context.Context, since, until time.Time) ([]EventCount, error)
	// Alerts, when set, returns the crisis waves raised since a time.
	Alerts func(ctx context.Context, since time.Time) ([]wave.Wave, error)
	// FAQ, when set, says what the FAQ answered since a time.
	FAQ func(since time.Time) *FAQ
	// Location is the timezone hours are shown in (the rule file's); nil is UTC.
	Location *time.Location
	// Community, when set, keeps to one community's places: the audit and
	// the cases of events In accepts. Events are then the flagged ones (the
	// tallies count by platform, not by place) and the alerts are left out.
	Community string
	In        func(bot.Event) bool
}

// EventCount is how many events came from a platform in the hour starting at Hour.
type EventCount struct {
	Hour     time.Time `json:"hour"`
	Platform string    `json:"platform"`
	N        int       `json:"n"`
}

// FAQ is what the FAQ did over the period.
type FAQ struct {
	Answered   int `json:"answered"`
	Unanswered int `json:"unanswered"`
	// Missing are examples of the questions most asked without an answer.
	Missing []string `json:"missing,omitempty"`
}

// Report is a shift's figures. Its JSON form is what `vigie report --format json`
// prints.
type Report struct {
	Since    time.Time `json:"since"`
	Until    time.Time `json:"until"`
	Timezone string    `json:"timezone"`
	// Community is the community the report keeps to, "" for all.
	Community string `json:"community,omitempty"`
	// Events counts every event when the source knows them (EventsKnown), else
	// the flagged ones.
	Events      int  `json:"events"`
	EventsKnown bool `json:"events_known"`
	Flagged     int  `json:"flagged"`
	// Actions counts the platform actions the verdicts asked for (delete, hide,
	// timeout, ban, kick, warn, reply, tag); paused verdicts and shadow rules ask
	// for none. vigie_actions_total says which were done.
	Actions    int            `json:"actions"`
	ByAction   map[string]int `json:"by_action"`
	ByMode     map[string]int `json:"by_mode"`
	ByPlatform []Count        `json:"by_platform"`
	ByCategory []Count        `json:"by_category"`
	ByRule     []RuleCount    `json:"by_rule"`
	Hours      []Hour         `json:"hours"`
	Cases      Cases          `json:"cases"`
	Alerts     []wave.Wave    `json:"alerts"`
	FAQ        *FAQ           `json:"faq,omitempty"`
	Offenders  []Offender     `json:"top_offenders"`
}

// Count is a figure for one platform or category.
type Count struct {
	Name    string `json:"name"`
	Events  int    `json:"events,omitempty"`
	Flagged int    `json:"flagged"`
	Actions int    `json:"actions"`
}

// RuleCount is what one rule did; Overturned counts the cases of the rule that a
// CM decided against it (keep, unhide, unban, untimeout): the false-positive
// signal.
type RuleCount struct {
	Rule       string `json:"rule"`
	Category   string `json:"category,omitempty"`
	Hits       int    `json:"hits"`
	Shadow     int    `json:"shadow,omitempty"`
	Actions    int    `json:"actions"`
	Overturned int    `json:"overturned"`
}

// Hour is one hour of the chart and of the CSV.
type Hour struct {
	Start   time.Time      `json:"start"`
	Events  int            `json:"events"`
	Flagged int            `json:"flagged"`
	Actions int            `json:"actions"`
	ByRule  map[string]int `json:"by_rule,omitempty"`
	// RuleActions counts the actions per rule.
	RuleActions map[string]int `json:"rule_actions,omitempty"`
}

// Cases is the desk's side of the shift.
type Cases struct {
	Open int `json:"open"`
	// OldestOpen is the age of the oldest open case, at the report's end.
	OldestOpen time.Duration `json:"oldest_open"`
	// Opened and Decided count the cases opened and decided during the period.
	Opened     int            `json:"opened"`
	Decided    int            `json:"decided"`
	ByOutcome  map[string]int `json:"by_outcome"`
	Overturned int            `json:"overturned"`
}

// Offender is an author flagged often during the period.
type Offender struct {
	Platform string   `json:"platform"`
	Author   string   `json:"author"`
	Name     string   `json:"name,omitempty"`
	Hits     int      `json:"hits"`
	Rules    []string `json:"rules"`
}

// TopOffenders is how many offenders a report lists.
const TopOffenders = 5

// platformActions are the actions that change something on a platform; strike,
// forward and alert are counted elsewhere (strikes, cases, alerts).
func platformAction(k bot.ActionKind) bool {
	switch k {
	case bot.ActStrike, bot.ActForward, bot.ActAlert:
		return false
	}
	return true
}

// Overturned reports whether a CM's outcome goes against what the rule did or
// suggested.
func Overturned(outcome string) bool {
	switch outcome {
	case "keep", "unhide", "unban", "untimeout":
		return true
	}
	return false
}

// Build reads the figures of [since, until) from src.
func Build(ctx context.Context, src Source, since, until time.Time) (*Report, error) {
	loc := src.Location
	if loc == nil {
		loc = time.UTC
	}
	r := &Report{
		Since: since.In(loc), Until: until.In(loc), Timezone: loc.String(),
		ByAction: map[string]int{}, ByMode: map[string]int{},
		Cases:  Cases{ByOutcome: map[string]int{}},
		Alerts: []wave.Wave{}, Offenders: []Offender{},
	}
	entries, err := src.Store.Audit(ctx, since)
	if err != nil {
		return nil, fmt.Errorf("report: audit: %w", err)
	}
	if src.In != nil {
		r.Community = src.Community
		entries = slices.DeleteFunc(entries, func(e store.AuditEntry) bool { return !src.In(e.Event) })
		src.Events, src.Alerts = nil, nil
	}
	hours := newHours(since, until, loc)
	platforms := map[string]*Count{}
	categories := map[string]*Count{}
	ruleIdx := map[string]*RuleCount{}
	offenders := map[[2]string]*Offender{}
	platform := func(name string) *Count {
		name = cmp.Or(name, "?")
		if platforms[name] == nil {
			platforms[name] = &Count{Name: name}
		}
		return platforms[name]
	}
	rule := func(name, category string) *RuleCount {
		if ruleIdx[name] == nil {
			ruleIdx[name] = &RuleCount{Rule: name, Category: category}
		}
		return ruleIdx[name]
	}
	// An event is flagged once however many entries the audit has of it: a
	// lockdown writes the rule's verdict, then the lock and its lift as
	// entries of the same event, and a moderator's command on a message the
	// rules flagged is one more. Their actions all count; the event, its
	// rules' hits, its categories and its author's hits once. A moderator's
	// command is a hit of the rule "manual" each time.
	type seenKey struct{ platform, event, what string }
	seen := map[seenKey]bool{}
	first := func(e store.AuditEntry, what string) bool {
		id := cmp.Or(e.Verdict.EventID, e.Event.ID)
		if id == "" {
			return true
		}
		k := seenKey{e.Event.Platform, id, what}
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	for _, e := range entries {
		if !e.At.Before(until) || !e.Verdict.Flagged() {
			continue
		}
		h := hours.at(e.At)
		p := platform(e.Event.Platform)
		newEvent := first(e, "")
		if newEvent {
			r.Flagged++
			r.ByMode[cmp.Or(e.Mode, "enforce")]++
			p.Flagged++
			if h != nil {
				h.Flagged++
			}
		}
		acted := e.Mode != "paused"
		if acted {
			for _, a := range e.Verdict.Actions() {
				if platformAction(a.Kind) {
					r.Actions++
					r.ByAction[string(a.Kind)]++
					p.Actions++
					if h != nil {
						h.Actions++
					}
				}
			}
		}
		var names []string
		for _, m := range e.Verdict.Matches {
			rc := rule(m.Rule, m.Category)
			names = append(names, m.Rule)
			// each moderator's command is a hit of its own
			if e.By != "" || first(e, "rule "+m.Rule) {
				rc.Hits++
				if h != nil {
					h.ByRule[m.Rule]++
				}
				if m.Shadow {
					rc.Shadow++
				}
			}
			if m.Shadow {
				continue
			}
			if !acted {
				continue
			}
			n := 0
			for _, a := range m.Actions {
				if platformAction(a.Kind) {
					n++
				}
			}
			rc.Actions += n
			if h != nil && n > 0 {
				h.RuleActions[m.Rule] += n
			}
		}
		for _, c := range e.Verdict.Categories() {
			if categories[c] == nil {
				categories[c] = &Count{Name: c}
			}
			if first(e, "category "+c) {
				categories[c].Flagged++
			}
			if acted {
				categories[c].Actions += countPlatformActions(e.Verdict, c)
			}
		}
		if e.Event.Author.ID == "" {
			continue // a place's lock or lift: no one's hit
		}
		k := [2]string{e.Event.Platform, e.Event.Author.ID}
		o := offenders[k]
		if o == nil {
			o = &Offender{Platform: e.Event.Platform, Author: e.Event.Author.ID}
			offenders[k] = o
		}
		if newEvent {
			o.Hits++
		}
		o.Name = cmp.Or(e.Event.Author.Name, o.Name)
		for _, n := range names {
			if !slices.Contains(o.Rules, n) {
				o.Rules = append(o.Rules, n)
			}
		}
	}

	if src.Events != nil {
		counts, err := src.Events(ctx, since, until)
		if err != nil {
			return nil, fmt.Errorf("report: events: %w", err)
		}
		r.EventsKnown = true
		for _, c := range counts {
			r.Events += c.N
			platform(c.Platform).Events += c.N
			if h := hours.at(c.Hour); h != nil {
				h.Events += c.N
			}
		}
	} else {
		r.Events = r.Flagged
		for _, h := range hours.list {
			h.Events = h.Flagged
		}
	}

	if err := r.cases(ctx, src, since, until, rule); err != nil {
		return nil, err
	}
	if src.Alerts != nil {
		ws, err := src.Alerts(ctx, since)
		if err != nil {
			return nil, fmt.Errorf("report: alerts: %w", err)
		}
		for _, w := range ws {
			if w.Raised.Before(until) {
				r.Alerts = append(r.Alerts, w)
			}
		}
	}
	if src.FAQ != nil {
		r.FAQ = src.FAQ(since)
	}

	for _, p := range platforms {
		r.ByPlatform = append(r.ByPlatform, *p)
	}
	for _, c := range categories {
		r.ByCategory = append(r.ByCategory, *c)
	}
	for _, rc := range ruleIdx {
		r.ByRule = append(r.ByRule, *rc)
	}
	byCount := func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.Events+b.Flagged, a.Events+a.Flagged), cmp.Compare(a.Name, b.Name))
	}
	slices.SortFunc(r.ByPlatform, byCount)
	slices.SortFunc(r.ByCategory, byCount)
	slices.SortFunc(r.ByRule, func(a, b RuleCount) int {
		return cmp.Or(cmp.Compare(b.Hits, a.Hits), cmp.Compare(b.Overturned, a.Overturned), cmp.Compare(a.Rule, b.Rule))
	})
	for _, o := range offenders {
		if o.Hits > 1 {
			r.Offenders = append(r.Offenders, *o)
		}
	}
	slices.SortFunc(r.Offenders, func(a, b Offender) int {
		return cmp.Or(cmp.Compare(b.Hits, a.Hits), cmp.Compare(a.Platform, b.Platform), cmp.Compare(a.Author, b.Author))
	})
	if len(r.Offenders) > TopOffenders {
		r.Offenders = r.Offenders[:TopOffenders]
	}
	r.Hours = make([]Hour, len(hours.list))
	for i, h := range hours.list {
		r.Hours[i] = *h
	}
	if r.ByPlatform == nil {
		r.ByPlatform = []Count{}
	}
	if r.ByCategory == nil {
		r.ByCategory = []Count{}
	}
	if r.ByRule == nil {
		r.ByRule = []RuleCount{}
	}
	return r, nil
}

// countPlatformActions counts the platform actions of the enforced rules of a
// category in a verdict.
func countPlatformActions(v bot.Verdict, category string) int {
	n := 0
	for _, m := range v.Matches {
		if m.Shadow || m.Category != category {
			continue
		}
		for _, a := range m.Actions {
			if platformAction(a.Kind) {
				n++
			}
		}
	}
	return n
}

func (r *Report) cases(ctx context.Context, src Source, since, until time.Time, rule func(string, string) *RuleCount) error {
	open, err := src.Store.Cases(ctx, store.CaseOpen)
	if err != nil {
		return fmt.Errorf("report: open cases: %w", err)
	}
	decided, err := src.Store.Cases(ctx, store.CaseDecided)
	if err != nil {
		return fmt.Errorf("report: decided cases: %w", err)
	}
	if src.In != nil {
		out := func(c store.Case) bool { return c.Community != src.Community && !src.In(c.Event) }
		open, decided = slices.DeleteFunc(open, out), slices.DeleteFunc(decided, out)
	}
	r.Cases.Open = len(open)
	for _, c := range open {
		if age := until.Sub(c.Opened); age > r.Cases.OldestOpen {
			r.Cases.OldestOpen = age.Truncate(time.Minute)
		}
		if !c.Opened.Before(since) && c.Opened.Before(until) {
			r.Cases.Opened++
		}
	}
	for _, c := range decided {
		if !c.Opened.Before(since) && c.Opened.Before(until) {
			r.Cases.Opened++
		}
		if c.DecidedAt.Before(since) || !c.DecidedAt.Before(until) {
			continue
		}
		r.Cases.Decided++
		outcome := outcomeKind(c.Outcome)
		r.Cases.ByOutcome[outcome]++
		if Overturned(outcome) && c.Rule != "" {
			r.Cases.Overturned++
			rule(c.Rule, c.Category).Overturned++
		}
	}
	return nil
}

// outcomeKind drops an outcome's argument: timeout(1h) is a timeout.
func outcomeKind(o string) string {
	for i, c := range o {
		if c == '(' {
			return o[:i]
		}
	}
	return o
}

// hours are the report's hours, in its timezone.
type hours struct {
	first time.Time
	list  []*Hour
}

func newHours(since, until time.Time, loc *time.Location) *hours {
	h := &hours{}
	// time.Truncate works on absolute time: in zones off by a half hour it is not
	// the local hour, which is what the CMs read.
	lt := since.In(loc)
	start := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), 0, 0, 0, loc)
	h.first = start
	for t := start; t.Before(until) && len(h.list) < 24*31; t = t.Add(time.Hour) {
		h.list = append(h.list, &Hour{Start: t, ByRule: map[string]int{}, RuleActions: map[string]int{}})
	}
	return h
}

func (h *hours) at(t time.Time) *Hour {
	if t.Before(h.first) {
		return nil
	}
	i := int(t.Sub(h.first) / time.Hour)
	if i >= len(h.list) {
		return nil
	}
	return h.list[i]
}

// Rules lists the rules of the report by name, in its order.
func (r *Report) Rules() []string {
	out := make([]string, len(r.ByRule))
	for i, rc := range r.ByRule {
		out[i] = rc.Rule
	}
	return out
}

// sortedKeys returns m's keys by count, highest first, then by name.
func sortedKeys(m map[string]int) []string {
	keys := slices.Collect(maps.Keys(m))
	slices.SortFunc(keys, func(a, b string) int { return cmp.Or(cmp.Compare(m[b], m[a]), cmp.Compare(a, b)) })
	return keys
}

// ForCommunity keeps src to the community name of rs: the events of its
// places and the cases that record it.
func ForCommunity(src Source, rs *rules.Ruleset, name string) (Source, error) {
	if rs.Community(name) == nil {
		var known []string
		for _, c := range rs.Communities {
			known = append(known, c.Name)
		}
		if len(known) == 0 {
			return src, fmt.Errorf("community %q: the rule file has no communities", name)
		}
		return src, fmt.Errorf("community %q: no such community (known: %s)", name, strings.Join(known, ", "))
	}
	src.Community = name
	src.In = func(ev bot.Event) bool {
		c := rs.CommunityOf(ev.Platform, ev.Space)
		return c != nil && c.Name == name
	}
	return src, nil
}
