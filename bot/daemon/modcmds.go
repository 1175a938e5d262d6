package daemon

import (
	"context"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskcases"
	"github.com/vigie-bot/vigie/store"
)

var _ bot.Moderation = (*deskCommands)(nil)

// Moderate carries out a moderator's command given in a group or a guild.
func (t *deskCommands) Moderate(ctx context.Context, r bot.ModRequest) (string, error) {
	return t.c.Moderate(ctx, r)
}

// card is c as a desk shows it, with the moderators' notes on its author.
func (t *deskCommands) card(ctx context.Context, c store.Case) bot.Card {
	card := deskcases.Card(c)
	if t == nil || t.c == nil {
		return card
	}
	return deskcases.WithNotes(card, t.c.NotesOn(ctx, c.Event))
}
