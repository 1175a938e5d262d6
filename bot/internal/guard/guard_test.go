package guard

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
)

func TestLoopRestartsAfterAPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logs := &testsync.Buffer{}
		reg := prometheus.NewRegistry()
		g := New(testsync.Logger(logs), reg)
		// A second Guard on the same registry shares the counter.
		if g2 := New(nil, reg); g2.Counter() != g.Counter() {
			t.Fatal("a second Guard on one registry has its own counter")
		}
		t0 := time.Now()
		var started []time.Duration
		g.Loop(context.Background(), "desk", func(ctx context.Context) {
			started = append(started, time.Since(t0))
			if len(started) <= 3 {
				var m map[string]int
				m["x"]++ // a nil map: the kind of bug that ends a process
			}
		})
		if want := []time.Duration{0, time.Second, 3 * time.Second, 7 * time.Second}; !slices.Equal(started, want) {
			t.Errorf("runs started at %v, want %v", started, want)
		}
		if n := counted(t, reg, "desk"); n != 3 {
			t.Errorf("vigie_panics_total{where=desk} = %v, want 3", n)
		}
		if s := logs.String(); !strings.Contains(s, "assignment to entry in nil map") || !strings.Contains(s, "guard_test.go") {
			t.Errorf("logs lack the panic and its stack:\n%s", s)
		}
	})
}

// TestLoopPausesOnItsClock steps the Guard's clock: the pause after a panic
// is a timer of that clock, and a part that ran a minute on it before it
// panicked again starts over from the first pause, however little wall
// time passed.
func TestLoopPausesOnItsClock(t *testing.T) {
	clock := stepclock.New(time.Unix(1_700_000_000, 0))
	g := New(nil, nil, WithClock(clock.Now, clock.AfterFunc))
	runs := make(chan int, 3)
	n := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Loop(context.Background(), "desk", func(context.Context) {
			n++
			runs <- n
			switch n {
			case 1:
				panic("at once")
			case 2:
				clock.Step(time.Minute) // a minute's healthy run
				panic("after a minute")
			}
		})
	}()
	for want, pause := range []time.Duration{time.Second, time.Second} {
		if got := <-runs; got != want+1 {
			t.Fatalf("run %d started, want %d", got, want+1)
		}
		testsync.Eventually(t, "the pause after run "+strconv.Itoa(want+1)+" set on the clock", func() bool { return clock.Pending() == 1 })
		if w := clock.Waits(); !slices.Equal(w, []time.Duration{pause}) {
			t.Fatalf("after run %d, the pause is %v on the clock, want %v", want+1, w, pause)
		}
		clock.Step(pause)
	}
	if got := <-runs; got != 3 {
		t.Fatalf("run %d started, want 3", got)
	}
	<-done
}

func TestLoopStopsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		runs := 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			New(nil, nil).Loop(ctx, "timer", func(context.Context) { runs++; panic("again") })
		}()
		synctest.Wait() // in the pause after the first panic
		cancel()
		<-done
		if runs != 1 {
			t.Errorf("%d runs, want 1: the pause ends with the context", runs)
		}
	})
}

func TestNilGuardRecovers(t *testing.T) {
	var g *Guard
	if g.Do("x", func() { panic("boom") }) {
		t.Error("Do reported a panicking function as returned")
	}
	func() {
		defer g.Recover("y")
		panic("boom")
	}()
}

// counted reads vigie_panics_total{where} from reg.
func counted(t *testing.T, reg *prometheus.Registry, where string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if mf.GetName() == "vigie_panics_total" && l.GetName() == "where" && l.GetValue() == where {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
