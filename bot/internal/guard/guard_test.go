package guard

import (
	"context"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
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
