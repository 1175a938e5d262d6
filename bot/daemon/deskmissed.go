package daemon

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// deskCatchUpCards is how many cards a desk that answers again gets of the
// open cases it missed: the oldest, after one line that counts them all. A
// night's outage would otherwise bury a phone under cards; /queue lists
// the rest.
const deskCatchUpCards = 10

// missedCases are the ids of the cases a desk was passed over for, in the
// order they were opened.
type missedCases struct {
	mu    sync.Mutex
	ids   []string
	seen  map[string]bool
	count prometheus.Gauge // len(ids)
}

func (m *missedCases) add(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen[id] {
		return // a grouped case shown again
	}
	if m.seen == nil {
		m.seen = map[string]bool{}
	}
	m.seen[id] = true
	m.ids = append(m.ids, id)
	m.count.Set(float64(len(m.ids)))
}

func (m *missedCases) pending() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.ids) > 0
}

// take empties the list and returns what it held.
func (m *missedCases) take() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	ids := m.ids
	m.ids, m.seen = nil, nil
	m.count.Set(0)
	return ids
}

// named is the desk of that name.
func (ds *deskFanout) named(name string) namedDesk {
	for _, d := range ds.desks {
		if d.name == name {
			return d
		}
	}
	panic("no desk " + name) // failures name only the desks of ds
}

// catchUp shows d, which answers again after it was passed over, what it
// missed meanwhile: one line that counts the cases the other desks showed
// alone, how many are still open and since when, then the cards of the
// oldest deskCatchUpCards still open. The decided ones are not shown again:
// their cards on the other desks say how they ended. When d fails again,
// what it did not show yet waits for its next answer.
func (ds *deskFanout) catchUp(ctx context.Context, d namedDesk) {
	ids := d.missed.take()
	if len(ids) == 0 {
		return
	}
	log := ds.log.With("desk", d.name)
	open, err := ds.cases.Cases(ctx, store.CaseOpen)
	if err != nil {
		for _, id := range ids {
			d.missed.add(id)
		}
		log.Warn("the cases a desk missed could not be read; they are shown at its next answer", "missed", len(ids), "err", err)
		return
	}
	missed := make(map[string]bool, len(ids))
	for _, id := range ids {
		missed[id] = true
	}
	var still []store.Case // oldest first, as Cases returns them
	for _, c := range open {
		if missed[c.ID] {
			still = append(still, c)
		}
	}
	if err := d.Alert(ctx, missedLine(len(ids), still, ds.now())); err != nil {
		for _, id := range ids {
			d.missed.add(id)
		}
		log.Warn("a desk that answers again could not be told what it missed; it is at its next answer", "missed", len(ids), "err", err)
		return
	}
	shown := 0
	for i, c := range still[:min(len(still), deskCatchUpCards)] {
		if err := d.PostCase(ctx, c); err != nil {
			for _, c := range still[i:min(len(still), deskCatchUpCards)] {
				d.missed.add(c.ID)
			}
			log.Warn("a case a desk missed could not be shown there; it and the next are at its next answer", "case", c.ID, "err", err)
			break
		}
		shown++
	}
	log.Info("a desk that answers again was shown what it missed", "missed", len(ids), "open", len(still), "cards", shown)
}

// missedLine counts, for a desk that answers again, the n cases it missed
// and the still open among them, oldest first, and says what follows.
func missedLine(n int, still []store.Case, now time.Time) string {
	s := fmt.Sprintf("While this desk did not answer, %d %s shown on the other desks only", n, plural(n, "case was", "cases were"))
	switch {
	case len(still) == 0:
		return s + "; none is still open."
	case len(still) == 1:
		s += "; 1 is still open"
	default:
		s += fmt.Sprintf("; %d are still open", len(still))
	}
	if age := now.Sub(still[0].Opened).Truncate(time.Minute); age >= time.Minute {
		s += ", the oldest opened " + bot.FormatDuration(age) + " ago"
	}
	if len(still) <= deskCatchUpCards {
		return s + ": " + plural(len(still), "here it is.", "here they are.")
	}
	return s + fmt.Sprintf(": here are the %d oldest; /queue lists them all.", deskCatchUpCards)
}

// plural is one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
