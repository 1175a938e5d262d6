package replay

import (
	"cmp"
	"slices"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/wave"
)

// Alert is one wave of a crisis alert the history would have raised: its
// alert's name, where, from its first hit to its last, and how many hits.
type Alert struct {
	Name     string    `json:"name"`
	Platform string    `json:"platform"`
	Space    string    `json:"space"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	Count    int       `json:"count"`
}

// waves follows the alerts over the replay, on the events' clock, as live vigie
// does (package rules/wave).
type waves struct {
	tracker *wave.Tracker
	done    []wave.Wave
	// holding is add's buffer, kept from event to event: the tracker
	// copies what it keeps of it.
	holding []wave.Holding
}

func newWaves(rs *rules.Ruleset) *waves {
	if len(rs.Alerts) == 0 {
		return nil
	}
	return &waves{tracker: wave.NewTracker(rs.WaveAlerts(), wave.Options{})}
}

func (w *waves) add(ev *bot.Event, as *rules.Assessment) {
	if w == nil || as.Verdict.Duplicate {
		return
	}
	holding := w.holding[:0]
	for _, c := range as.Alerts {
		holding = append(holding, wave.Holding{Alert: c.Alert, Count: c.Count})
	}
	w.holding = holding
	// The tracker reads an event's place and key (to count it once), and
	// its author, text and link for the waves' examples, which the summary
	// does not list: it is handed the first, not a copy of the whole event
	// (some 400 bytes, read cold: 3% of the replay's L2 read misses).
	seen := bot.Event{ID: ev.ID, Platform: ev.Platform, Space: ev.Space}
	_, over := w.tracker.Observe(seen, cmp.Or(as.Verdict.At, ev.At), as.Verdict.Matches, holding)
	w.done = append(w.done, over...)
}

// summary is the tally's summary with the alerts: those over, and those still
// under way at the end of the history. A file without alerts has none (and no
// "alerts" key in JSON); one with alerts has a list, maybe empty.
func (w *waves) summary(t *Tally) Summary {
	s := t.Summary()
	if w == nil {
		return s
	}
	all := append(slices.Clone(w.done), w.tracker.Active()...)
	s.Alerts = make([]Alert, 0, len(all))
	for _, x := range all {
		s.Alerts = append(s.Alerts, Alert{Name: x.Alert, Platform: x.Platform, Space: x.Space, From: x.From, To: x.To, Count: x.Count})
	}
	slices.SortStableFunc(s.Alerts, func(a, b Alert) int {
		return cmp.Or(a.From.Compare(b.From), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Space, b.Space))
	})
	return s
}
