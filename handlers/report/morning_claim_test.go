package report_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// fridayNight is the period of the report of Friday 20 November's change-over.
const fridayNight = "Report Thu 19 Nov 2026 19:00 → Fri 20 Nov 2026 09:00 (Europe/Paris)"

// deadDesk refuses every report: the instance that has it is about to be
// killed (a deploy, an OOM) and never shows the report.
type deadDesk struct{ tries int }

func (d *deadDesk) Alert(context.Context, string) error {
	d.tries++
	return errors.New("killed")
}

// newMornings returns a Morning per desk on st, all on the clock now.
func newMornings(st store.Store, now *time.Time, desks ...report.Desk) []*report.Morning {
	rs, err := rules.Parse("night.yaml", []byte(nightRules), rules.LoadOptions{})
	if err != nil {
		panic(err)
	}
	var ms []*report.Morning
	for _, d := range desks {
		ms = append(ms, report.NewMorning(report.MorningOptions{
			Source: func() report.Source { return report.Source{Store: st, Location: paris} },
			Store:  st, Desk: d, AfterHours: rs.AfterHours, Schedule: rs.AfterHours,
			Now: func() time.Time { return *now },
		}))
	}
	return ms
}

// The instance that claimed the report at 09:00 dies before its desk took it:
// another instance that looked at 09:00 too, and the dead one restarted
// (a new Morning on the same store, looking first at 09:01), take it over once
// the claim's hold ran out, and the night's report is shown once.
func TestMorningClaimerCrashed(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := at(20, 8, 59, 0)
			dead, other, restarted := &deadDesk{}, &pictureDesk{}, &pictureDesk{}
			ms := newMornings(st, &now, dead, other)
			ms[0].Check(ctx)
			ms[1].Check(ctx)
			now = at(20, 9, 0, 0)
			if ms[0].Check(ctx) || dead.tries != 1 {
				t.Fatalf("the first instance's desk was tried %d times, want once", dead.tries)
			}
			ms[1].Check(ctx) // the report is held by the first
			// The first instance is gone; it comes back as a new one.
			ms[0] = newMornings(st, &now, restarted)[0]
			sent := 0
			for _, minute := range []int{1, 2, 3, 4, 5, 6} {
				now = at(20, 9, minute, 0)
				for _, m := range ms {
					if m.Check(ctx) {
						sent++
					}
				}
			}
			texts := append(other.texts, restarted.texts...)
			if sent != 1 || len(texts) != 1 || !strings.Contains(texts[0], fridayNight) {
				t.Errorf("%d reports sent, desks got %q and %q; want one of the night", sent, other.texts, restarted.texts)
			}
		})
	}
}

// Alone, the restarted instance takes the report over too: killed after its
// claim at 09:00:10, it starts again at 09:01:30 and its first look sees the
// claim held; the look after the hold ran out sends the report.
func TestMorningRestartedAfterItsClaim(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := at(20, 8, 59, 10)
			dead, restarted := &deadDesk{}, &pictureDesk{}
			m := newMornings(st, &now, dead)[0]
			m.Check(ctx)
			now = at(20, 9, 0, 10)
			m.Check(ctx)
			m = newMornings(st, &now, restarted)[0]
			for _, tm := range [][2]int{{1, 30}, {2, 30}, {3, 30}, {4, 30}} {
				now = at(20, 9, tm[0], tm[1])
				m.Check(ctx)
			}
			if dead.tries != 1 || len(restarted.texts) != 1 || !strings.Contains(restarted.texts[0], fridayNight) {
				t.Errorf("killed desk tried %d times, restarted desk got %q; want one report", dead.tries, restarted.texts)
			}
		})
	}
}

// Two instances look at once at 09:00, then each minute: one report. The one
// that claimed it marks it sent, so the other, which looks again once the
// claim's hold ran out, does not send it again.
func TestMorningTwoLookAtOnce(t *testing.T) {
	for name, st := range redistest.Stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := at(20, 8, 59, 0)
			desks := []*pictureDesk{{}, {}}
			ms := newMornings(st, &now, desks[0], desks[1])
			for _, m := range ms {
				m.Check(ctx)
			}
			now = at(20, 9, 0, 0)
			var wg sync.WaitGroup
			for _, m := range ms {
				wg.Add(1)
				go func() { defer wg.Done(); m.Check(ctx) }()
			}
			wg.Wait()
			for minute := 1; minute <= 6; minute++ {
				now = at(20, 9, minute, 0)
				for _, m := range ms {
					m.Check(ctx)
				}
			}
			if texts := append(desks[0].texts, desks[1].texts...); len(texts) != 1 || !strings.Contains(texts[0], fridayNight) {
				t.Errorf("desks got %q and %q; want one report", desks[0].texts, desks[1].texts)
			}
		})
	}
}
