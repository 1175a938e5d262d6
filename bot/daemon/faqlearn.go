package daemon

import (
	"context"
	"time"
)

// faqLearnEvery is how often the FAQ reads the wordings the CMs taught it from
// the desk: those of any process on the same store, so that every instance
// answers what one CM confirmed.
const faqLearnEvery = 30 * time.Second

// runFAQLearning reads the taught wordings now, every faqLearnEvery, and as
// soon as a CM of this process taught one, until ctx ends.
func (d *daemon) runFAQLearning(ctx context.Context) {
	// On the wall clock: how often the store is read for what other processes taught; it dates nothing.
	t := time.NewTicker(faqLearnEvery)
	defer t.Stop()
	for {
		d.learnFAQ(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-d.faqLearned:
		}
	}
}

// faqTaught nudges runFAQLearning: a CM here taught the FAQ a wording.
func (d *daemon) faqTaught() {
	select {
	case d.faqLearned <- struct{}{}:
	default:
	}
}

// learnFAQ rebuilds the FAQ from the file's entries and the taught wordings
// when there are new ones, and swaps it in unless a reload came in between
// (the next round teaches the new rules).
func (d *daemon) learnFAQ(ctx context.Context) {
	l := d.current.Load()
	if l == nil || l.base == nil {
		return
	}
	ws, err := d.store.FAQWordings(ctx)
	if err != nil {
		d.log.Warn("faq: taught wordings not read", "err", err)
		return
	}
	if len(ws) == l.taught {
		return
	}
	m, err := l.base.WithLearned(ws)
	if err != nil {
		d.log.Warn("faq: taught wordings not used", "err", err)
		return
	}
	d.reloadMu.Lock()
	defer d.reloadMu.Unlock()
	if d.current.Load() != l {
		return
	}
	n := *l
	n.faq, n.taught = m, len(ws)
	d.current.Store(&n)
	d.log.Info("faq: taught wordings read", "wordings", len(ws), "used", m.Learned())
}
