package faq

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
)

// EvalLine is one message of an evaluation set: the entry that should answer it,
// or None (as in the file's tests) for chit-chat, praise, insults and questions about anything else.
type EvalLine struct {
	Line   int
	Expect string
	Text   string
}

// ReadEval reads an evaluation set: one message a line, ENTRY<TAB>message; blank
// lines and lines starting with # are skipped.
func ReadEval(r io.Reader) ([]EvalLine, error) {
	var out []EvalLine
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		expect, text, ok := strings.Cut(line, "\t")
		if !ok || strings.TrimSpace(expect) == "" || strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("line %d: want ENTRY<TAB>message (none for a message to leave alone)", n)
		}
		out = append(out, EvalLine{Line: n, Expect: strings.TrimSpace(expect), Text: text})
	}
	return out, sc.Err()
}

// Eval is how an FAQ did on an evaluation set. A message is answered when the
// assistant replies to it (an answer or a suggestion); a question left to the
// desk or left alone is abstained, which costs a CM's time but misleads nobody.
type Eval struct {
	// Questions are the lines with an entry to answer, Others those with none.
	Questions, Others int
	// Right are the questions answered with their entry.
	Right int
	// WrongQuestions are the questions answered with another entry,
	// WrongOthers the other messages answered at all.
	WrongQuestions, WrongOthers int
	// Abstained are the questions not answered; DeskRight those of them
	// whose best entry, put on the desk, was the right one.
	Abstained, DeskRight int
	Misses               []EvalMiss
}

// EvalMiss is a line the assistant did not get right.
type EvalMiss struct {
	EvalLine
	Decision Decision
}

// Wrong is every message answered beside the point.
func (e Eval) Wrong() int { return e.WrongQuestions + e.WrongOthers }

// RightShare is the share of the questions answered with their entry.
func (e Eval) RightShare() float64 { return ratio(e.Right, e.Questions) }

// WrongShare is the share of all the messages answered beside the point.
func (e Eval) WrongShare() float64 { return ratio(e.Wrong(), e.Questions+e.Others) }

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// Add sums two evaluations, misses included.
func (e Eval) Add(o Eval) Eval {
	e.Questions += o.Questions
	e.Others += o.Others
	e.Right += o.Right
	e.WrongQuestions += o.WrongQuestions
	e.WrongOthers += o.WrongOthers
	e.Abstained += o.Abstained
	e.DeskRight += o.DeskRight
	e.Misses = append(e.Misses, o.Misses...)
	return e
}

// String is the figures on one line.
func (e Eval) String() string {
	return fmt.Sprintf("questions %d: right %d (%.1f%%), wrong %d, abstained %d (desk right %d); others %d: answered %d; all %d: wrong %.1f%%",
		e.Questions, e.Right, 100*e.RightShare(), e.WrongQuestions, e.Abstained, e.DeskRight,
		e.Others, e.WrongOthers, e.Questions+e.Others, 100*e.WrongShare())
}

// Evaluate asks the FAQ about every line, as a member would in office hours.
// An expectation that names no entry of the FAQ is an error: a renamed entry
// must not turn its questions into silent misses.
func (m *Matcher) Evaluate(lines []EvalLine) (Eval, error) {
	var e Eval
	at := evalTime(m)
	for _, l := range lines {
		if l.Expect != None && m.entry(l.Expect) == nil {
			return Eval{}, fmt.Errorf("line %d: no faq entry %q (an entry id, or none)", l.Line, l.Expect)
		}
		d := m.DecideText(l.Text, at)
		answered := d.Kind == Answer || d.Kind == Suggest
		miss := true
		switch {
		case l.Expect == None:
			e.Others++
			if answered {
				e.WrongOthers++
			} else {
				miss = false
			}
		case answered && d.Entry == l.Expect:
			e.Questions++
			e.Right++
			miss = false
		case answered:
			e.Questions++
			e.WrongQuestions++
		default:
			e.Questions++
			e.Abstained++
			if c, ok := firstCandidate(d); ok && c == l.Expect {
				e.DeskRight++
			}
		}
		if miss {
			e.Misses = append(e.Misses, EvalMiss{EvalLine: l, Decision: d})
		}
	}
	return e, nil
}

func firstCandidate(d Decision) (string, bool) {
	if d.Entry != "" {
		return d.Entry, true
	}
	if len(d.Candidates) > 0 {
		return d.Candidates[0].ID, true
	}
	return "", false
}

// evalTime is a time in office hours (or any time, when the file has none), so
// that no question is forwarded for coming after hours.
func evalTime(m *Matcher) time.Time {
	t := time.Date(2026, 1, 6, 11, 0, 0, 0, time.UTC)
	if m.tz != nil {
		t = time.Date(2026, 1, 6, 11, 0, 0, 0, m.tz)
	}
	for i := 0; i < 7*24 && m.afterHours(t); i++ {
		t = t.Add(time.Hour)
	}
	return t
}

// WriteEval prints an evaluation for a person: the figures, then each miss with
// what the assistant did instead.
func WriteEval(w io.Writer, e Eval) error {
	var b strings.Builder
	fmt.Fprintf(&b, "questions: %d\n", e.Questions)
	fmt.Fprintf(&b, "  right:     %3d  %5.1f%%\n", e.Right, 100*e.RightShare())
	fmt.Fprintf(&b, "  wrong:     %3d  %5.1f%%\n", e.WrongQuestions, 100*ratio(e.WrongQuestions, e.Questions))
	fmt.Fprintf(&b, "  abstained: %3d  %5.1f%% (the desk's suggestion right for %d)\n", e.Abstained, 100*ratio(e.Abstained, e.Questions), e.DeskRight)
	fmt.Fprintf(&b, "others (chit-chat, praise, insults, off-topic): %d\n", e.Others)
	fmt.Fprintf(&b, "  answered:  %3d  %5.1f%%\n", e.WrongOthers, 100*ratio(e.WrongOthers, e.Others))
	fmt.Fprintf(&b, "all messages: %d, answered wrong %d (%.1f%%)\n", e.Questions+e.Others, e.Wrong(), 100*e.WrongShare())
	if len(e.Misses) > 0 {
		b.WriteString("misses:\n")
	}
	for _, x := range e.Misses {
		d := x.Decision
		got := string(d.Kind)
		if d.Entry != "" {
			got += " " + d.Entry
		}
		if d.Why != "" {
			got += " (" + d.Why + ")"
		}
		fmt.Fprintf(&b, "  line %d: want %s, got %s: %q", x.Line, x.Expect, got, x.Text)
		if len(d.Candidates) > 0 {
			b.WriteString(" [")
			for i, c := range d.Candidates {
				if i > 0 {
					b.WriteString(" ")
				}
				fmt.Fprintf(&b, "%s %.2f", c.ID, c.Score)
			}
			b.WriteString("]")
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
