package report

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// Formats a report is written in.
const (
	FormatText = "text"
	FormatCSV  = "csv"
	FormatJSON = "json"
)

// Write writes the report in format: text, csv or json.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case FormatText, "":
		_, err := io.WriteString(w, r.Text())
		return err
	case FormatCSV:
		return r.CSV(w)
	case FormatJSON:
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	return fmt.Errorf("report: unknown format %q (want text, csv or json)", format)
}

// CSVHeader is the first line of the CSV form.
var CSVHeader = []string{"hour", "rule", "category", "hits", "actions", "events"}

// CSV writes one row per rule and hour with hits, for a spreadsheet: the hour in
// the report's timezone (RFC 3339), the rule, its category, its hits and actions,
// and the events of that hour (the same on each of the hour's rows). An hour
// without hits has one row with an empty rule, so that the quiet hours show.
func (r *Report) CSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	category := map[string]string{}
	for _, rc := range r.ByRule {
		category[rc.Rule] = rc.Category
	}
	for _, h := range r.Hours {
		hour := h.Start.Format(time.RFC3339)
		events := strconv.Itoa(h.Events)
		if len(h.ByRule) == 0 {
			if err := cw.Write([]string{hour, "", "", "0", "0", events}); err != nil {
				return err
			}
			continue
		}
		rules := make([]string, 0, len(h.ByRule))
		for name := range h.ByRule {
			rules = append(rules, name)
		}
		slices.Sort(rules)
		for _, name := range rules {
			row := []string{hour, name, category[name], strconv.Itoa(h.ByRule[name]), strconv.Itoa(h.RuleActions[name]), events}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// Title names the report's period: "Report Fri 20 Nov 19:00 → Sat 21 Nov 09:00".
// A community's report says which: "Report of brand_a Fri 20 Nov…".
func (r *Report) Title() string {
	of := ""
	if r.Community != "" {
		of = " of " + r.Community
	}
	return fmt.Sprintf("Report%s %s → %s (%s)", of, r.Since.Format("Mon 2 Jan 2006 15:04"), r.Until.Format("Mon 2 Jan 2006 15:04"), r.Timezone)
}

// Text is the report for a phone screen: a few lines, most important first.
func (r *Report) Text() string {
	var b strings.Builder
	b.WriteString(r.Title() + "\n")
	events := plural(r.Events, "event")
	if !r.EventsKnown {
		events = "(events not counted)"
	}
	fmt.Fprintf(&b, "%s, %d flagged, %s", events, r.Flagged, plural(r.Actions, "action"))
	if len(r.ByAction) > 0 {
		var parts []string
		for _, k := range sortedKeys(r.ByAction) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.ByAction[k]))
		}
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	b.WriteString(".\n")
	if len(r.ByMode) > 1 || r.ByMode["paused"] > 0 {
		var parts []string
		for _, k := range sortedKeys(r.ByMode) {
			parts = append(parts, fmt.Sprintf("%s %d", k, r.ByMode[k]))
		}
		fmt.Fprintf(&b, "Modes: %s.\n", strings.Join(parts, ", "))
	}

	if len(r.Alerts) > 0 {
		fmt.Fprintf(&b, "🚨 %s:\n", plural(len(r.Alerts), "alert"))
		for _, w := range r.Alerts {
			fmt.Fprintf(&b, "  %s on %s %s–%s, %d hits", w.Alert, where(w.Platform, w.Space),
				w.From.In(r.Since.Location()).Format("15:04"), w.To.In(r.Since.Location()).Format("15:04"), w.Count)
			if len(w.ByRule) > 0 {
				fmt.Fprintf(&b, " (%s)", countList(w.ByRule))
			}
			if w.Over.IsZero() {
				b.WriteString(", still going")
			}
			b.WriteString("\n")
		}
	}

	c := r.Cases
	fmt.Fprintf(&b, "Cases: %d open", c.Open)
	if c.Open > 0 {
		oldest := "<1m" // ages are whole minutes, as vigie cases list shows them
		if c.OldestOpen >= time.Minute {
			oldest = bot.FormatDuration(c.OldestOpen)
		}
		fmt.Fprintf(&b, " (oldest %s)", oldest)
	}
	fmt.Fprintf(&b, ", %d opened, %d decided", c.Opened, c.Decided)
	if c.Decided > 0 {
		fmt.Fprintf(&b, " (%s)", countList(c.ByOutcome))
	}
	b.WriteString(".\n")

	if len(r.ByRule) > 0 {
		b.WriteString("Rules:")
		for _, rc := range r.ByRule {
			fmt.Fprintf(&b, "\n  %s %d", rc.Rule, rc.Hits)
			var notes []string
			if rc.Shadow > 0 {
				notes = append(notes, fmt.Sprintf("%d shadow", rc.Shadow))
			}
			if rc.Overturned > 0 {
				notes = append(notes, fmt.Sprintf("%d overturned", rc.Overturned))
			}
			if len(notes) > 0 {
				fmt.Fprintf(&b, " (%s)", strings.Join(notes, ", "))
			}
		}
		b.WriteString("\n")
	} else {
		b.WriteString("No rule matched.\n")
	}
	if len(r.ByCategory) > 0 {
		var parts []string
		for _, cc := range r.ByCategory {
			parts = append(parts, fmt.Sprintf("%s %d", cc.Name, cc.Flagged))
		}
		fmt.Fprintf(&b, "Categories: %s.\n", strings.Join(parts, ", "))
	}
	if len(r.ByPlatform) > 0 {
		var parts []string
		for _, p := range r.ByPlatform {
			if r.EventsKnown {
				parts = append(parts, fmt.Sprintf("%s %s/%d flagged", p.Name, plural(p.Events, "event"), p.Flagged))
			} else {
				parts = append(parts, fmt.Sprintf("%s %d flagged", p.Name, p.Flagged))
			}
		}
		fmt.Fprintf(&b, "Platforms: %s.\n", strings.Join(parts, ", "))
	}
	if f := r.FAQ; f != nil {
		fmt.Fprintf(&b, "FAQ: %d answered, %d unanswered", f.Answered, f.Unanswered)
		if len(f.Missing) > 0 {
			quoted := make([]string, len(f.Missing))
			for i, q := range f.Missing {
				quoted[i] = strconv.Quote(truncate(q, 60))
			}
			fmt.Fprintf(&b, " (%s)", strings.Join(quoted, ", "))
		}
		b.WriteString(".\n")
	}
	if len(r.Offenders) > 0 {
		b.WriteString("Top offenders:")
		for _, o := range r.Offenders {
			// The name and the id are the member's (an id is free text
			// over HTTP): one line each, cut, inert, as in vigie's words.
			who := bot.NameInText(o.Platform + ":" + o.Author)
			if o.Name != "" {
				who = bot.NameInText(o.Name) + " (" + who + ")"
			}
			fmt.Fprintf(&b, "\n  %s %d (%s)", who, o.Hits, strings.Join(o.Rules, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

func where(platform, space string) string {
	return strings.TrimPrefix(cmp.Or(platform, "?")+" "+space, " ")
}

func countList(m map[string]int) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
