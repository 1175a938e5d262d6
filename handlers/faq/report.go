package faq

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
)

// record is one decision the report remembers.
type record struct {
	at     time.Time
	entry  string
	kind   Kind
	cooled bool
	// for unanswered questions: what was asked, and its terms for grouping
	text  string
	terms []string
}

// EntryCounts are what the FAQ did for one entry.
type EntryCounts struct {
	ID        string `json:"id"`
	Answered  int    `json:"answered"`
	Suggested int    `json:"suggested"`
	Forwarded int    `json:"forwarded"`
	// Cooled counts the answers held back by a cooldown.
	Cooled int `json:"cooled"`
}

// UnansweredGroup is a group of alike questions no entry answered: what the FAQ is
// missing, most asked first.
type UnansweredGroup struct {
	// Example is the first question of the group, as written.
	Example string `json:"example"`
	Count   int    `json:"count"`
	// Terms are the words the group shares, as the index reads them.
	Terms []string  `json:"terms"`
	Last  time.Time `json:"last"`
}

// Report is what the FAQ did since a time, for /stats and the digest.
type Report struct {
	Since   time.Time     `json:"since"`
	Entries []EntryCounts `json:"entries"`
	// Questions counts the messages that looked like questions; Unanswered
	// those no entry matched (some of them were forwarded after hours).
	Questions      int               `json:"questions"`
	Unanswered     int               `json:"unanswered"`
	TopUnanswered  []UnansweredGroup `json:"top_unanswered"`
	AnsweredTotal  int               `json:"answered"`
	SuggestedTotal int               `json:"suggested"`
	ForwardedTotal int               `json:"forwarded"`
}

func (a *Assistant) record(ev *bot.Event, d Decision, cooled bool) {
	label := d.Entry
	if label == "" {
		label = "none"
	}
	kind := d.Kind
	if cooled {
		kind = Cooldown
	}
	if kind == Silent && label == "none" {
		a.silentCounter().Inc()
	} else {
		a.decisions.WithLabelValues(label, string(kind)).Inc()
	}
	if d.Why == WhyNotAsked || (d.Kind == Silent && !d.Unanswered && !cooled) {
		// Chat and moderated messages: the metric counts them, the report
		// keeps only questions.
		return
	}
	r := record{at: ev.At, entry: d.Entry, kind: d.Kind, cooled: cooled}
	if d.Unanswered {
		r.text, r.terms = ev.Text, d.Terms
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.history) < a.limit {
		a.history = append(a.history, r)
		return
	}
	a.history[a.next] = r
	a.next = (a.next + 1) % a.limit
}

// silentCounter is a.decisions.WithLabelValues("none", "silent"), kept.
func (a *Assistant) silentCounter() prometheus.Counter {
	if c := a.silent.Load(); c != nil {
		return *c
	}
	c := a.decisions.WithLabelValues("none", string(Silent))
	a.silent.Store(&c)
	return c
}

// groupSimilarity is the share of terms two questions must have in common
// (Jaccard) to be one group.
const groupSimilarity = 0.5

// Report returns what the FAQ did since since (zero: since the start, within
// the history kept), with at most top groups of unanswered questions. Each
// instance reports its own decisions; the Prometheus counters add up across
// instances.
func (a *Assistant) Report(since time.Time, top int) Report {
	a.mu.Lock()
	recs := make([]record, 0, len(a.history))
	// oldest first: the ring starts at next once full
	recs = append(recs, a.history[a.next:]...)
	recs = append(recs, a.history[:a.next]...)
	a.mu.Unlock()

	rep := Report{Since: since, Entries: []EntryCounts{}, TopUnanswered: []UnansweredGroup{}}
	byID := map[string]*EntryCounts{}
	var groups []*UnansweredGroup
	for _, r := range recs {
		if r.at.Before(since) {
			continue
		}
		rep.Questions++
		if r.entry == "" {
			rep.Unanswered++
			if len(r.terms) > 0 {
				groups = addToGroup(groups, r)
			}
			continue
		}
		c := byID[r.entry]
		if c == nil {
			c = &EntryCounts{ID: r.entry}
			byID[r.entry] = c
		}
		switch {
		case r.cooled:
			c.Cooled++
		case r.kind == Answer:
			c.Answered++
			rep.AnsweredTotal++
		case r.kind == Suggest:
			c.Suggested++
			rep.SuggestedTotal++
		case r.kind == Forward:
			c.Forwarded++
			rep.ForwardedTotal++
		}
	}
	for _, c := range byID {
		rep.Entries = append(rep.Entries, *c)
	}
	sort.Slice(rep.Entries, func(i, j int) bool {
		ti := rep.Entries[i].Answered + rep.Entries[i].Suggested + rep.Entries[i].Forwarded
		tj := rep.Entries[j].Answered + rep.Entries[j].Suggested + rep.Entries[j].Forwarded
		if ti != tj {
			return ti > tj
		}
		return rep.Entries[i].ID < rep.Entries[j].ID
	})
	sort.SliceStable(groups, func(i, j int) bool {
		if groups[i].Count != groups[j].Count {
			return groups[i].Count > groups[j].Count
		}
		return groups[i].Last.After(groups[j].Last)
	})
	for i, g := range groups {
		if i == top {
			break
		}
		rep.TopUnanswered = append(rep.TopUnanswered, *g)
	}
	return rep
}

// addToGroup puts an unanswered question in the first group it is alike enough,
// or in a new one. The group's terms are those its members share.
func addToGroup(groups []*UnansweredGroup, r record) []*UnansweredGroup {
	for _, g := range groups {
		if jaccard(g.Terms, r.terms) >= groupSimilarity {
			g.Count++
			g.Last = r.at
			var shared []string
			for _, t := range g.Terms {
				if slices.Contains(r.terms, t) {
					shared = append(shared, t)
				}
			}
			g.Terms = shared
			return groups
		}
	}
	return append(groups, &UnansweredGroup{Example: r.text, Count: 1, Terms: slices.Clone(r.terms), Last: r.at})
}

func jaccard(a, b []string) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	inter := 0
	for _, t := range a {
		if slices.Contains(b, t) {
			inter++
		}
	}
	return float64(inter) / float64(len(a)+len(b)-inter)
}

// Summary is the report in a few lines for /stats, short enough for a phone:
// empty when the FAQ saw no question.
func (r Report) Summary() string {
	if r.Questions == 0 {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "FAQ: %d questions, %d answered, %d suggested, %d forwarded, %d unanswered.",
		r.Questions, r.AnsweredTotal, r.SuggestedTotal, r.ForwardedTotal, r.Unanswered)
	for _, e := range r.Entries {
		fmt.Fprintf(&b, "\n  %s: %d answered", e.ID, e.Answered)
		if e.Suggested > 0 {
			fmt.Fprintf(&b, ", %d suggested", e.Suggested)
		}
		if e.Forwarded > 0 {
			fmt.Fprintf(&b, ", %d forwarded", e.Forwarded)
		}
		if e.Cooled > 0 {
			fmt.Fprintf(&b, ", %d held by cooldown", e.Cooled)
		}
	}
	if len(r.TopUnanswered) > 0 {
		b.WriteString("\nMost asked without an answer:")
		for _, g := range r.TopUnanswered {
			fmt.Fprintf(&b, "\n  %d× %q", g.Count, g.Example)
		}
	}
	return b.String()
}
