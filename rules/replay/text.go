package replay

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
)

// WriteText writes the summary as tables a person reads: the counts, hits per
// rule in the file's order, then the scores per category when events had labels,
// then what the shadow rules would have done.
func (s Summary) WriteText(w io.Writer) error {
	pct := func(n int) string {
		if s.Events == 0 {
			return ""
		}
		return fmt.Sprintf("%.1f%%", 100*float64(n)/float64(s.Events))
	}
	counts := [][]string{
		{"events", fmt.Sprint(s.Events), ""},
		{"flagged", fmt.Sprint(s.Flagged), pct(s.Flagged)},
	}
	if s.ShadowOnly > 0 {
		counts = append(counts, []string{"shadow only", fmt.Sprint(s.ShadowOnly), pct(s.ShadowOnly)})
	}
	counts = append(counts, []string{"skipped", fmt.Sprint(s.Skipped), ""})
	if s.Duplicates > 0 {
		counts = append(counts, []string{"duplicates", fmt.Sprint(s.Duplicates), pct(s.Duplicates)})
	}
	if s.Labelled > 0 {
		counts = append(counts, []string{"labelled", fmt.Sprint(s.Labelled), pct(s.Labelled)})
	}
	tables := [][][]string{counts}

	order := s.rules
	if len(order) != len(s.ByRule) {
		order = order[:0:0]
		for name := range s.ByRule {
			order = append(order, name)
		}
		sort.Strings(order)
	}
	if len(order) > 0 {
		hits := [][]string{{"rule", "hits"}}
		for _, name := range order {
			row := []string{name, fmt.Sprint(s.ByRule[name])}
			if _, ok := s.Shadow[name]; ok {
				row = append(row, "shadow")
			}
			hits = append(hits, row)
		}
		tables = append(tables, hits)
	}

	if len(s.RuleErrors) > 0 {
		names := make([]string, 0, len(s.RuleErrors))
		for name := range s.RuleErrors {
			names = append(names, name)
		}
		sort.Strings(names)
		errs := [][]string{{"rule errors", "events", "first"}}
		for _, name := range names {
			re := s.RuleErrors[name]
			errs = append(errs, []string{name, fmt.Sprint(re.Count), re.FirstEvent + ": " + re.First})
		}
		tables = append(tables, errs)
	}

	if s.Overall != nil {
		scores := [][]string{{"category", "tp", "fp", "fn", "tn", "precision", "recall", "f1", "fp rate"}}
		row := func(name string, sc *Score) []string {
			return []string{name, fmt.Sprint(sc.TP), fmt.Sprint(sc.FP), fmt.Sprint(sc.FN), fmt.Sprint(sc.TN),
				fmt.Sprintf("%.3f", sc.Precision), fmt.Sprintf("%.3f", sc.Recall),
				fmt.Sprintf("%.3f", sc.F1), fmt.Sprintf("%.3f", sc.FalsePositiveRate)}
		}
		for _, name := range s.Categories() {
			scores = append(scores, row(name, s.ByCategory[name]))
		}
		scores = append(scores, row("(overall)", s.Overall))
		tables = append(tables, scores)
	}

	if len(s.Shadow) > 0 {
		tables = append(tables, s.shadowTable(order))
	}

	if s.FAQ != nil {
		faq := [][]string{{"faq", "events"}}
		known := []string{"answer", "suggest", "forward", "cooldown", "silent"}
		for _, d := range known {
			faq = append(faq, []string{d, fmt.Sprint(s.FAQ[d])})
		}
		var other []string
		for d := range s.FAQ {
			if !slices.Contains(known, d) {
				other = append(other, d)
			}
		}
		sort.Strings(other)
		for _, d := range other {
			faq = append(faq, []string{d, fmt.Sprint(s.FAQ[d])})
		}
		tables = append(tables, faq)
	}

	if s.Alerts != nil {
		alerts := [][]string{{"alert", "space", "from", "to", "hits"}}
		for _, a := range s.Alerts {
			alerts = append(alerts, []string{a.Name, strings.TrimSpace(a.Platform + " " + a.Space),
				a.From.UTC().Format("2006-01-02 15:04:05"), a.To.UTC().Format("2006-01-02 15:04:05"), fmt.Sprint(a.Count)})
		}
		if len(s.Alerts) == 0 {
			alerts = append(alerts, []string{"(none raised)"})
		}
		tables = append(tables, alerts)
	}

	var b strings.Builder
	for i, t := range tables {
		if i > 0 {
			b.WriteByte('\n')
		}
		writeTable(&b, t)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// shadowTable lists the shadow rules in the order of the hits table: their
// hits, those on events no enforced rule flagged, and with labels how right
// they were: against their category, and what they would add to (overall).
func (s Summary) shadowTable(order []string) [][]string {
	labelled := s.Labelled > 0
	head := []string{"shadow rule", "category", "hits", "unflagged"}
	if labelled {
		head = []string{"shadow rule", "category", "hits", "tp", "fp", "precision", "unflagged", "overall +tp", "+fp"}
	}
	rows := [][]string{head}
	for _, name := range order {
		sc, ok := s.Shadow[name]
		if !ok {
			continue
		}
		if !labelled {
			rows = append(rows, []string{name, sc.Category, fmt.Sprint(sc.Hits), fmt.Sprint(sc.Unflagged)})
			continue
		}
		rows = append(rows, []string{name, sc.Category, fmt.Sprint(sc.Hits), fmt.Sprint(sc.TP), fmt.Sprint(sc.FP),
			fmt.Sprintf("%.3f", sc.Precision), fmt.Sprint(sc.Unflagged), fmt.Sprint(sc.UnflaggedTP), fmt.Sprint(sc.UnflaggedFP)})
	}
	return rows
}

// writeTable lays rows out in columns two spaces apart: names left, figures right.
func writeTable(b *strings.Builder, rows [][]string) {
	var width []int
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], len([]rune(cell)))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for i, cell := range r {
			pad := strings.Repeat(" ", width[i]-len([]rune(cell)))
			if i == 0 {
				line.WriteString(cell + pad)
				continue
			}
			line.WriteString("  " + pad + cell)
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
}
