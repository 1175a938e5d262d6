package handlers

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// When vigie loses a right in the middle of a raid, every action it tries
// there fails alike: two hundred deletes refused would be two hundred cards,
// at the desk chat's pace (Telegram: twenty messages a minute), and the
// cases that need a human would wait behind them. The cases whose actions
// failed for one cause of their place (store.Case.Cause) share one card
// instead: the first one's, edited to count them as they come, for
// causeWindow; each case stays open, in the queue, to be decided once the
// cause is mended.

// causeWindow is how long the cases of one cause join the card posted for
// it; after it, the next one posts a new card: the CMs are told again that
// the failure goes on.
const causeWindow = 10 * time.Minute

// causeCards are the cards of the causes, by Case.Cause. The store keeps
// them (store.CauseKeeper), so that the instances on one Redis, and this one
// after a restart, show a cause on one card; local stands in for a store
// that keeps none, or does not answer.
type causeCards struct {
	local store.CauseBook
	mu    sync.Mutex
	// touched are the scopes of the cards joined here since showCauses
	// last looked at them.
	touched map[string]bool
	// warned is when a store that did not answer was last logged.
	warned time.Time
}

// causeOf is the cause of err, "" for none (Options.FailureCause).
func (m *Moderator) causeOf(err error) string {
	if m.failureCause == nil || err == nil {
		return ""
	}
	return m.failureCause(err)
}

// causeKey is the Case.Cause of a verdict's failed actions acts, failed for
// causes, when each failed for a cause of its place; "" when one did not.
func causeKey(ev bot.Event, acts []bot.Action, causes []string) string {
	if len(acts) == 0 {
		return ""
	}
	parts := make([]string, 0, len(acts))
	for i, a := range acts {
		if causes[i] == "" {
			return ""
		}
		parts = append(parts, string(a.Kind)+": "+causes[i])
	}
	slices.Sort(parts)
	return strings.Join([]string{ev.Platform, ev.Space, ev.Channel, strings.Join(slices.Compact(parts), "; ")}, "|")
}

// causeTurn says what to do with c, about to be posted: post its card
// (store.CausePost), or none, as the card of its cause counts it
// (CauseCounted: that card was posted within causeWindow, its case is
// still open, and c joins it, or is its case), or try c again later
// (CauseWait: another instance claimed the cause's card and has not
// posted it yet). A desk that cannot edit its cards shows each case.
func (m *Moderator) causeTurn(ctx context.Context, c store.Case) store.CauseTurn {
	if c.Cause == "" || c.Priority == PriorityHigh || c.Status != store.CaseOpen {
		return store.CausePost
	}
	if _, ok := m.desk.(CardEditor); !ok {
		return store.CausePost
	}
	name := c.Event.Author.Name
	if name == "" {
		name = c.Event.Author.ID
	}
	j := store.CauseJoin{Case: c.ID, Name: name, Reason: c.Reason}
	scope := causeScope(c)
	var turn store.CauseTurn
	err := m.causeStep(ctx, func(ctx context.Context, k store.CauseKeeper) (err error) {
		_, turn, err = k.JoinCause(ctx, scope, j, m.now(), causeWindow)
		return err
	})
	if err != nil {
		return store.CausePost
	}
	if turn == store.CauseCounted {
		cc := &m.causeCards
		cc.mu.Lock()
		if cc.touched == nil {
			cc.touched = map[string]bool{}
		}
		cc.touched[scope] = true
		cc.mu.Unlock()
	}
	return turn
}

// causeStep runs step on the store's cause cards, or, when the store keeps
// none or does not answer, on this process's own, and says so.
func (m *Moderator) causeStep(ctx context.Context, step func(context.Context, store.CauseKeeper) error) error {
	cc := &m.causeCards
	k, ok := m.store.(store.CauseKeeper)
	if !ok {
		return step(ctx, &cc.local)
	}
	sctx, cancel := m.storeContext(ctx)
	err := step(sctx, k)
	cancel()
	if err == nil {
		return nil
	}
	cc.mu.Lock()
	warn := cc.warned.IsZero() || m.now().Sub(cc.warned) >= causeWindow
	if warn {
		cc.warned = m.now()
	}
	cc.mu.Unlock()
	if warn {
		m.log.Warn("the store did not answer for the desk's cause cards: this instance counts them in its own memory meanwhile, and another one may post its own card for a cause", "err", err)
	}
	return step(ctx, &cc.local)
}

// causeScope is the key of c's cause card: its cause, on its desk.
func causeScope(c store.Case) string { return c.Community + "\x00" + c.Cause }

// causePosted records that c's card was posted: the first of its cause,
// whose card the next ones join.
func (m *Moderator) causePosted(ctx context.Context, c store.Case) {
	if c.Cause == "" || c.Priority == PriorityHigh {
		return
	}
	if _, ok := m.desk.(CardEditor); !ok {
		return
	}
	m.causeStep(ctx, func(ctx context.Context, k store.CauseKeeper) error {
		return k.CausePosted(ctx, causeScope(c), c.ID)
	})
}

// causeDropped closes the card c claimed for its cause when c will not be
// posted (refused for good, decided first): the cause's next case claims
// one, rather than wait for it.
func (m *Moderator) causeDropped(ctx context.Context, c store.Case) {
	if c.Cause == "" || c.Priority == PriorityHigh {
		return
	}
	if _, ok := m.desk.(CardEditor); !ok {
		return
	}
	m.causeStep(ctx, func(ctx context.Context, k store.CauseKeeper) error {
		_, _, err := k.CloseCause(ctx, causeScope(c), c.ID)
		return err
	})
}

// showCauses edits the cause cards joined here since they last showed
// their count: once a round of FlushCases, not once a case. Of the
// instances that joined a card, the first to ask edits it.
func (m *Moderator) showCauses(ctx context.Context) {
	cc := &m.causeCards
	cc.mu.Lock()
	scopes := make([]string, 0, len(cc.touched))
	for scope := range cc.touched {
		scopes = append(scopes, scope)
	}
	cc.touched = nil
	cc.mu.Unlock()
	for _, scope := range scopes {
		var card store.CauseCard
		var due bool
		if m.causeStep(ctx, func(ctx context.Context, k store.CauseKeeper) (err error) {
			card, due, err = k.ShowCause(ctx, scope)
			return err
		}) != nil || !due {
			continue
		}
		sctx, cancel := m.storeContext(ctx)
		lead, err := m.store.Case(sctx, card.Lead)
		var refs []bot.CardRef
		if err == nil {
			refs, err = m.store.CaseCards(sctx, card.Lead)
		}
		cancel()
		if err != nil {
			m.log.Warn("a cause's card does not show its count: its case was not read", "case", card.Lead, "err", err)
			continue
		}
		if lead.Status != store.CaseOpen {
			// Its card shows the decision; the cause's next case posts a
			// new one.
			m.causeDropped(ctx, lead)
			continue
		}
		lead.Reason = causeText(lead, card, m.now())
		for _, ref := range refs {
			m.editCard(ctx, ref, lead, "")
		}
		m.log.Info("a cause's card counts its cases", "case", lead.ID, "cases", card.N, "cause", lead.Cause)
	}
}

// text is what the card of the cause says: how many actions failed for it
// and since when, why, and who the latest cases are about (their ids are
// in the queue, which lists them all).
func causeText(lead store.Case, card store.CauseCard, now time.Time) string {
	var b strings.Builder
	kinds := kindsOf(lead.NotDone)
	why := lead.Reason
	if n := len(card.Latest); n > 0 {
		why = card.Latest[n-1].Reason
	}
	why = strings.TrimPrefix(why, "action failed: ")
	if len(kinds) == 1 {
		why = strings.TrimPrefix(why, kinds[0]+": ") // said first
	}
	fmt.Fprintf(&b, "%s failed %d times here since %s UTC, for one cause: %s. Each message keeps its case, open in /queue. ",
		strings.Join(kinds, ", "), card.N, card.Since.UTC().Format("15:04"), why)
	switch _, late := LateOutcome(lead, now); {
	case late && strings.HasSuffix(lead.Cause, PageTokenCause):
		b.WriteString("When Meta takes a page token again (renewed in META_PAGE_TOKEN_FILE, then /reload), vigie carries them out itself, each case decided by vigie, unless you decided it first; these buttons act on this message alone.")
	case late:
		b.WriteString("When the limit ends, vigie carries them out itself, each case decided by vigie, unless you decided it first; these buttons act on this message alone.")
	case strings.HasSuffix(lead.Cause, LongLimitCause):
		b.WriteString("When the limit ends, vigie does not carry these out itself (late, a timeout, a warning or an answer over an hour old would come out of its moment): a CM decides each from /queue; these buttons act on this message alone.")
	default:
		b.WriteString("Once vigie may act again, decide them there; these buttons act on this message alone.")
	}
	// Who the cases are about, last: the members' names, each on one line
	// and cut (bot.Shown), can only push one another off a card, not what
	// the buttons do.
	b.WriteString(" The cases: ")
	for i := len(card.Latest) - 1; i >= 0; i-- {
		b.WriteString(bot.Shown(card.Latest[i].Name, causeNameShown))
		b.WriteString(", ")
	}
	if n := card.N - 1 - len(card.Latest); n > 0 {
		fmt.Fprintf(&b, "%d more, ", n)
	}
	b.WriteString("this one.")
	return b.String()
}

// causeNameShown is how many characters of a member's name a cause's card
// shows.
const causeNameShown = 24

// causeOthers is what the card of c, decided, says of the other cases its
// cause's card counted: its decision shows in place of the count, and they
// are still to decide, or, decided by vigie once their cause ended
// (LateDecider), that vigie carries them out too. "" when c's card counts no other. The card is
// closed: the cause's next case posts a new one.
func (m *Moderator) causeOthers(ctx context.Context, c store.Case) string {
	if c.Cause == "" || c.Status != store.CaseDecided {
		return ""
	}
	var card store.CauseCard
	var ok bool
	if m.causeStep(ctx, func(ctx context.Context, k store.CauseKeeper) (err error) {
		card, ok, err = k.CloseCause(ctx, causeScope(c), c.ID)
		return err
	}) != nil || !ok || card.N < 2 {
		return ""
	}
	others := "case"
	if card.N > 2 {
		others = "cases"
	}
	if c.DecidedBy == LateDecider {
		// vigie goes on through them, in the order the messages came:
		// a count of cases to decide would be out of date at once.
		return fmt.Sprintf("vigie carries out the %d other %s of this card's cause (%s failed) too, those still right late; the rest wait in /queue.",
			card.N-1, others, strings.Join(kindsOf(c.NotDone), ", "))
	}
	return fmt.Sprintf("Still open for this card's cause (%s failed): %d other %s, to decide from /queue.",
		strings.Join(kindsOf(c.NotDone), ", "), card.N-1, others)
}

func kindsOf(as []bot.Action) []string {
	kinds := make([]string, 0, len(as))
	for _, a := range as {
		kinds = append(kinds, string(a.Kind))
	}
	return kinds
}
