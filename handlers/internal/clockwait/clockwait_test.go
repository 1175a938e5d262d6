package clockwait_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/handlers/internal/clockwait"
)

// Sleep wakes when its clock has moved its time on, not before; a context
// that ends wakes it at once, saying so, with its timer stopped.
func TestSleep(t *testing.T) {
	clk := stepclock.New(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	set := func() {
		for clk.Pending() == 0 {
			runtime.Gosched()
		}
	}
	woke := make(chan bool)
	go func() { woke <- clockwait.Sleep(context.Background(), clk.AfterFunc, time.Minute) }()
	set()
	clk.Step(59 * time.Second)
	if clk.Pending() != 1 {
		t.Fatal("the timer fired before its time")
	}
	clk.Step(time.Second)
	if !<-woke {
		t.Error("Sleep once its time passed = false, want true")
	}

	ctx, cancel := context.WithCancel(context.Background())
	go func() { woke <- clockwait.Sleep(ctx, clk.AfterFunc, time.Minute) }()
	set()
	cancel()
	if <-woke {
		t.Error("Sleep with its context ended = true, want false")
	}
	if n := clk.Pending(); n != 0 {
		t.Errorf("timers left set = %d, want none", n)
	}
}
