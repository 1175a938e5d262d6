package handlers

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// The warnings remembered against a plain map of each author's last
// warning: an author is warned at most once in WarnEvery, whatever the
// cap; past MaxWarned authors the one warned longest ago is forgotten
// first, and counted; and the memory stays within the caps, also when the
// clock goes back.
func TestWarningsCap(t *testing.T) {
	const every = 10 * time.Minute
	for _, tc := range []struct {
		name           string
		authors, max   int
		places         int
		step           time.Duration // the clock moves by up to this between two warnings
		back           bool          // and sometimes goes back
		wantDrops      bool
		wantPlaceDrops bool
	}{
		{"under the cap", 300, 1000, 10, every / 50, false, false, false},
		{"a raid past the cap", 2000, 150, 10, every / 2000, false, true, false},
		{"many places", 1000, 100, 3000, every / 2000, false, true, true},
		{"the clock goes back", 2000, 300, 10, every / 500, true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Speech{WarnEvery: every, PlaceWarnings: 1 << 30, MaxWarned: tc.max}.withDefaults()
			rnd := rand.New(rand.NewPCG(5, uint64(tc.authors)))
			var w warnings
			last := map[string]time.Time{} // the model: each author's last warning remembered
			seq := map[string]int{}        // and its order
			var n, dropped int
			now := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
			for step := range 10 * tc.authors {
				now = now.Add(time.Duration(rnd.Int64N(int64(tc.step))))
				if tc.back && rnd.IntN(50) == 0 {
					now = now.Add(-time.Duration(rnd.Int64N(int64(every))))
				}
				id := strconv.Itoa(rnd.IntN(tc.authors))
				ev := bot.Event{Platform: "discord", Space: "s", Channel: "c" + strconv.Itoa(rnd.IntN(tc.places)), Author: bot.Author{ID: id}}
				_, why := w.take(ev, bot.Action{Kind: bot.ActWarn, Text: "Stop"}, now, s)
				if len(w.authors) > tc.max || len(w.order)-w.head > 2*tc.max || len(w.places) > tc.max {
					t.Fatalf("step %d: %d authors, %d in order, %d places; cap %d", step, len(w.authors), len(w.order)-w.head, len(w.places), tc.max)
				}
				if tc.back {
					continue // out of order, the model's "oldest" is another
				}
				key := "discord\x00s\x00" + id
				t0, ok := last[key]
				wantWarn := !ok || now.Sub(t0) >= every
				if (why == "") != wantWarn {
					t.Fatalf("step %d: author %s warned %v (%q), want %v (last %v)", step, id, why == "", why, wantWarn, now.Sub(t0))
				}
				if !wantWarn {
					continue
				}
				for k, at := range last {
					if now.Sub(at) >= every {
						delete(last, k)
						delete(seq, k)
					}
				}
				if _, ok := last[key]; !ok && len(last) >= tc.max {
					oldest := ""
					for k := range last {
						if oldest == "" || seq[k] < seq[oldest] {
							oldest = k
						}
					}
					delete(last, oldest)
					delete(seq, oldest)
					dropped++
				}
				last[key], seq[key] = now, n
				n++
				if len(w.authors) != len(last) || w.dropped != int64(dropped) {
					t.Fatalf("step %d: %d authors remembered, %d dropped; want %d and %d", step, len(w.authors), w.dropped, len(last), dropped)
				}
			}
			if (w.dropped > 0) != tc.wantDrops || (w.placesDropped > 0) != tc.wantPlaceDrops {
				t.Errorf("%d authors and %d places dropped; want some: %v and %v", w.dropped, w.placesDropped, tc.wantDrops, tc.wantPlaceDrops)
			}
		})
	}
}

// A clock that swings back and forth lets an author be warned again while
// his earlier warning is still behind the oldest: the order of warnings
// stays within twice the cap all the same.
func TestWarningsClockSwings(t *testing.T) {
	const max = 50
	s := Speech{MaxWarned: max, PlaceWarnings: 1 << 30}.withDefaults()
	var w warnings
	t0 := time.Date(2026, 12, 3, 20, 0, 0, 0, time.UTC)
	warn := func(id string, at time.Time) string {
		_, why := w.take(bot.Event{Platform: "discord", Space: "s", Channel: "c", Author: bot.Author{ID: id}}, bot.Action{Kind: bot.ActWarn}, at, s)
		return why
	}
	if why := warn("first", t0); why != "" {
		t.Fatalf("the first warning withheld: %s", why)
	}
	for i := range 20 * max {
		// An hour back, a second apart: each warning is before the last
		// one of the same author, so none is withheld, and "first" stays
		// the oldest, unexpired.
		at := t0.Add(-time.Hour - time.Duration(i)*time.Second)
		if why := warn("a"+strconv.Itoa(i%3), at); why != "" {
			t.Fatalf("warning %d withheld: %s", i, why)
		}
		if n := len(w.order) - w.head; n > 2*max || len(w.authors) > max {
			t.Fatalf("warning %d: %d in order, %d authors; cap %d", i, n, len(w.authors), max)
		}
	}
	if w.dropped != 1 {
		t.Errorf("%d authors dropped; want the first, to bound the order", w.dropped)
	}
}
