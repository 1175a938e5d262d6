package daemon

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskcases"
	"github.com/vigie-bot/vigie/store"
)

var _ bot.Moderation = (*deskCommands)(nil)

// Moderate carries out a moderator's command given in a group or a guild.
func (t *deskCommands) Moderate(ctx context.Context, r bot.ModRequest) (string, error) {
	return t.c.Moderate(ctx, r)
}

var _ bot.UnbanWatcher = (*deskCommands)(nil)

var (
	_ bot.DeleteWatcher = (*deskCommands)(nil)
	_ bot.HideWatcher   = (*deskCommands)(nil)
)

// MessageHidden tells the handlers of a message hidden on its platform.
func (t *deskCommands) MessageHidden(ctx context.Context, msg bot.Event, at time.Time) {
	if t.c != nil {
		t.c.MessageHidden(ctx, msg, at)
	}
}

// MessageUnhidden tells the handlers of a message shown again by hand on
// its platform.
func (t *deskCommands) MessageUnhidden(ctx context.Context, msg bot.Event, at time.Time) {
	if t.c != nil {
		t.c.MessageUnhidden(ctx, msg, at)
	}
}

// MessageDeleted tells the handlers of a message deleted on its platform.
func (t *deskCommands) MessageDeleted(ctx context.Context, msg bot.Event, at time.Time) {
	if t.c != nil {
		t.c.MessageDeleted(ctx, msg, at)
	}
}

// Unbanned learns an unban a platform saw (a moderator's in the platform's
// own app), for the ban's end kept to be forgotten.
func (t *deskCommands) Unbanned(ctx context.Context, member bot.Event, at time.Time, by string) {
	if t.c != nil {
		t.c.Unbanned(ctx, member, at, by)
	}
}

// card is c as a desk shows it, with the moderators' notes on its author.
func (t *deskCommands) card(ctx context.Context, c store.Case) bot.Card {
	card := deskcases.Offering(c, t.offers())
	if t == nil || t.c == nil {
		return card
	}
	return deskcases.WithNotes(card, t.c.NotesOn(ctx, c.Event))
}

// offers is what the cards offer: what the case's platform can do to its
// message; nil before the handlers exist.
func (t *deskCommands) offers() deskcases.Offers {
	if t == nil || t.c == nil {
		return nil
	}
	return t.c.OutcomesFor
}
