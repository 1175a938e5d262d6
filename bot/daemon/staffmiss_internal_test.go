package daemon

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestStaffMissesWindowAndBound: a place's window doubles with each miss in
// a row up to its cap, an answer ends the streak, and however many places
// the events name, at most staffMissPlaces are kept, each key small.
func TestStaffMissesWindowAndBound(t *testing.T) {
	var m staffMisses
	at := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	key := staffMissKey("discord", "1")
	var windows []time.Duration
	for range 7 {
		w, _, first := m.missed(key, at)
		if !first {
			t.Fatalf("a miss after the window ended was not a first")
		}
		if _, _, again := m.missed(key, at); again {
			t.Fatalf("a second miss within the window opened another")
		}
		if !m.missing(key, at.Add(w-time.Second)) || m.missing(key, at.Add(w)) {
			t.Fatalf("window of %v not kept as such", w)
		}
		windows = append(windows, w)
		at = at.Add(w)
	}
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 10 * time.Minute, 10 * time.Minute}
	for i := range want {
		if windows[i] != want[i] {
			t.Fatalf("windows %v, want %v", windows, want)
		}
	}
	if n := m.answered(key); n != 7 {
		t.Errorf("answered ended a streak of %d, want 7", n)
	}
	if w, _, _ := m.missed(key, at); w != staffMissFirst {
		t.Errorf("after an answer the window is %v, want %v", w, staffMissFirst)
	}

	for i := range 3 * staffMissPlaces {
		m.missed(staffMissKey("telegram", strconv.Itoa(i)), at)
	}
	if len(m.places) > staffMissPlaces {
		t.Errorf("%d places kept, want at most %d", len(m.places), staffMissPlaces)
	}
	if k := staffMissKey("telegram", strings.Repeat("9", 100000)); len(k) > 64+len("telegram")+1 {
		t.Errorf("an overlong place keeps a key of %d bytes", len(k))
	}
}
