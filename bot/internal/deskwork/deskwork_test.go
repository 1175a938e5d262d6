package deskwork

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestWorkOutlivesTheCancellationOfItsCaller(t *testing.T) {
	p := New(2, time.Hour)
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
	p := New(1, time.Hour)
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
	p := New(1, time.Hour)
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
