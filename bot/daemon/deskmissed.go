package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
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

// missedCases are the cases a desk was passed over for, kept in the store
// (store.DeskMissedKeeper): a restart keeps them, and the instances on one
// store share them, so that the desk, once it answers, is shown them once,
// by the instance it answers first.
type missedCases struct {
	desk string
	keep store.DeskMissedKeeper
	log  *slog.Logger
	// maybe says the store may hold cases for the desk: set at start (a
	// process before this one, another instance, may have kept some) and
	// at each add, cleared by a take. It spares a store's read on each card
	// a desk that missed nothing takes.
	maybe atomic.Bool
	count prometheus.Gauge // the cases the desk missed, as this instance last counted them
}

func newMissedCases(desk string, keep store.DeskMissedKeeper, log *slog.Logger, count prometheus.Gauge) *missedCases {
	m := &missedCases{desk: desk, keep: keep, log: log, count: count}
	m.maybe.Store(true)
	return m
}

// add keeps id for the desk. A store that does not take it loses the card
// for that desk alone: the case is on the other desks, in /queue and in
// the console.
func (m *missedCases) add(ctx context.Context, ids ...string) {
	for _, id := range ids {
		n, err := m.keep.AddDeskMissed(ctx, m.desk, id)
		if err != nil {
			m.log.Warn("a case the desk missed is not kept: it will not be shown there once it answers (the other desks showed it; /queue lists it)",
				"desk", m.desk, "case", id, "err", err)
			continue
		}
		m.maybe.Store(true)
		m.count.Set(float64(n))
	}
}

func (m *missedCases) pending() bool { return m.maybe.Load() }

// take empties the cases kept for the desk and returns them; of the
// instances that take them at once, one gets them.
func (m *missedCases) take(ctx context.Context) ([]string, error) {
	m.maybe.Store(false) // before: an add meanwhile sets it again
	ids, err := m.keep.TakeDeskMissed(ctx, m.desk)
	if err != nil {
		m.maybe.Store(true)
		return nil, err
	}
	m.count.Set(0)
	return ids, nil
}

// catchUpStop bounds how long a catch-up cancelled at the stop has to put
// back what it did not show.
const catchUpStop = 5 * time.Second

// goCatchUp runs catchUp for d in a goroutine the stop waits for, on a
// context the stop cancels: unless the stop began, when what d missed
// stays in the store for the next start.
func (ds *deskFanout) goCatchUp(d namedDesk) {
	ds.catchMu.Lock()
	defer ds.catchMu.Unlock()
	if ds.catchCtx == nil {
		ds.catchCtx, ds.catchCancel = context.WithCancel(context.Background())
	}
	if ds.catchStopped {
		return
	}
	ds.catchRunning++
	ctx := ds.catchCtx
	go func() {
		defer ds.catchDone()
		defer func() {
			if v := recover(); v != nil {
				ds.guard.Report("desk catch-up", v, debug.Stack())
			}
		}()
		ds.catchUp(ctx, d)
	}()
}

// catchDone counts a catch-up's end, and says to the stop when it was the
// last.
func (ds *deskFanout) catchDone() {
	ds.catchMu.Lock()
	defer ds.catchMu.Unlock()
	ds.catchRunning--
	if ds.catchRunning == 0 && ds.catchIdle != nil {
		close(ds.catchIdle)
		ds.catchIdle = nil
	}
}

// catchUpAll shows each desk, at start, what it missed before: while
// another process ran, or this one before a restart.
func (ds *deskFanout) catchUpAll() {
	if len(ds.desks) < 2 {
		return // one desk is passed over for none
	}
	for _, d := range ds.desks {
		ds.goCatchUp(d)
	}
}

// stopCatchUps cancels the catch-ups under way, which put back in the
// store what they did not show, and waits for them until ctx ends; false
// when one is still running then.
func (ds *deskFanout) stopCatchUps(ctx context.Context) bool {
	ds.catchMu.Lock()
	ds.catchStopped = true
	if ds.catchCancel != nil {
		ds.catchCancel()
	}
	if ds.catchRunning == 0 {
		// said before ctx is read: the drain's may be spent already
		ds.catchMu.Unlock()
		return true
	}
	if ds.catchIdle == nil {
		ds.catchIdle = make(chan struct{})
	}
	idle := ds.catchIdle
	ds.catchMu.Unlock()
	select {
	case <-idle:
		return true
	case <-ctx.Done():
		return false
	}
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
	log := ds.log.With("desk", d.name)
	ids, err := d.missed.take(ctx)
	if err != nil {
		log.Warn("the cases a desk missed could not be read from the store; they are shown at its next answer", "err", err)
		return
	}
	if len(ids) == 0 {
		return
	}
	// What is not shown is put back, also when the stop cancelled ctx.
	putBack := func(ids []string) {
		pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), catchUpStop)
		defer cancel()
		d.missed.add(pctx, ids...)
	}
	open, err := ds.cases.Cases(ctx, store.CaseOpen)
	if err != nil {
		putBack(ids)
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
		putBack(ids)
		log.Warn("a desk that answers again could not be told what it missed; it is at its next answer", "missed", len(ids), "err", err)
		return
	}
	shown := 0
	for i, c := range still[:min(len(still), deskCatchUpCards)] {
		if err := d.PostCase(ctx, c); err != nil {
			var rest []string
			for _, c := range still[i:min(len(still), deskCatchUpCards)] {
				rest = append(rest, c.ID)
			}
			putBack(rest)
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
