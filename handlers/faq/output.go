package faq

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/rules"
)

// Result is the JSON form of a decision that `vigie faq --format json` prints:
// answer is the entry's id and text the reply, both null when there is none.
type Result struct {
	Decision   Kind        `json:"decision"`
	Answer     *string     `json:"answer"`
	Language   string      `json:"language"`
	Text       *string     `json:"text"`
	Candidates []Candidate `json:"candidates"`
}

// Result returns the decision in the shape of `vigie faq --format json`.
func (d Decision) Result() Result {
	r := Result{Decision: d.Kind, Language: d.Language, Candidates: d.Candidates}
	if r.Candidates == nil {
		r.Candidates = []Candidate{}
	}
	if d.Entry != "" {
		id := d.Entry
		r.Answer = &id
	}
	if d.Text != "" {
		text := d.Text
		r.Text = &text
	}
	return r
}

// WriteText prints a decision for a person: what vigie would do, the reply, and
// the scores of the best entries against the thresholds.
func (m *Matcher) WriteText(w io.Writer, d Decision) error {
	var b strings.Builder
	fmt.Fprintf(&b, "decision: %s", d.Kind)
	if d.Entry != "" {
		fmt.Fprintf(&b, " (entry %s, score %.3f)", d.Entry, d.Score)
	}
	if d.Why != "" {
		fmt.Fprintf(&b, ": %s", d.Why)
	}
	fmt.Fprintf(&b, "\nlanguage: %s\n", d.Language)
	if d.Text != "" {
		label := "reply"
		if d.Kind == Forward {
			label = "suggested reply"
		}
		if d.Private {
			label += " (private)"
		}
		fmt.Fprintf(&b, "%s: %s\n", label, d.Text)
	}
	fmt.Fprintf(&b, "words: %s\n", strings.Join(d.Terms, " "))
	fmt.Fprintf(&b, "candidates (answer from %.2f, near miss from %.2f):\n", m.cfg.Threshold, m.cfg.SuggestThreshold)
	if len(d.Candidates) == 0 {
		b.WriteString("  none\n")
	}
	for _, c := range d.Candidates {
		fmt.Fprintf(&b, "  %-20s %.3f\n", c.ID, c.Score)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Test is one of the FAQ's own tests: a question and the entry it should get,
// or "none".
type Test struct {
	Question string
	// Expect is an entry id, or None.
	Expect string
	// Decision, when set, is the decision expected too (answer, suggest,
	// forward, silent).
	Decision Kind
	Line     int
}

// TestsOf returns the tests of a faq: section.
func TestsOf(f rules.FAQ) []Test {
	out := make([]Test, len(f.Tests))
	for i, t := range f.Tests {
		out[i] = Test{Question: t.Question, Expect: t.Expect, Decision: Kind(t.Decision), Line: t.Line}
	}
	return out
}

// None is what a test expects when no entry should be named.
const None = "none"

// testTime is when the FAQ's tests ask: Monday 2026-01-05 at noon, in office
// hours in most files (the rule file's tests use the same base).
var testTime = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

// RunTests runs the FAQ's tests. A test passes when the decision names the
// expected entry (answered, suggested or forwarded), or none for None.
func (m *Matcher) RunTests(tests []Test) []rules.TestResult {
	out := make([]rules.TestResult, 0, len(tests))
	for _, t := range tests {
		at := testTime
		if m.tz != nil {
			at = time.Date(2026, 1, 5, 12, 0, 0, 0, m.tz)
		}
		d := m.DecideText(t.Question, at)
		r := rules.TestResult{Name: fmt.Sprintf("faq: %q", t.Question), Line: t.Line}
		got := d.Entry
		if got == "" {
			got = None
		}
		if got != t.Expect {
			r.Failures = append(r.Failures, fmt.Sprintf("got %s (%s, %s), want %s", got, d.Kind, candidatesString(d.Candidates), t.Expect))
		}
		if t.Decision != "" && d.Kind != t.Decision {
			r.Failures = append(r.Failures, fmt.Sprintf("decision %s, want %s", d.Kind, t.Decision))
		}
		out = append(out, r)
	}
	return out
}

func candidatesString(cs []Candidate) string {
	if len(cs) == 0 {
		return "no candidate"
	}
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = fmt.Sprintf("%s %.3f", c.ID, c.Score)
	}
	return strings.Join(parts, ", ")
}
