package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// CardEditor is a Desk that can show a decision on a case's card wherever it
// was posted, by this process or another: the store says where (AddCard).
type CardEditor interface {
	// EditCard shows c as it now stands on the card at ref, without its
	// buttons; note, when set, is shown under the decision.
	EditCard(ctx context.Context, ref bot.CardRef, c store.Case, note string) error
}

// AddCard records where a desk posted the case's card, so that whichever
// process decides the case shows the decision on it. A case decided while the
// card was being posted has its decision shown at once: the process that
// decided it may have read the case's cards before this one was recorded.
func (m *Moderator) AddCard(ctx context.Context, caseID string, ref bot.CardRef) error {
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	if err := m.store.AddCard(sctx, caseID, ref); err != nil {
		return fmt.Errorf("case %s card: %w", caseID, err)
	}
	c, err := m.store.Case(sctx, caseID)
	if err != nil && degraded(m.store) {
		// The store kept the card for Redis, away now: no decision is taken
		// on a case there meanwhile (its claim waits for Redis).
		return nil
	}
	if err != nil {
		return fmt.Errorf("case %s card: %w", caseID, err)
	}
	if c.Status == store.CaseDecided {
		defer m.takeCardTurn(caseID)()
		m.editCard(ctx, ref, c, "")
	}
	return nil
}

// cardTurn keeps the edits of one case's cards one at a time: n are the
// edits that hold it or wait for it.
type cardTurn struct {
	mu sync.Mutex
	n  int
}

// takeCardTurn waits for the edits of case id's cards under way here, and
// returns the end of its own turn. An edit of a card is not taken back by
// one sent before it but answered after (a recount's, held by the platform
// while a CM decides): the last edit begun is the last written. Each edit
// is bounded (cardEditWait), and so is the wait.
func (m *Moderator) takeCardTurn(id string) (done func()) {
	m.cardTurnsMu.Lock()
	if m.cardTurns == nil {
		m.cardTurns = map[string]*cardTurn{}
	}
	t := m.cardTurns[id]
	if t == nil {
		t = &cardTurn{}
		m.cardTurns[id] = t
	}
	t.n++
	m.cardTurnsMu.Unlock()
	if !t.mu.TryLock() {
		m.log.Debug("a case's card waits for the edit of its cards under way", "case", id)
		t.mu.Lock()
	}
	return func() {
		t.mu.Unlock()
		m.cardTurnsMu.Lock()
		if t.n--; t.n == 0 {
			delete(m.cardTurns, id)
		}
		m.cardTurnsMu.Unlock()
	}
}

// ShowDecision shows c's decision on every card of the case the store knows,
// whichever process posted them: every way of deciding (the desks' buttons
// and commands, the console, the HTTP API and so the command line) goes
// through the process that records the decision, which edits the cards
// itself. A card the platform will not edit (deleted, too old) is logged and
// left; one it cannot edit now is tried again by the retry stage.
func (m *Moderator) ShowDecision(ctx context.Context, c store.Case, note string) {
	if _, ok := m.desk.(CardEditor); !ok {
		return
	}
	defer m.takeCardTurn(c.ID)()
	m.showCards(ctx, c, note)
}

// showCards is ShowDecision in the case's card turn.
func (m *Moderator) showCards(ctx context.Context, c store.Case, note string) {
	if _, ok := m.desk.(CardEditor); !ok {
		return
	}
	sctx, cancel := m.storeContext(ctx)
	cards, err := m.store.CaseCards(sctx, c.ID)
	cancel()
	if err != nil {
		m.log.Warn("the case's cards do not show its decision: where they are was not read", "case", c.ID, "err", err)
		return
	}
	if others := m.causeOthers(ctx, c); others != "" {
		note = strings.TrimSpace(note + "\n" + others)
	}
	for _, ref := range cards {
		m.editCard(ctx, ref, c, note)
	}
}

// editCard shows c on one card, through the retry stage; a shutdown leaves it
// a few seconds to finish.
func (m *Moderator) editCard(ctx context.Context, ref bot.CardRef, c store.Case, note string) {
	ed, ok := m.desk.(CardEditor)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cardEditWait)
	defer cancel()
	err := m.retry.Do(ctx, func(ctx context.Context) error { return ed.EditCard(ctx, ref, c, note) })
	desk := ref.Platform
	if desk != "telegram" && desk != "discord" {
		desk = "other" // stored text: the series stay bounded
	}
	if err == nil {
		m.cardEdits.WithLabelValues(desk, ResultDone).Inc()
		return
	}
	m.cardEdits.WithLabelValues(desk, ResultFailed).Inc()
	msg := "a card does not show the case's decision"
	if errors.Is(err, ErrNoDesk) {
		msg = "a card does not show the case's decision: its desk is off here"
	}
	m.log.Warn(msg, "case", c.ID, "platform", ref.Platform, "chat", ref.Chat, "message", ref.Message, "err", err)
	if lost := bot.CardLost(ctx, ref); lost != nil {
		// The presser looks at that card for the outcome: the desk tells them.
		lost(c.Outcome, note, err)
	}
}

// cardEditWait bounds the retries of one card's edit.
const cardEditWait = time.Minute
