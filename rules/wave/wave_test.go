package wave

import (
	"fmt"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

var t0 = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

var waveAlert = Alert{Name: "wave", Targets: []string{"abuse"}, Window: 10 * time.Minute, Message: "angry wave"}

// feeder plays events into a tracker the way the engine would: it counts the hits
// of the abuse category in the last 10 minutes per space, and says the alert holds
// when there are 20 or more.
type feeder struct {
	t      *Tracker
	n      int
	hits   map[string][]time.Time
	raised []Wave
	over   []Wave
}

func newFeeder() *feeder {
	return &feeder{t: NewTracker([]Alert{waveAlert}, Options{}), hits: map[string][]time.Time{}}
}

func (f *feeder) event(at time.Time, space, text string, insult bool) {
	f.n++
	ev := bot.Event{ID: fmt.Sprint("m-", f.n), Platform: "facebook", Space: space, Text: text, At: at,
		Author: bot.Author{ID: fmt.Sprint("u-", f.n%7)}}
	var matches []bot.Match
	var holding []Holding
	if insult {
		matches = []bot.Match{{Rule: "insult", Category: "abuse"}}
		f.hits[space] = append(f.hits[space], at)
	}
	var inWindow int64
	for _, h := range f.hits[space] {
		if h.After(at.Add(-waveAlert.Window)) {
			inWindow++
		}
	}
	if inWindow >= 20 {
		holding = []Holding{{Alert: "wave", Count: inWindow}}
	}
	raised, over := f.t.Observe(ev, at, matches, holding)
	f.raised = append(f.raised, raised...)
	f.over = append(f.over, over...)
}

func TestWaveOfInsultsOnOnePage(t *testing.T) {
	f := newFeeder()
	// quiet chat, then 30 insults on page-1, one every 10s, with chat between
	for i := range 5 {
		f.event(t0.Add(time.Duration(i)*time.Minute), "page-1", "bonjour", false)
	}
	start := t0.Add(10 * time.Minute)
	for i := range 30 {
		f.event(start.Add(time.Duration(i)*10*time.Second), "page-1", fmt.Sprint("insult ", i), true)
		f.event(start.Add(time.Duration(i)*10*time.Second+time.Second), "page-1", "ok", false)
	}
	// another page stays calm
	f.event(start.Add(time.Minute), "page-2", "insult elsewhere", true)
	if len(f.raised) != 1 {
		t.Fatalf("raised %d alerts, want 1 while the wave lasts: %+v", len(f.raised), f.raised)
	}
	r := f.raised[0]
	if r.Space != "page-1" || r.Count != 20 || !r.From.Equal(start) || r.ByRule["insult"] != 20 || len(r.Examples) != 3 {
		t.Errorf("raised %+v, want page-1, 20 hits from %s, 3 examples", r, start)
	}
	last := start.Add(29 * 10 * time.Second)
	// still holding ten minutes after the last hit: not over yet
	if over := f.t.Expire(last.Add(9 * time.Minute)); len(over) != 0 {
		t.Errorf("over too early: %+v", over)
	}
	// the condition last held at the 30th insult; quiet for a window after that
	over := f.t.Expire(last.Add(20 * time.Minute))
	if len(over) != 1 {
		t.Fatalf("over: %d waves, want 1", len(over))
	}
	w := over[0]
	if w.Count != 30 || !w.From.Equal(start) || !w.To.Equal(last) || w.ByRule["insult"] != 30 {
		t.Errorf("over %+v, want 30 hits from %s to %s", w, start, last)
	}
	// the chat message a second after the last insult still saw 30 insults
	if want := last.Add(time.Second + 10*time.Minute); !w.Over.Equal(want) {
		t.Errorf("over at %s, want %s", w.Over, want)
	}
	if len(f.t.Active()) != 0 {
		t.Errorf("still active: %+v", f.t.Active())
	}
	// a second wave the next night is a new alert
	f.hits = map[string][]time.Time{}
	next := t0.Add(24 * time.Hour)
	for i := range 20 {
		f.event(next.Add(time.Duration(i)*time.Second), "page-1", "again", true)
	}
	if len(f.raised) != 2 {
		t.Fatalf("raised %d, want a second wave", len(f.raised))
	}
	if got := f.t.Flush(); len(got) != 1 || got[0].Count != 20 {
		t.Errorf("flush: %+v", got)
	}
}

func TestObserveExpiresOnTheEventsClock(t *testing.T) {
	f := newFeeder()
	for i := range 20 {
		f.event(t0.Add(time.Duration(i)*time.Second), "page-1", "x", true)
	}
	if len(f.raised) != 1 {
		t.Fatalf("raised %d", len(f.raised))
	}
	// an event an hour later on any page ends the wave: a replay has no timer
	f.event(t0.Add(time.Hour), "page-9", "hello", false)
	if len(f.over) != 1 || f.over[0].Count != 20 {
		t.Fatalf("over %+v", f.over)
	}
}

func TestTargets(t *testing.T) {
	a := Alert{Targets: []string{"abuse", "scam-link"}}
	for _, c := range []struct {
		m    bot.Match
		want bool
	}{
		{bot.Match{Rule: "insult", Category: "abuse"}, true},
		{bot.Match{Rule: "scam-link", Category: "spam"}, true},
		{bot.Match{Rule: "flood", Category: "flood"}, false},
		{bot.Match{Rule: "x"}, false},
	} {
		if got := a.counts(c.m); got != c.want {
			t.Errorf("counts(%+v) = %v, want %v", c.m, got, c.want)
		}
	}
}

func TestOneEventMatchingTwoRulesCountsOnce(t *testing.T) {
	tr := NewTracker([]Alert{waveAlert}, Options{})
	ev := bot.Event{ID: "1", Platform: "p", Space: "s"}
	two := []bot.Match{{Rule: "insult", Category: "abuse"}, {Rule: "slur", Category: "abuse"}}
	raised, _ := tr.Observe(ev, t0, two, []Holding{{Alert: "wave", Count: 1}})
	if len(raised) != 1 || raised[0].Count != 1 || raised[0].ByRule["insult"] != 1 || raised[0].ByRule["slur"] != 1 {
		t.Fatalf("raised %+v", raised)
	}
	ev.ID = "2"
	tr.Observe(ev, t0.Add(time.Second), two, nil)
	if a := tr.Active(); len(a) != 1 || a[0].Count != 2 || len(a[0].Examples) != 2 {
		t.Fatalf("active %+v", a)
	}
}

// A space's hits older than every window are read by no wave, whether the
// sweep, once a minute of the events' clock, has dropped them yet or not.
func TestStaleSpaceReadsAsNone(t *testing.T) {
	tr := NewTracker([]Alert{waveAlert}, Options{})
	ev := func(id, space string) bot.Event {
		return bot.Event{ID: id, Platform: "facebook", Space: space, Author: bot.Author{ID: "u-1", Name: "ann"}}
	}
	hit := []bot.Match{{Rule: "insult", Category: "abuse"}}
	for i := range 5 {
		tr.Observe(ev(fmt.Sprint("m-", i), "page-1"), t0.Add(time.Duration(i)*time.Second), hit, nil)
	}
	// an event elsewhere sweeps before page-1's hits are older than the window
	tr.Observe(ev("o-1", "page-2"), t0.Add(9*time.Minute+30*time.Second), nil, nil)
	// within the minute after, page-1's hits are older than the window, not
	// swept yet, and the alert holds there for counts of the store's
	at := t0.Add(10*time.Minute + 10*time.Second)
	raised, _ := tr.Observe(ev("m-9", "page-1"), at, nil, []Holding{{Alert: "wave", Count: 20}})
	if len(raised) != 1 {
		t.Fatalf("raised %d waves, want 1", len(raised))
	}
	w := raised[0]
	if w.Count != 20 || len(w.Examples) != 0 || len(w.ByRule) != 0 || !w.From.Equal(at) || !w.To.Equal(at) {
		t.Errorf("wave %+v: read hits older than its window", w)
	}
}

// A wave under way keeps counting its space's hits whatever becomes of the
// space's recent hits: let go by the sweep while the condition holds without
// new hits (a counter's alert), or after a reload that reorders the alerts.
func TestWaveUnderWayKeepsCounting(t *testing.T) {
	copies := Alert{Name: "copies", Targets: []string{"spam"}, Window: time.Minute}
	tr := NewTracker([]Alert{waveAlert, copies}, Options{})
	ev := func(id string) bot.Event { return bot.Event{ID: id, Platform: "discord", Space: "guild-1"} }
	spam := []bot.Match{{Rule: "copy", Category: "spam"}}
	abuse := []bot.Match{{Rule: "insult", Category: "abuse"}}
	holds := []Holding{{Alert: "copies", Count: 5}}

	raised, _ := tr.Observe(ev("m-1"), t0, spam, holds)
	if len(raised) != 1 || raised[0].Alert != "copies" || raised[0].Count != 5 {
		t.Fatalf("raised %+v, want the copies wave with 5", raised)
	}
	// the condition holds on without hits past every window: the sweep lets
	// the space's hits go, the wave goes on
	for i := 1; i <= 20; i++ {
		tr.Observe(ev(fmt.Sprint("m-h", i)), t0.Add(time.Duration(i)*50*time.Second), nil, holds)
	}
	at := t0.Add(1010 * time.Second)
	tr.Observe(ev("m-2"), at, spam, nil)
	tr.Observe(ev("m-3"), at.Add(time.Second), abuse, nil) // not the wave's target
	// a reload that puts the alerts in another order
	tr.SetAlerts([]Alert{copies, waveAlert})
	tr.Observe(ev("m-4"), at.Add(2*time.Second), spam, nil)
	active := tr.Active()
	if len(active) != 1 || active[0].Alert != "copies" || active[0].Count != 7 || active[0].ByRule["copy"] != 3 {
		t.Fatalf("active %+v, want the copies wave with 7 events, 3 hits of copy", active)
	}
	over := tr.Expire(at.Add(2*time.Second + time.Minute))
	// over a window after the condition last held
	if want := t0.Add(1000*time.Second + time.Minute); len(over) != 1 || !over[0].Over.Equal(want) {
		t.Fatalf("over %+v, want the copies wave over at %s", over, want)
	}
}
