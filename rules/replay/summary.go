package replay

import (
	"encoding/json"
	"math"
	"sort"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// LabelOK is the label of an event that needs no moderation.
const LabelOK = "ok"

// Score is a confusion matrix and the figures drawn from it. Positive means
// "flagged" on the rule side and "labelled with the category" on the data side.
type Score struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
	TN int `json:"tn"`
	// Precision, Recall and F1 are 0 when their denominator is 0, so that a
	// category nothing was flagged for reads as "found nothing", not as NaN.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// FalsePositiveRate is the share of the events without the category that
	// were flagged for it anyway: what a community would see removed wrongly.
	FalsePositiveRate float64 `json:"false_positive_rate"`
}

func (s *Score) add(flagged, actual bool) {
	switch {
	case flagged && actual:
		s.TP++
	case flagged:
		s.FP++
	case actual:
		s.FN++
	default:
		s.TN++
	}
}

// compute fills the ratios from the counts, rounded to 3 decimals: the data sets
// are a few thousand events, so more digits would only be noise.
func (s *Score) compute() {
	s.Precision = ratio(s.TP, s.TP+s.FP)
	s.Recall = ratio(s.TP, s.TP+s.FN)
	// The harmonic mean of precision and recall, from the counts rather than
	// from the rounded ratios.
	s.F1 = ratio(2*s.TP, 2*s.TP+s.FP+s.FN)
	s.FalsePositiveRate = ratio(s.FP, s.FP+s.TN)
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return round3(float64(n) / float64(d))
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// Summary is what a replay found. Its JSON form is what `vigie replay --format json`
// prints.
type Summary struct {
	// Events counts the events evaluated, duplicates included.
	Events int `json:"events"`
	// Flagged counts the events at least one enforced rule matched: what would
	// have been acted on. Shadow rules do not flag (they did before shadow was
	// reported apart): their hits are under Shadow and ShadowOnly.
	Flagged int `json:"flagged"`
	// ShadowOnly counts the events only shadow rules matched: what enforcing
	// every shadow rule would add to Flagged. Absent when 0.
	ShadowOnly int `json:"shadow_only,omitempty"`
	// Skipped counts the lines that were not a valid event, or that the engine
	// could not evaluate.
	Skipped int `json:"skipped"`
	// Duplicates counts events whose id was already seen: no rule ran for them and
	// they are left out of the scores.
	Duplicates int `json:"duplicates"`
	// Labelled counts the scored events: those with a label, duplicates excepted.
	Labelled int `json:"labelled"`
	// ByRule counts hits per rule, shadow rules included; every rule of the
	// file is listed, so a rule that never fires shows as 0.
	ByRule map[string]int `json:"by_rule"`
	// ByCategory scores each category of an enforced rule or met in the labels,
	// over the labelled events: an event is flagged for a category when an
	// enforced rule of it matched. Absent when no event carries a label.
	ByCategory map[string]*Score `json:"by_category,omitempty"`
	// Overall scores "an enforced rule matched" against "labelled other than ok".
	Overall *Score `json:"overall,omitempty"`
	// Shadow is what each shadow rule would have done, enforced; every shadow
	// rule of the file is listed. Absent when the file has none.
	Shadow map[string]*ShadowScore `json:"shadow,omitempty"`
	// Alerts are the waves of the file's alerts: the history would have paged
	// the CMs once for each. Absent when the file has no alerts.
	Alerts []Alert `json:"alerts,omitzero"`
	// FAQ counts what the FAQ did, by decision (answer, suggest, forward,
	// silent, cooldown). Absent when the replay did not ask the FAQ.
	FAQ map[string]int `json:"faq,omitempty"`
	// RuleErrors counts, per rule (counters.NAME for a counter), the events
	// its expression failed on at run time, with the first failure. Absent
	// when nothing failed.
	RuleErrors map[string]*RuleErrors `json:"rule_errors,omitempty"`

	// rules is the order of the rule file, then any rule only met in verdicts,
	// so that tables read like the file.
	rules []string
}

// ShadowScore is what a shadow rule matched, scored as if it were enforced.
type ShadowScore struct {
	Category string `json:"category,omitempty"`
	Hits     int    `json:"hits"`
	// TP and FP split the hits on labelled events as the rule's category row
	// would count them once enforced: right when the label is the rule's
	// category (for a rule without one: any label but ok), wrong otherwise.
	TP int `json:"tp"`
	FP int `json:"fp"`
	// Precision is TP / (TP + FP), 0 without labelled hits: the rule's own
	// precision once enforced.
	Precision float64 `json:"precision"`
	// Unflagged counts the hits on events no enforced rule matched: the events
	// enforcing the rule would add to the flagged ones. UnflaggedTP and
	// UnflaggedFP split those that carry a label as Overall scores them
	// (labelled other than ok, labelled ok): what enforcing the rule would add
	// to Overall's TP and FP.
	Unflagged   int `json:"unflagged"`
	UnflaggedTP int `json:"unflagged_tp"`
	UnflaggedFP int `json:"unflagged_fp"`
}

// add counts one hit on an event with label ("" for none), which enforced
// rules flagged or not.
func (sc *ShadowScore) add(label string, flagged bool) {
	sc.Hits++
	if !flagged {
		sc.Unflagged++
	}
	if label == "" {
		return
	}
	if label == sc.Category || sc.Category == "" && label != LabelOK {
		sc.TP++
	} else {
		sc.FP++
	}
	switch {
	case flagged:
	case label != LabelOK:
		sc.UnflaggedTP++
	default:
		sc.UnflaggedFP++
	}
}

// Tally builds a Summary one verdict at a time. The zero value is not usable;
// call NewTally.
type Tally struct {
	s          Summary
	categories map[string]*Score
	// scores are the categories' scores in the order first met: add goes
	// through them for every labelled event, a map's walk costing more
	// than the scoring itself.
	scores  []namedScore
	overall Score
	shadow  map[string]*ShadowScore
	// ruleOrder keeps the file's order for the text table; ruleHits are
	// ByRule's counts in that order, and ruleShadow the shadow score of
	// each rule once met, so that a match costs one look-up (ruleAt) and
	// Summary makes ByRule.
	ruleOrder  []string
	ruleAt     map[string]int
	ruleHits   []int
	ruleShadow []*ShadowScore
	// faq counts the FAQ's decisions, a handful of constants looked for
	// one after the other: Summary makes the map.
	faq []namedCount
}

// namedCount is one FAQ decision's count.
type namedCount struct {
	name string
	n    int
}

// rule returns the index of the rule name in ruleOrder, adding it when
// first met.
func (t *Tally) rule(name string) int {
	i, ok := t.ruleAt[name]
	if !ok {
		i = len(t.ruleOrder)
		t.ruleAt[name] = i
		t.ruleOrder = append(t.ruleOrder, name)
		t.ruleHits = append(t.ruleHits, 0)
		t.ruleShadow = append(t.ruleShadow, nil)
	}
	return i
}

// NewTally returns a tally for the rules of a rule file.
func NewTally(list []rules.RuleInfo) *Tally {
	t := &Tally{
		categories: make(map[string]*Score),
		ruleAt:     make(map[string]int, len(list)),
	}
	for _, r := range list {
		t.rule(r.Name)
		if r.Mode == rules.ModeShadow {
			t.shadowRule(r.Name, r.Category)
			continue
		}
		if r.Category != "" {
			t.category(r.Category)
		}
	}
	return t
}

// shadowRule returns the score of a shadow rule, creating it when first met.
func (t *Tally) shadowRule(name, category string) *ShadowScore {
	sc, ok := t.shadow[name]
	if !ok {
		if t.shadow == nil {
			t.shadow = make(map[string]*ShadowScore)
		}
		sc = &ShadowScore{Category: category}
		t.shadow[name] = sc
	}
	return sc
}

// category returns the score of a category, creating it when first met. A
// category first met late has missed the events before it; they were negatives
// on both sides (no rule of it matched, no label named it), so they are true
// negatives it gets back here.
func (t *Tally) category(name string) *Score {
	sc, ok := t.categories[name]
	if !ok {
		sc = &Score{TN: t.s.Labelled}
		t.categories[name] = sc
		t.scores = append(t.scores, namedScore{name, sc})
	}
	return sc
}

// scoreOf is category: the few categories are looked for in scores first,
// a comparison of lengths each, most of them, where the map hashes the name.
func (t *Tally) scoreOf(name string) *Score {
	for _, c := range t.scores {
		if c.name == name {
			return c.score
		}
	}
	return t.category(name)
}

// namedScore is a category's score.
type namedScore struct {
	name  string
	score *Score
}

// AddFAQ counts one decision of the FAQ.
func (t *Tally) AddFAQ(decision string) {
	for i := range t.faq {
		if t.faq[i].name == decision {
			t.faq[i].n++
			return
		}
	}
	t.faq = append(t.faq, namedCount{decision, 1})
}

// RuleErrors is how often one rule's expression failed, and the first time.
type RuleErrors struct {
	Count int `json:"count"`
	// First is the first failure's message, on the event FirstEvent.
	First      string `json:"first"`
	FirstEvent string `json:"first_event"`
}

// AddErrors counts the run-time failures of the rules on one event.
func (t *Tally) AddErrors(ev bot.Event, errs []rules.RuleError) {
	for _, e := range errs {
		if t.s.RuleErrors == nil {
			t.s.RuleErrors = map[string]*RuleErrors{}
		}
		re := t.s.RuleErrors[e.Rule]
		if re == nil {
			re = &RuleErrors{First: rules.FirstLine(e.Err), FirstEvent: ev.ID}
			t.s.RuleErrors[e.Rule] = re
		}
		re.Count++
	}
}

// Skip counts a line that could not be replayed.
func (t *Tally) Skip() { t.s.Skipped++ }

// Add counts one evaluated event and its verdict.
func (t *Tally) Add(ev bot.Event, v bot.Verdict) { t.add(ev.Label, &v) }

// add counts one evaluated event, with label, and its verdict: of the event,
// only its label is read (the replay passes an event of 400 bytes, the
// verdict of 100, where they lie).
func (t *Tally) add(label string, v *bot.Verdict) {
	t.s.Events++
	if v.Duplicate {
		t.s.Duplicates++
		return
	}
	// Only enforced rules flag: a shadow rule's actions are never carried
	// out, so counting its hits as flags would score what did not happen.
	var buf [4]string
	cats, flagged := enforced(buf[:0], v)
	switch {
	case flagged:
		t.s.Flagged++
	case len(v.Matches) > 0:
		t.s.ShadowOnly++
	}
	for i := range v.Matches {
		m := &v.Matches[i]
		r := t.rule(m.Rule)
		t.ruleHits[r]++
		if m.Shadow {
			sc := t.ruleShadow[r]
			if sc == nil {
				sc = t.shadowRule(m.Rule, m.Category)
				t.ruleShadow[r] = sc
			}
			sc.add(label, flagged)
		}
	}
	if label == "" {
		return
	}
	if label != LabelOK {
		t.scoreOf(label)
	}
	for _, c := range cats {
		t.scoreOf(c)
	}
	t.s.Labelled++
	for _, c := range t.scores {
		c.score.add(contains(cats, c.name), label == c.name)
	}
	t.overall.add(flagged, label != LabelOK)
}

// enforced appends to categories those of the enforced rules that matched,
// once each, and reports whether any enforced rule matched.
func enforced(categories []string, v *bot.Verdict) ([]string, bool) {
	flagged := false
	for _, m := range v.Matches {
		if m.Shadow {
			continue
		}
		flagged = true
		if m.Category != "" && !contains(categories, m.Category) {
			categories = append(categories, m.Category)
		}
	}
	return categories, flagged
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Summary returns the figures so far.
func (t *Tally) Summary() Summary {
	s := t.s
	s.rules = append([]string(nil), t.ruleOrder...)
	s.ByRule = make(map[string]int, len(t.ruleOrder))
	for i, name := range t.ruleOrder {
		s.ByRule[name] = t.ruleHits[i]
	}
	if len(t.faq) > 0 {
		s.FAQ = make(map[string]int, len(t.faq))
		for _, c := range t.faq {
			s.FAQ[c.name] = c.n
		}
	}
	if t.shadow != nil {
		s.Shadow = make(map[string]*ShadowScore, len(t.shadow))
		for name, sc := range t.shadow {
			c := *sc
			c.Precision = ratio(c.TP, c.TP+c.FP)
			s.Shadow[name] = &c
		}
	}
	if t.s.Labelled == 0 {
		return s
	}
	s.ByCategory = make(map[string]*Score, len(t.categories))
	for name, sc := range t.categories {
		c := *sc
		c.compute()
		s.ByCategory[name] = &c
	}
	o := t.overall
	o.compute()
	s.Overall = &o
	return s
}

// Categories lists the scored categories in alphabetical order.
func (s Summary) Categories() []string {
	out := make([]string, 0, len(s.ByCategory))
	for name := range s.ByCategory {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// JSON renders the summary as indented JSON, keys of maps sorted.
func (s Summary) JSON() ([]byte, error) {
	return json.MarshalIndent(s, "", "  ")
}
