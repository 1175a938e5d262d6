package meta_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/meta"
)

// vigie stops while the desk does not answer an alert (the page token
// refused, told as Run starts): the alert is given up within the drain's
// time, as the rest of the stop is bounded, not after its own 30 seconds.
func TestAlertToASilentDeskEndsWithTheStop(t *testing.T) {
	g := newFakeGraph(t)
	g.expire(true)
	c := meta.New(meta.Config{AppSecret: appSecret, VerifyToken: verifyToken, PageToken: g.token, GraphURL: g.URL(),
		TokenCheckEvery: time.Hour, DrainTimeout: 10 * time.Millisecond, Logger: testsync.Logger(&testsync.Buffer{}),
		Now: func() time.Time { return fixedNow }})
	sending := make(chan struct{})
	ended := make(chan error, 1)
	c.AlertWith(func(ctx context.Context, _ string) error {
		close(sending)
		<-ctx.Done()
		ended <- ctx.Err()
		return ctx.Err()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, make(chan bot.Event)) }()
	select {
	case <-sending:
	case <-time.After(testsync.Patience):
		t.Fatal("no alert of the refused token")
	}
	cancel()
	if err := <-ended; !errors.Is(err, context.Canceled) {
		t.Errorf("the alert ended with %v, want canceled by the stop", err)
	}
	<-done
}
