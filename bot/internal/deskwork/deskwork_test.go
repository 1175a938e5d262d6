package deskwork

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/guard"
)

func TestWorkOutlivesTheCancellationOfItsCaller(t *testing.T) {
	p := New(2, time.Hour, nil, "test")
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan struct{})
	var err error
	var deadline bool
	p.Go(ctx, func(ctx context.Context) {
		<-cancelled
		err = ctx.Err()
		_, deadline = ctx.Deadline()
	})
	cancel()
	close(cancelled)
	p.Wait()
	if err != nil || !deadline {
		t.Errorf("work's context: err %v, deadline %v; want alive, with the pool's deadline", err, deadline)
	}
}

func TestNoSlotAndAnEndedContextRunNothing(t *testing.T) {
	p := New(1, time.Hour, nil, "test")
	release := make(chan struct{})
	p.Go(context.Background(), func(context.Context) { <-release })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var ran atomic.Bool
	p.Go(ctx, func(context.Context) { ran.Store(true) })
	close(release)
	p.Wait()
	if ran.Load() {
		t.Error("work ran with every slot taken and its context ended")
	}
}

func TestWaitWaitsForAddedWork(t *testing.T) {
	p := New(1, time.Hour, nil, "test")
	p.Add()
	var done atomic.Bool
	go func() {
		defer p.Done()
		done.Store(true)
	}()
	p.Wait()
	if !done.Load() {
		t.Error("Wait returned before the added work was done")
	}
}

func TestPanickingWorkIsRecovered(t *testing.T) {
	p := New(1, time.Hour, guard.New(nil, nil), "desk")
	p.Go(context.Background(), func(context.Context) { panic("a bad card") })
	p.Wait()
	// The slot was given back: the next piece of work runs.
	ran := make(chan struct{})
	p.Go(context.Background(), func(context.Context) { close(ran) })
	p.Wait()
	<-ran
}

func TestBrokenWorkIsTold(t *testing.T) {
	p := New(1, time.Hour, guard.New(nil, nil), "desk")
	var told, toldDone atomic.Int32
	var alive atomic.Bool
	p.GoTelling(context.Background(), func(context.Context) { panic("a bad card") }, func(ctx context.Context) {
		told.Add(1)
		alive.Store(ctx.Err() == nil)
	})
	p.GoTelling(context.Background(), func(context.Context) {}, func(context.Context) { toldDone.Add(1) })
	p.Wait()
	if told.Load() != 1 || !alive.Load() {
		t.Errorf("work that panicked: told %d times (context alive %v), want once with a live context", told.Load(), alive.Load())
	}
	if toldDone.Load() != 0 {
		t.Error("work that finished was told it broke off")
	}
}
