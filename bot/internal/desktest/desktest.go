// Package desktest wires a platform's desk to the handlers the way the daemon
// does, for the platforms' acceptance tests, with short command answers that
// the tests can pin.
package desktest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/deskcases"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Poster is a platform's desk: where cards and alerts go.
type Poster interface {
	PostCard(ctx context.Context, card bot.Card) error
	Alert(ctx context.Context, text string) error
}

// Desk is the handlers' desk on top of a platform's desk. Its cards offer
// what the handlers of Cmds say, as the daemon's do; without Cmds (or its
// Mod), every button.
type Desk struct {
	Poster
	Cmds *Commands
}

// offers is what the cards offer, as the daemon's desks ask the handlers.
func (d Desk) offers() deskcases.Offers { return d.Cmds.offers() }

func (m *Commands) offers() deskcases.Offers {
	if m == nil || m.Mod == nil {
		return nil
	}
	return m.Mod.OutcomesFor
}

var (
	_ handlers.Desk       = Desk{}
	_ handlers.CardEditor = Desk{}
)

// PostCase posts c as a card.
func (d Desk) PostCase(ctx context.Context, c store.Case) error {
	return d.PostCard(ctx, deskcases.Offering(c, d.offers()))
}

// EditCard edits a card the platform's desk posted.
func (d Desk) EditCard(ctx context.Context, ref bot.CardRef, c store.Case, note string) error {
	ed, ok := d.Poster.(bot.CardEditor)
	if !ok {
		return fmt.Errorf("%w: this desk cannot edit cards", handlers.ErrNoDesk)
	}
	return ed.EditCard(ctx, ref, deskcases.Offering(c, d.offers()), note)
}

// Commands answers the desk from the handlers and the store. The desk needs the
// commands, which need the handlers, which need the desk: Mod is set once the
// handlers exist.
type Commands struct {
	Mod   *handlers.Moderator
	Store store.Store
}

var (
	_ bot.DeskCommands = (*Commands)(nil)
	_ bot.CardBook     = (*Commands)(nil)
	_ bot.CaseRights   = (*Commands)(nil)
)

// AddCard records where the desk posted a card, in the store; commands
// without handlers record nothing.
func (m *Commands) AddCard(ctx context.Context, caseID string, ref bot.CardRef) error {
	if m.Mod == nil {
		return errors.New("desktest: no handlers to record the card")
	}
	return m.Mod.AddCard(ctx, caseID, ref)
}

func (m *Commands) Decide(ctx context.Context, d bot.Decision) (bot.Card, error) {
	c, err := m.Mod.Decide(ctx, d.CaseID, d.String(), d.By)
	return deskcases.Decided(c, err, m.offers())
}

// MayDecide is the handlers' answer; see handlers.Moderator.MayDecide.
func (m *Commands) MayDecide(ctx context.Context, caseID, by string) error {
	return m.Mod.MayDecide(ctx, caseID, by)
}

// Queue is the handlers' queue: a community's CM sees their communities' cases.
func (m *Commands) Queue(ctx context.Context, by string) ([]bot.Card, error) {
	cs, err := handlers.NewCommands(m.Mod, handlers.CommandsOptions{}).Queue(ctx, by)
	return deskcases.Cards(cs, err, m.offers())
}

// Status says "mode: enforce, open cases: 2", or "mode: paused, …", the open
// cases counted as Queue lists them.
func (m *Commands) Status(ctx context.Context, by string) (string, error) {
	cs, err := m.Queue(ctx, by)
	if err != nil {
		return "", err
	}
	mode := "enforce"
	if paused, _ := m.Mod.Paused(); paused {
		mode = "paused"
	}
	return fmt.Sprintf("mode: %s, open cases: %d", mode, len(cs)), nil
}

// Pause says "paused by discord:123", the pause dated on the moderator's
// clock.
func (m *Commands) Pause(_ context.Context, d time.Duration, by string) (string, error) {
	var until time.Time
	if d > 0 {
		until = m.Mod.Now().Add(d)
	}
	m.Mod.Pause(until)
	return "paused by " + by, nil
}

// Resume says "resumed by discord:123".
func (m *Commands) Resume(_ context.Context, by string) (string, error) {
	m.Mod.Resume()
	return "resumed by " + by, nil
}

// Serve runs the daemon's two loops until the test ends: each event sent on the
// returned channel is evaluated and its verdict carried out, and the cases reach
// the desk once the store hands them over.
func Serve(t testing.TB, engine *rules.Engine, mod *handlers.Moderator) chan bot.Event {
	out := make(chan bot.Event)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = mod.DeliverCases(ctx) })
	wg.Go(func() {
		for {
			select {
			case ev := <-out:
				v, err := engine.Evaluate(ctx, ev)
				if err != nil {
					t.Errorf("evaluate %s: %v", ev.ID, err)
					continue
				}
				if err := mod.Handle(ctx, ev, v); err != nil {
					t.Errorf("handle %s: %v", ev.ID, err)
				}
			case <-ctx.Done():
				return
			}
		}
	})
	t.Cleanup(func() { cancel(); wg.Wait() })
	return out
}

var _ bot.Moderation = (*Commands)(nil)

var _ bot.UnbanWatcher = (*Commands)(nil)

var (
	_ bot.DeleteWatcher = (*Commands)(nil)
	_ bot.HideWatcher   = (*Commands)(nil)
)

// MessageHidden tells the handlers of a message hidden on its platform.
func (m *Commands) MessageHidden(ctx context.Context, msg bot.Event, at time.Time) {
	if m.Mod != nil {
		m.Mod.MessageHidden(ctx, msg, at)
	}
}

// MessageUnhidden tells the handlers of a message shown again by hand on
// its platform.
func (m *Commands) MessageUnhidden(ctx context.Context, msg bot.Event, at time.Time) {
	if m.Mod != nil {
		m.Mod.MessageUnhidden(ctx, msg, at)
	}
}

// MessageDeleted tells the handlers of a message deleted on its platform.
func (m *Commands) MessageDeleted(ctx context.Context, msg bot.Event, at time.Time) {
	if m.Mod != nil {
		m.Mod.MessageDeleted(ctx, msg, at)
	}
}

// Unbanned tells the handlers of an unban the platform saw.
func (m *Commands) Unbanned(ctx context.Context, member bot.Event, at time.Time, by string) {
	if m.Mod != nil {
		m.Mod.Unbanned(ctx, member, at, by)
	}
}

// Moderate carries out a moderator's command with the handlers.
func (m *Commands) Moderate(ctx context.Context, r bot.ModRequest) (string, error) {
	return m.Mod.Moderate(ctx, r)
}

// OpenCarded opens c on st, has mod post its card at once, and returns the
// case and the id of its one card's message, as read reads it: the store of
// another process sharing st's data, or st itself.
func OpenCarded(t testing.TB, st store.Store, mod *handlers.Moderator, read store.Store, c store.Case) (store.Case, string) {
	t.Helper()
	ctx := context.Background()
	c, err := st.OpenCase(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	mod.FlushCases(ctx)
	cards, err := read.CaseCards(ctx, c.ID)
	if err != nil || len(cards) != 1 {
		t.Fatalf("cards of %s = %v, %v", c.ID, cards, err)
	}
	return c, cards[0].Message
}
