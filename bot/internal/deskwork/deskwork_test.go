package deskwork

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/guard"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
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

// busyPool is a pool of one worker held busy until release is closed.
func busyPool(t *testing.T) (p *Pool, release chan struct{}) {
	t.Helper()
	p = New(1, time.Hour, guard.New(nil, nil), "desk")
	release = make(chan struct{})
	started := make(chan struct{})
	p.Go(context.Background(), func(context.Context) { close(started); <-release })
	<-started
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
		p.Wait()
	})
	return p, release
}

func TestLineNeverWaitsAndIsBounded(t *testing.T) {
	p, release := busyPool(t)
	l := p.Line(2)
	firsts := make(chan string, 3)
	var done sync.WaitGroup
	var ran []string
	var mu sync.Mutex
	for _, name := range []string{"a", "b"} {
		done.Add(1)
		ok := l.Go(context.Background(), Job{
			First: func() bool { firsts <- name; return true },
			Work: func(context.Context) {
				defer done.Done()
				mu.Lock()
				ran = append(ran, name)
				mu.Unlock()
			},
		})
		if !ok {
			t.Fatalf("job %s turned away with a free place", name)
		}
	}
	// Both acknowledged while the worker is busy.
	<-firsts
	<-firsts
	if l.Go(context.Background(), Job{First: func() bool { firsts <- "c"; return true }, Work: func(context.Context) {}}) {
		t.Fatal("a third job taken by a line of two")
	}
	if l.Waiting() != 2 {
		t.Errorf("waiting %d, want 2", l.Waiting())
	}
	close(release)
	done.Wait()
	p.Wait()
	if len(ran) != 2 || len(firsts) != 0 {
		t.Errorf("ran %v, %d more acknowledged; want a and b, and c not at all", ran, len(firsts))
	}
	if l.Waiting() != 0 {
		t.Errorf("%d places still taken once the work is done", l.Waiting())
	}
}

func TestLineGivesThePlaceBackAsWorkStarts(t *testing.T) {
	p := New(1, time.Hour, nil, "desk")
	l := p.Line(1)
	started, release := make(chan int, 1), make(chan struct{})
	l.Go(context.Background(), Job{Work: func(context.Context) { started <- l.Waiting(); <-release }})
	if waiting := <-started; waiting != 0 {
		t.Errorf("the work started with %d places taken, want its own given back", waiting)
	}
	if !l.Go(context.Background(), Job{Work: func(context.Context) {}}) {
		t.Error("no place for the next job while the first one works")
	}
	close(release)
	p.Wait()
}

func TestLineFirstFalseEndsTheJob(t *testing.T) {
	p := New(1, time.Hour, nil, "desk")
	l := p.Line(1)
	var ran atomic.Bool
	l.Go(context.Background(), Job{First: func() bool { return false }, Work: func(context.Context) { ran.Store(true) }})
	p.Wait()
	if ran.Load() || l.Waiting() != 0 {
		t.Errorf("work ran %v, %d places taken; want neither", ran.Load(), l.Waiting())
	}
}

func TestLineDropsWorkWhenItsContextEnds(t *testing.T) {
	p, _ := busyPool(t)
	l := p.Line(1)
	ctx, cancel := context.WithCancel(context.Background())
	dropped := make(chan struct{})
	var ran atomic.Bool
	l.Go(ctx, Job{Work: func(context.Context) { ran.Store(true) }, Dropped: func() { close(dropped) }})
	cancel()
	<-dropped
	testsync.Eventually(t, "the place given back", func() bool { return l.Waiting() == 0 })
	if ran.Load() {
		t.Error("dropped work ran")
	}
}

func TestLinePanicGivesThePlaceBack(t *testing.T) {
	p := New(1, time.Hour, guard.New(nil, nil), "desk")
	l := p.Line(1)
	l.Go(context.Background(), Job{First: func() bool { panic("a bad answer") }, Work: func(context.Context) {}})
	p.Wait()
	if l.Waiting() != 0 {
		t.Errorf("%d places taken after a panic", l.Waiting())
	}
}

func TestTryGoNeverWaits(t *testing.T) {
	p, release := busyPool(t)
	if p.TryGo(context.Background(), func(context.Context) {}) {
		t.Error("TryGo took work with every slot busy")
	}
	close(release)
	p.Wait()
	ran := make(chan struct{})
	if !p.TryGo(context.Background(), func(context.Context) { close(ran) }) {
		t.Fatal("TryGo turned work away with a free slot")
	}
	<-ran
	p.Wait()
}

func TestOverflowCountsAWave(t *testing.T) {
	var o Overflow
	if places, n := o.End("chat"); places != "" || n != 0 {
		t.Errorf("an empty wave ended with %q, %d", places, n)
	}
	for i, place := range []string{"b", "a", "c", "a"} {
		if n := o.Add(place); n != i+1 {
			t.Errorf("Add %d = %d", i, n)
		}
	}
	places, n := o.End("chat")
	if want := "chat a: 2, chat b: 1, chat c: 1"; n != 4 || places != want {
		t.Errorf("wave = %q, %d; want %q, 4", places, n, want)
	}
	if n := o.Add("c"); n != 1 {
		t.Errorf("the next wave begins at %d, want 1", n)
	}
}

// An Unasked wave tells the desk as it begins and, with the counts, once
// the line has drained (not while work still waits in it), and logs its end
// for the audit, or a wave still going on when vigie stops.
func TestUnaskedTellsAWave(t *testing.T) {
	p := New(1, time.Hour, nil, "test")
	line := p.Line(2)
	var logs testsync.Buffer
	var mu sync.Mutex
	var told []string
	u := NewUnasked(line, "chat", "chats", testsync.Logger(&logs), func(_ context.Context, text string) {
		mu.Lock()
		defer mu.Unlock()
		told = append(told, text)
	})
	toldNow := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), told...)
	}

	// The pool's one worker busy: a job waits in line.
	release := make(chan struct{})
	p.Go(context.Background(), func(context.Context) { <-release })
	if !line.Go(context.Background(), Job{Work: func(context.Context) {}}) {
		t.Fatal("no place in an empty line")
	}
	u.Add("42")
	u.Begins(context.Background(), "42")
	u.Add("7")
	u.Add("42")
	testsync.Eventually(t, "the wave's beginning told", func() bool { return len(toldNow()) == 1 })
	if got, want := toldNow()[0], bot.VerifyWaveBegins(2, "chat 42"); got != want {
		t.Errorf("told %q as the wave began, want %q", got, want)
	}
	testsync.Eventually(t, "the work waiting in line", func() bool { return line.Waiting() == 1 })
	u.Over(context.Background())
	if got := toldNow(); len(got) != 1 || strings.Contains(logs.String(), "the wave is over") {
		t.Errorf("the wave told over with work still in line: %q\n%s", got, logs.String())
	}
	close(release)
	p.Wait()
	u.Over(context.Background())
	if got, want := toldNow(), bot.VerifyWaveOver(3, "chat 42: 2, chat 7: 1"); len(got) != 2 || got[1] != want {
		t.Errorf("told %q, want the wave over: %q", got, want)
	}
	if want := `msg="verify: the wave is over" audit=true not_asked=3 chats="chat 42: 2, chat 7: 1"`; !strings.Contains(logs.String(), want) {
		t.Errorf("the wave's end not logged as %s:\n%s", want, logs.String())
	}
	u.Over(context.Background())
	if got := toldNow(); len(got) != 2 {
		t.Errorf("an ended wave told again: %q", got)
	}

	u.Add("7")
	u.AtStop()
	if want := `msg="verify: vigie stopped during a wave" audit=true not_asked=1 chats="chat 7: 1"`; !strings.Contains(logs.String(), want) {
		t.Errorf("the wave at the stop not logged as %s:\n%s", want, logs.String())
	}
}
