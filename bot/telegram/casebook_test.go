package telegram

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// caseBook is a small, complete keeper of cases and of the paused state: the
// other side of the desk's Commands boundary, as the daemon provides it.
type caseBook struct {
	mu      sync.Mutex
	cards   map[string]bot.Card
	replies map[string]string
	paused  bool
	until   time.Duration
	reloads int
	periods []time.Duration
	// gated are the cases whose decisions wait for gate to close, as a
	// store that is slow to answer makes them wait (holdWorkers).
	gated map[string]bool
	gate  chan struct{}
}

// holdDecisions makes the decisions of ids wait until the returned release
// is called (once or more).
func (b *caseBook) holdDecisions(ids ...string) (release func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.gate = make(chan struct{})
	b.gated = make(map[string]bool)
	for _, id := range ids {
		b.gated[id] = true
	}
	gate := b.gate
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

func newCaseBook(cards ...bot.Card) *caseBook {
	b := &caseBook{cards: make(map[string]bot.Card), replies: make(map[string]string)}
	for _, c := range cards {
		b.cards[c.ID] = c
	}
	return b
}

func (b *caseBook) get(id string) bot.Card {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cards[id]
}

func (b *caseBook) Decide(_ context.Context, d bot.Decision) (bot.Card, error) {
	b.mu.Lock()
	if gate := b.gate; b.gated[d.CaseID] {
		b.mu.Unlock()
		<-gate
		b.mu.Lock()
	}
	defer b.mu.Unlock()
	c, ok := b.cards[d.CaseID]
	if !ok {
		return bot.Card{}, fmt.Errorf("case %s: not found", d.CaseID)
	}
	if c.Decided() {
		return c, fmt.Errorf("case %s: %w", d.CaseID, bot.ErrDecided)
	}
	if d.Outcome == bot.OutcomeTimeout && d.Duration <= 0 {
		return bot.Card{}, errors.New("a timeout needs a duration")
	}
	c.Outcome, c.DecidedBy, c.DecidedAt = d.Outcome, d.By, time.Date(2026, 11, 21, 8, 30, 0, 0, time.UTC)
	if d.Outcome == bot.OutcomeReply {
		b.replies[d.CaseID] = d.Text
	}
	b.cards[d.CaseID] = c
	if c.Event.Platform == "off" && d.Outcome != bot.OutcomeKeep {
		return c, fmt.Errorf("platform %q is off", c.Event.Platform)
	}
	return c, nil
}

func (b *caseBook) Queue(context.Context, string) ([]bot.Card, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var open []bot.Card
	for _, c := range b.cards {
		if !c.Decided() {
			open = append(open, c)
		}
	}
	sort.Slice(open, func(i, j int) bool { return open[i].Opened.Before(open[j].Opened) })
	return open, nil
}

func (b *caseBook) Status(_ context.Context, by string) (string, error) {
	open, _ := b.Queue(context.Background(), by)
	b.mu.Lock()
	defer b.mu.Unlock()
	mode := "enforce"
	if b.paused {
		mode = "paused"
	}
	return fmt.Sprintf("mode: %s, open cases: %d", mode, len(open)), nil
}

func (b *caseBook) Pause(_ context.Context, d time.Duration, by string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.paused, b.until = true, d
	if d == 0 {
		return "paused until /resume by " + by, nil
	}
	return fmt.Sprintf("paused for %s by %s", d, by), nil
}

func (b *caseBook) Resume(_ context.Context, by string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.paused {
		return "", errors.New("vigie is not paused")
	}
	b.paused = false
	return "enforcing again, resumed by " + by, nil
}

func (b *caseBook) Stats(_ context.Context, period time.Duration, _ string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.periods = append(b.periods, period)
	return fmt.Sprintf("stats over %s: flood 3", period), nil
}

func (b *caseBook) Rules(context.Context, string) (string, error) {
	return "flood: enforce, 3 hits today", nil
}

func (b *caseBook) Reload(context.Context, string) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reloads++
	return "rules reloaded", nil
}

func (b *caseBook) isPaused() (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.paused, b.until
}

func (b *caseBook) reply(id string) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.replies[id]
}
