package handlers

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// A message's case follows its edits while it is open: the store keeps, for
// each message a case was opened for (its own case, not one it joined), the
// case's id; an edit of the message, judged again, finds it there, and
// rather than be withheld (its rule sent the message already) or open a
// second card (another rule matches the edit), it is shown on the case's
// cards, with every reason the rules found in it: the CM decides on what
// the message says now, on one card.

// messageCase is the store's record of the cases opened for messages, and
// the name of ev's message there; "" when the store keeps none, or the
// platform does not name its messages (as saidKey).
func (m *Moderator) messageCase(p bot.Platform, ev bot.Event) (store.MessageCases, string) {
	mc, ok := m.store.(store.MessageCases)
	if !ok {
		return nil, ""
	}
	msg := messageOf(p, ev)
	if msg == "" {
		return nil, ""
	}
	return mc, ev.Platform + "|" + ev.Space + "|" + msg
}

// keepMessageCase keeps that the case id was opened for ev's message, for
// its edits to find (openCaseOf), when it was opened before its verdict's
// actions ended (earlyCase): one store call. A case opened after them
// names its message to the store (store.Case.Message), which keeps it in
// the same call as the case.
func (m *Moderator) keepMessageCase(ctx context.Context, p bot.Platform, ev bot.Event, id string) {
	mc, msg := m.messageCase(p, ev)
	if msg == "" || id == "" {
		return
	}
	sctx, cancel := m.storeContext(ctx)
	err := mc.KeepCaseOfMessage(sctx, msg, id, m.now())
	cancel()
	if err != nil {
		m.ClaimFailed(ClaimCased, ev.Key(), err)
	}
}

// openCaseOf returns the open case opened for the message ev edits, and
// whether there is one: its case's own message, not a hit it joined. A
// store that does not answer leaves the edit to be judged as before (its
// forwards withheld, or a case of their own).
func (m *Moderator) openCaseOf(ctx context.Context, p bot.Platform, ev bot.Event) (store.Case, bool) {
	if ev.Kind != bot.KindEdit {
		return store.Case{}, false
	}
	return m.openCaseOfMessage(ctx, p, ev)
}

// openCaseOfMessage is openCaseOf for any event that names the message.
func (m *Moderator) openCaseOfMessage(ctx context.Context, p bot.Platform, ev bot.Event) (store.Case, bool) {
	mc, msg := m.messageCase(p, ev)
	if msg == "" {
		return store.Case{}, false
	}
	sctx, cancel := m.storeContext(ctx)
	defer cancel()
	id, err := mc.CaseOfMessage(sctx, msg)
	if err != nil {
		// The outage is told by the claims the edit makes next (said,
		// cased), which it is judged with as before.
		m.log.Debug("the store did not say whether the edited message's case is open", "event", ev.Key(), "err", err)
		return store.Case{}, false
	}
	if id == "" {
		return store.Case{}, false
	}
	c, err := m.store.Case(sctx, id)
	if err != nil {
		// forgotten, or the store does not answer
		return store.Case{}, false
	}
	if c.Status != store.CaseOpen || c.Outcome != "" || c.Event.Platform != ev.Platform || messageOf(p, c.Event) != messageOf(p, ev) {
		return store.Case{}, false
	}
	return c, true
}

// showEdit shows the edit ev of the message of the open case c on its
// cards: what it says now, and what the rules found in it for the CMs (vc:
// the rules that sent it to the desk, the actions held or failed), whose
// suggestions join the case's; done are the edit's actions carried out,
// which are no longer not done on the message. It edits the case's cards
// on every desk, in place: no second card, no hit more.
func (m *Moderator) showEdit(ctx context.Context, c store.Case, ev bot.Event, vc *verdictCase, forwarded []string, done []bot.Action) error {
	ed := &bot.Edited{At: m.now(), Text: ev.Content(), Reason: vc.reasons(), Edits: 1, Rules: slices.Clone(forwarded)}
	if c.Edited != nil {
		ed.Edits = c.Edited.Edits + 1
	}
	suggested := slices.Clone(c.Suggested)
	for _, a := range vc.suggested {
		if !slices.Contains(suggested, a) {
			suggested = append(suggested, a)
		}
	}
	var notDone []bot.Action
	for _, a := range c.NotDone {
		// what the edit's verdict did to the message is done now
		if !slices.ContainsFunc(done, func(d bot.Action) bool { return d.Kind == a.Kind }) {
			notDone = append(notDone, a)
		}
	}
	for _, a := range vc.notDone {
		if !slices.Contains(notDone, a) {
			notDone = append(notDone, a)
		}
	}
	a := store.CaseAmendment{Reason: c.Reason, Suggested: suggested, NotDone: notDone, Edited: ed}
	sctx, cancel := m.storeContext(ctx)
	err := m.store.AmendCase(sctx, c.ID, a)
	cancel()
	if err != nil {
		return fmt.Errorf("case %s not shown the edit %s: %w", c.ID, ev.Key(), err)
	}
	m.log.Info("case shows its message's edit", "case", c.ID, "event", ev.Key(), "edits", ed.Edits, "reason", ed.Reason)
	m.ShowDecision(ctx, c.Amend(a), "")
	return nil
}

// editable reports whether c's message may be edited while it is open, and
// shown so on its cards (showEdit): its platform names its messages, and
// the store keeps the calls where its edits find it. A card posted of such
// a case is read again once recorded, in case an edit came meanwhile.
func (m *Moderator) editable(c store.Case) bool {
	_, msg := m.messageCase(m.platforms[c.Event.Platform], c.Event)
	return msg != ""
}

// MessageDeleted shows on the cards of the open case of the message msg
// names (its own case, as for an edit) that the message was deleted at at:
// the CM reads that it is gone, and that a Delete has nothing left to do
// (a delete of what is gone counts as done). A message without an open case
// is nothing to the desk, nor one its case says vigie deleted.
func (m *Moderator) MessageDeleted(ctx context.Context, msg bot.Event, at time.Time) {
	c, ok := m.openCaseOfMessage(ctx, m.platforms[msg.Platform], msg)
	if !ok {
		return
	}
	ed := editedOf(c)
	if !ed.Deleted.IsZero() {
		return // told already
	}
	isDelete := func(a bot.Action) bool { return a.Kind == bot.ActDelete }
	if c.CarriedOut(bot.ActDelete) || slices.ContainsFunc(c.Trying, isDelete) {
		// vigie's own delete, which the card says already (done, or
		// being tried): one card edit less for each case of a scam
		return
	}
	ed.Deleted = at
	m.showOnCards(ctx, c, msg, ed, "deleted")
}

// editedOf is a copy of what case c's cards say of its message since the
// case opened, to amend.
func editedOf(c store.Case) *bot.Edited {
	ed := &bot.Edited{}
	if c.Edited != nil {
		*ed = *c.Edited
		ed.Rules = slices.Clone(ed.Rules)
	}
	return ed
}

// showOnCards amends the open case c with ed, what became of its message
// msg (what: "deleted", "shown again"), and shows it on its cards.
func (m *Moderator) showOnCards(ctx context.Context, c store.Case, msg bot.Event, ed *bot.Edited, what string) {
	a := store.CaseAmendment{Reason: c.Reason, Suggested: c.Suggested, NotDone: c.NotDone, Edited: ed}
	sctx, cancel := m.storeContext(ctx)
	err := m.store.AmendCase(sctx, c.ID, a)
	cancel()
	if err != nil {
		m.log.Warn("a case's cards do not say its message was "+what+": the case was not amended", "case", c.ID, "message", msg.Key(), "err", err)
		return
	}
	m.log.Info("case shows its message "+what, "case", c.ID, "message", msg.Key())
	m.ShowDecision(ctx, c.Amend(a), "")
}

// MessageUnhidden shows on the cards of the open case of the message msg
// names that the message, hidden, was shown again at at, by hand in the
// platform's tools (a CM, or the platform itself): the CM reads that
// everyone sees it again, rather than a card saying it is hidden. vigie's
// own Unhide is a CM's decision, which leaves no case open to show it on.
// A message deleted is not shown again.
func (m *Moderator) MessageUnhidden(ctx context.Context, msg bot.Event, at time.Time) {
	c, ok := m.openCaseOfMessage(ctx, m.platforms[msg.Platform], msg)
	if !ok {
		return
	}
	ed := editedOf(c)
	if !ed.Deleted.IsZero() || !at.After(ed.Unhidden) {
		return // gone, or told already
	}
	ed.Unhidden = at
	m.showOnCards(ctx, c, msg, ed, "shown again")
}

// MessageHidden shows on the cards of the open case of the message msg
// names, when they say it was shown again before at, that it is hidden
// again (by a CM in the platform's tools, or the platform): the cards no
// longer say it is seen. A hide of a message its cards do not say shown
// again (vigie's own, most often) changes nothing on them.
func (m *Moderator) MessageHidden(ctx context.Context, msg bot.Event, at time.Time) {
	c, ok := m.openCaseOfMessage(ctx, m.platforms[msg.Platform], msg)
	if !ok || c.Edited == nil || c.Edited.Unhidden.IsZero() || !at.After(c.Edited.Unhidden) {
		return
	}
	ed := editedOf(c)
	ed.Unhidden = time.Time{}
	m.showOnCards(ctx, c, msg, ed, "hidden again")
}

// removedMeanwhile shows on the cards of ev's own open case that its
// message was removed, when the platform said so before the case was open
// (bot.RemovalKeeper): Meta sends a comment and its removal by its author
// in one delivery, and the removal, told at once, finds no case to show.
func (m *Moderator) removedMeanwhile(ctx context.Context, p bot.Platform, ev bot.Event) {
	r, ok := p.(bot.RemovalKeeper)
	if !ok {
		return
	}
	if at, removed := r.RemovedAt(ctx, ev); removed {
		m.MessageDeleted(ctx, ev, at)
	}
}
