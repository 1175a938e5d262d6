package rules

import (
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"
)

// TestScheduleMemoIsTheReckoning asks a schedule whose office hours are every
// other minute about instants around zone changes, in zones whose offsets are
// not whole hours (or, in Monrovia until 1972, not whole minutes): the answer
// kept for a local minute must be the one reckoned for each instant, in order
// and out of it.
func TestScheduleMemoIsTheReckoning(t *testing.T) {
	var odd []minuteRange // office hours: every odd minute of the day
	for m := 1; m < 24*60; m += 2 {
		odd = append(odd, minuteRange{from: m, to: m + 1})
	}
	cases := []struct {
		zone string
		at   time.Time // a change of the zone's offset
	}{
		{"Europe/Paris", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC)},
		{"Europe/Paris", time.Date(2026, 10, 25, 1, 0, 0, 0, time.UTC)},
		{"Africa/Monrovia", time.Date(1972, 1, 7, 0, 44, 30, 0, time.UTC)},
		{"Africa/Monrovia", time.Date(1971, 6, 1, 12, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 4, 4, 15, 0, 0, 0, time.UTC)},
		{"Asia/Kathmandu", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"America/St_Johns", time.Date(2026, 3, 8, 5, 30, 0, 0, time.UTC)},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		s := schedule{loc: loc, set: true, holidays: map[dateKey]bool{}, last: new(atomic.Pointer[hoursAnswer])}
		for d := range s.days {
			s.days[d] = odd
		}
		var instants []time.Time
		for step := -400 * time.Second; step <= 400*time.Second; step += 700 * time.Millisecond {
			instants = append(instants, c.at.Add(step))
		}
		check := func(order string) {
			for _, at := range instants {
				if got, want := s.afterHours(at), s.reckon(at.In(loc)); got != want {
					t.Fatalf("%s, %s (%s): after hours %v, reckoned %v", c.zone, at.Format(time.RFC3339Nano), order, got, want)
				}
			}
		}
		check("in order")
		r.Shuffle(len(instants), func(i, j int) { instants[i], instants[j] = instants[j], instants[i] })
		check("shuffled")
	}
}
