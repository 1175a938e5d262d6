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

// causeNamed bounds the cases named on a cause's card, the latest.
const causeNamed = 10

// causeCards are the cards of the causes, by Case.Cause.
type causeCards struct {
	mu sync.Mutex
	by map[string]*causeCard
}

// causeCard is the card that shows the cases of one cause.
type causeCard struct {
	// lead is the case whose card it is.
	lead   store.Case
	posted time.Time
	// n counts the cases shown, lead included; shown is n as the card
	// last showed it.
	n, shown int
	// latest are the latest cases joined after the lead, oldest first.
	latest []store.Case
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

// grouped reports whether c, about to be posted, is to join its cause's
// card rather than have one of its own: the card was posted within
// causeWindow and its case is still open. A desk that cannot edit its
// cards shows each case.
func (m *Moderator) grouped(ctx context.Context, c store.Case) bool {
	if c.Cause == "" || c.Priority == PriorityHigh || c.Status != store.CaseOpen {
		return false
	}
	if _, ok := m.desk.(CardEditor); !ok {
		return false
	}
	cc := &m.causeCards
	cc.mu.Lock()
	card := cc.by[causeScope(c)]
	if card == nil || m.now().Sub(card.posted) >= causeWindow {
		cc.mu.Unlock()
		return false
	}
	if card.lead.ID == c.ID {
		cc.mu.Unlock()
		return true // posted, not acknowledged: counted already
	}
	leadID := card.lead.ID
	cc.mu.Unlock()
	sctx, cancel := m.storeContext(ctx)
	lead, err := m.store.Case(sctx, leadID)
	cancel()
	if err != nil || lead.Status != store.CaseOpen {
		// Decided: its card shows that decision now, not the others.
		return false
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.by[causeScope(c)] != card {
		return false
	}
	card.n++
	card.latest = append(card.latest, c)
	if len(card.latest) > causeNamed {
		card.latest = slices.Delete(card.latest, 0, len(card.latest)-causeNamed)
	}
	return true
}

// causeScope is the key of c's cause card: its cause, on its desk.
func causeScope(c store.Case) string { return c.Community + "\x00" + c.Cause }

// posted records that c's card was posted: the first of its cause, whose
// card the next ones join.
func (m *Moderator) causePosted(c store.Case) {
	if c.Cause == "" || c.Priority == PriorityHigh {
		return
	}
	if _, ok := m.desk.(CardEditor); !ok {
		return
	}
	cc := &m.causeCards
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if cc.by == nil {
		cc.by = map[string]*causeCard{}
	}
	now := m.now()
	for k, card := range cc.by {
		if now.Sub(card.posted) >= causeWindow {
			delete(cc.by, k)
		}
	}
	cc.by[causeScope(c)] = &causeCard{lead: c, posted: now, n: 1, shown: 1}
}

// showCauses edits the cause cards that were joined since they last showed
// their count: once a round of FlushCases, not once a case.
func (m *Moderator) showCauses(ctx context.Context) {
	cc := &m.causeCards
	cc.mu.Lock()
	var due []causeCard
	for _, card := range cc.by {
		if card.n != card.shown {
			card.shown = card.n
			due = append(due, causeCard{lead: card.lead, posted: card.posted, n: card.n, latest: slices.Clone(card.latest)})
		}
	}
	cc.mu.Unlock()
	for _, card := range due {
		sctx, cancel := m.storeContext(ctx)
		lead, err := m.store.Case(sctx, card.lead.ID)
		var refs []bot.CardRef
		if err == nil {
			refs, err = m.store.CaseCards(sctx, card.lead.ID)
		}
		cancel()
		if err != nil {
			m.log.Warn("a cause's card does not show its count: its case was not read", "case", card.lead.ID, "err", err)
			continue
		}
		if lead.Status != store.CaseOpen {
			continue // its card shows the decision
		}
		lead.Reason = card.text()
		for _, ref := range refs {
			m.editCard(ctx, ref, lead, "")
		}
		m.log.Info("a cause's card counts its cases", "case", lead.ID, "cases", card.n, "cause", lead.Cause)
	}
}

// text is what the card of the cause says: how many actions failed for it
// and since when, why, and who the latest cases are about (their ids are
// in the queue, which lists them all).
func (card causeCard) text() string {
	var b strings.Builder
	kinds := kindsOf(card.lead.NotDone)
	why := card.lead.Reason
	if n := len(card.latest); n > 0 {
		why = card.latest[n-1].Reason
	}
	why = strings.TrimPrefix(why, "action failed: ")
	if len(kinds) == 1 {
		why = strings.TrimPrefix(why, kinds[0]+": ") // said first
	}
	fmt.Fprintf(&b, "%s failed %d times here since %s UTC, for one cause: %s. Each message keeps its case, open in /queue: ",
		strings.Join(kinds, ", "), card.n, card.posted.UTC().Format("15:04"), why)
	for i := len(card.latest) - 1; i >= 0; i-- {
		c := card.latest[i].Event.Author
		name := c.Name
		if name == "" {
			name = c.ID
		}
		b.WriteString(name)
		b.WriteString(", ")
	}
	if n := card.n - 1 - len(card.latest); n > 0 {
		fmt.Fprintf(&b, "%d more, ", n)
	}
	b.WriteString("this one. Once vigie may act again, decide them there; these buttons act on this message alone.")
	return b.String()
}

// causeOthers is what the card of c, decided, says of the other cases its
// cause's card counted: its decision shows in place of the count, and they
// are still to decide. "" when c's card counts no other.
func (m *Moderator) causeOthers(c store.Case) string {
	if c.Cause == "" || c.Status != store.CaseDecided {
		return ""
	}
	cc := &m.causeCards
	cc.mu.Lock()
	defer cc.mu.Unlock()
	card := cc.by[causeScope(c)]
	if card == nil || card.lead.ID != c.ID || card.n < 2 {
		return ""
	}
	others := "case"
	if card.n > 2 {
		others = "cases"
	}
	return fmt.Sprintf("Still open for this card's cause (%s failed): %d other %s, to decide from /queue.",
		strings.Join(kindsOf(card.lead.NotDone), ", "), card.n-1, others)
}

func kindsOf(as []bot.Action) []string {
	kinds := make([]string, 0, len(as))
	for _, a := range as {
		kinds = append(kinds, string(a.Kind))
	}
	return kinds
}
