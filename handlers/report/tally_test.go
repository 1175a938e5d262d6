package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestTallyTwoInstances counts events in two processes sharing a store: the
// report adds up the hours both wrote, and the hour under way of the one asked.
func TestTallyTwoInstances(t *testing.T) {
	st := memory.New()
	defer st.Close()
	a, b := report.NewTally("a"), report.NewTally("b")
	h0 := time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC)
	for i := range 10 {
		a.Add("discord", h0.Add(time.Duration(i)*time.Minute))
		b.Add("discord", h0.Add(time.Duration(i)*time.Minute))
		b.Add("facebook", h0.Add(time.Hour+time.Duration(i)*time.Minute))
	}
	ctx := context.Background()
	// 22:30: hour 21 is over, hour 22 is under way
	now := h0.Add(90 * time.Minute)
	if err := a.Flush(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx, st, now); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx, st, now); err != nil { // twice writes nothing more
		t.Fatal(err)
	}
	counts, err := report.AuditEvents(st, b.Pending)(ctx, h0, now)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, c := range counts {
		got[c.Hour.Format("15")+" "+c.Platform] += c.N
	}
	if len(got) != 2 || got["21 discord"] != 20 || got["22 facebook"] != 10 {
		t.Errorf("counts %v", got)
	}

	// Read by another process (vigie report --redis), with nothing pending:
	// the hour under way is in the store too, and what came after a flush,
	// in an hour flushed already (a backlog), adds up.
	b.Add("facebook", h0.Add(95*time.Minute))
	a.Add("discord", h0.Add(30*time.Minute))
	later := h0.Add(96 * time.Minute)
	for _, x := range []*report.Tally{a, b} {
		if err := x.Flush(ctx, st, later); err != nil {
			t.Fatal(err)
		}
	}
	counts, err = report.AuditEvents(st, nil)(ctx, h0.Add(30*time.Minute), later)
	if err != nil {
		t.Fatal(err)
	}
	got = map[string]int{}
	for _, c := range counts {
		got[c.Hour.Format("15")+" "+c.Platform] += c.N
	}
	if len(got) != 2 || got["21 discord"] != 21 || got["22 facebook"] != 11 {
		t.Errorf("counts read from the store alone %v, want 21 discord 21, 22 facebook 11", got)
	}
}

// TestTallyHours: each event is counted in its UTC hour, whatever the
// location of its time, before 1970 too; what comes after a flush is counted
// again, in the hour's next entry.
func TestTallyHours(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	kolkata := time.FixedZone("IST", 5*3600+30*60)
	times := []time.Time{
		time.Date(2026, 11, 20, 21, 59, 59, 999999999, time.UTC),
		time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 20, 23, 10, 0, 0, paris),
		time.Date(2026, 11, 21, 3, 45, 0, 0, kolkata),
		time.Date(1969, 12, 31, 23, 30, 0, 5, time.UTC),
		time.Date(1969, 12, 31, 23, 0, 0, 0, time.UTC),
		time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC),
	}
	tally := report.NewTally("a")
	want := map[time.Time]int{}
	for _, at := range times {
		tally.Add("discord", at)
		want[at.UTC().Truncate(time.Hour)]++
	}
	check := func(want map[time.Time]int) {
		t.Helper()
		got := map[time.Time]int{}
		for _, c := range tally.Pending() {
			if c.Platform != "discord" || c.Hour.Location() != time.UTC {
				t.Errorf("pending %+v", c)
			}
			got[c.Hour] += c.N
		}
		if len(got) != len(want) {
			t.Errorf("pending hours %v, want %v", got, want)
		}
		for h, n := range want {
			if got[h] != n {
				t.Errorf("hour %s: %d, want %d", h, got[h], n)
			}
		}
	}
	check(want)
	st := memory.New()
	defer st.Close()
	if err := tally.Flush(context.Background(), st, times[1]); err != nil {
		t.Fatal(err)
	}
	check(map[time.Time]int{})
	tally.Add("discord", times[0])
	tally.Add("discord", times[0])
	check(map[time.Time]int{times[0].Truncate(time.Hour): 2})
}
