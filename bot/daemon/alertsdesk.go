package daemon

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/alert"
)

// The crisis alerts follow the events in order on the observer's goroutine
// (observer.go), and a wave raised there is told to the desk there: a page
// that waits for Telegram's limits (up to two minutes, behind the cases'
// cards) or for a Bot API that does not answer (the client's 30 s) held the
// observer, its queue filled, and then every event judged waited behind the
// page: a long run under load saw every POST /v1/events hang, and the
// connections their callers gave up pile up. alertsDesk gives a message sent
// from the observer the time the observer can spare: it is cut once the
// events waiting fill half the queue, and the alerts' loop tries it again,
// off the events' path (alert.Alerter.Run). A page cut after Telegram took it
// may be sent twice; an alert twice is better than moderation held up.

// onObserver marks the context of the observer's calls (daemon.observerCtx).
type onObserver struct{}

// errEventsWaiting is the cause of a desk call cut for the events waiting.
var errEventsWaiting = errors.New("events waiting behind the alert")

// crowdedPoll is how often a desk call from the observer looks at its queue.
const crowdedPoll = 10 * time.Millisecond

// alertsDesk is the crisis alerts' desk: the desks' fan-out, with the calls
// from the observer cut when events wait for it.
type alertsDesk struct {
	desk    handlers.Desk
	crowded func() bool
}

var (
	_ alert.Pager         = (*alertsDesk)(nil)
	_ alert.CommunityDesk = (*alertsDesk)(nil)
)

// observerCrowded says whether the events waiting for the observer fill half
// its queue; false before serve starts it.
func (d *daemon) observerCrowded() bool { return d.observer != nil && d.observer.crowded() }

func (a *alertsDesk) Alert(ctx context.Context, text string) error {
	return a.spare(ctx, func(ctx context.Context) error { return a.desk.Alert(ctx, text) })
}

func (a *alertsDesk) Page(ctx context.Context, text string) error {
	return a.spare(ctx, func(ctx context.Context) error {
		if p, ok := a.desk.(alert.Pager); ok {
			return p.Page(ctx, text)
		}
		return a.desk.Alert(ctx, text)
	})
}

func (a *alertsDesk) AlertCommunity(ctx context.Context, community, text string) error {
	return a.spare(ctx, func(ctx context.Context) error {
		if cd, ok := a.desk.(alert.CommunityDesk); ok {
			return cd.AlertCommunity(ctx, community, text)
		}
		return a.desk.Alert(ctx, text)
	})
}

// spare runs send, cut when called from the observer and the events waiting
// for it fill half its queue; what was cut is worth another try.
func (a *alertsDesk) spare(ctx context.Context, send func(context.Context) error) error {
	if ctx.Value(onObserver{}) == nil {
		return send(ctx)
	}
	cut := &bot.ActionError{Op: bot.ActAlert, Retryable: true, Err: fmt.Errorf("desk: %w: tried again off their path", errEventsWaiting)}
	if a.crowded() {
		return cut
	}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	defer close(done)
	go func() {
		// On the wall clock: how often a queue is looked at while a call is under way.
		t := time.NewTicker(crowdedPoll)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-sctx.Done():
				return
			case <-t.C:
				if a.crowded() {
					cancel(errEventsWaiting)
					return
				}
			}
		}
	}()
	err := send(sctx)
	if err != nil && errors.Is(context.Cause(sctx), errEventsWaiting) {
		return cut
	}
	return err
}
