// Package deskcases shows the store's cases on the desks: bot.Card from
// store.Case, and the store's answers to a decision in the desks' vocabulary.
package deskcases

import (
	"errors"
	"fmt"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Card is c as a desk shows it. A case that groups several hits says how
// many more in its reason (store.Case.GroupedText), which every desk shows
// as it is.
func Card(c store.Case) bot.Card {
	reason := c.Reason
	if more := c.GroupedText(); more != "" {
		reason = fmt.Sprintf("%s (%s)", reason, more)
	}
	return bot.Card{
		ID: c.ID, Opened: c.Opened, Event: c.Event, Rule: c.Rule, Category: c.Category,
		Reason: reason, Suggested: c.Suggested, NotDone: c.NotDone, Trying: c.Trying, Outcome: c.Outcome,
		DecidedBy: c.DecidedBy, DeciderName: c.DeciderName, DecidedAt: c.DecidedAt, Unverified: c.Unverified, Community: c.Community,
		Edited: c.Edited,
	}
}

// Offers says what may be decided on a case of an event, keep first: the
// handlers' OutcomesFor. The cards offer those buttons only.
type Offers func(bot.Event) []bot.ActionKind

// Offering is Card(c) offering what offers says of its event; a nil offers
// says nothing (every button).
func Offering(c store.Case, offers Offers) bot.Card {
	card := Card(c)
	if offers != nil {
		card.Offers = offers(c.Event)
	}
	return card
}

// Cards are the cards of cases, as a desk's Queue returns them with err, each
// offering what offers says.
func Cards(cases []store.Case, err error, offers Offers) ([]bot.Card, error) {
	if err != nil {
		return nil, err
	}
	cards := make([]bot.Card, len(cases))
	for i, c := range cases {
		cards[i] = Offering(c, offers)
	}
	return cards, nil
}

// Decided is the answer of a desk's Decide from the case the store decided and
// its error, offering what offers says: a case decided before wraps
// bot.ErrDecided too, which the desks read.
func Decided(c store.Case, err error, offers Offers) (bot.Card, error) {
	if errors.Is(err, store.ErrDecided) {
		err = fmt.Errorf("%w: %w", bot.ErrDecided, err)
	}
	return Offering(c, offers), err
}

// WithNotes is card with the moderators' notes on its author, as the desks
// show them under the case.
func WithNotes(card bot.Card, notes []store.Note) bot.Card {
	for _, n := range notes {
		card.Notes = append(card.Notes, fmt.Sprintf("%s, %s: %s", n.By, n.At.UTC().Format("2006-01-02"), n.Text))
	}
	return card
}
