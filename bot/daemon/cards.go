package daemon

import (
	"context"
	"fmt"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskcases"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// A decision shows on every card of its case: the process that records it
// reads from the store where the cards are and edits them through these,
// whichever process posted them (handlers.Moderator.ShowDecision).
var (
	_ handlers.CardEditor = (*deskFanout)(nil)
	_ handlers.CardEditor = (*watchedDesk)(nil)
	_ handlers.CardEditor = (*platformDesk)(nil)
	_ bot.CardBook        = (*deskCommands)(nil)
)

// EditCard edits the card on the desk of its platform.
func (ds *deskFanout) EditCard(ctx context.Context, ref bot.CardRef, c store.Case, note string) error {
	for _, d := range ds.desks {
		if d.name != ref.Platform {
			continue
		}
		if ed, ok := d.Desk.(handlers.CardEditor); ok {
			return ed.EditCard(ctx, ref, c, note)
		}
	}
	return fmt.Errorf("%w: %s cards cannot be edited here", handlers.ErrNoDesk, ref.Platform)
}

// EditCard edits a card, and counts the answer for /-/ready as a post does.
func (w *watchedDesk) EditCard(ctx context.Context, ref bot.CardRef, c store.Case, note string) error {
	ed, ok := w.desk.(handlers.CardEditor)
	if !ok {
		return fmt.Errorf("%w: desk %s cannot edit cards", handlers.ErrNoDesk, w.name)
	}
	err := ed.EditCard(ctx, ref, c, note)
	w.record(ctx, err)
	return err
}

// EditCard edits a card the platform's desk posted, also while the rule file
// names no desk there any more: the card is still where it was.
func (t *platformDesk) EditCard(ctx context.Context, ref bot.CardRef, c store.Case, note string) error {
	ed, ok := t.d.(bot.CardEditor)
	if !ok {
		return fmt.Errorf("%w: this desk cannot edit cards", handlers.ErrNoDesk)
	}
	return ed.EditCard(ctx, ref, t.named(ctx, deskcases.Offering(c, t.cmds.offers())), note)
}

// AddCard records where a desk posted a case's card, in the store.
func (t *deskCommands) AddCard(ctx context.Context, caseID string, ref bot.CardRef) error {
	return t.c.AddCard(ctx, caseID, ref)
}
