package daemon

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// history keeps the last events judged, for the console's backtests: a
// rule change is tried on the community's real recent traffic before it goes
// live. It is a ring of a fixed size; events older than age are left out of
// what it returns. Each process keeps its own.
type history struct {
	mu   sync.Mutex
	ring []bot.Event
	next int
	full bool
	age  time.Duration
}

func newHistory(size int, age time.Duration) *history {
	if size <= 0 {
		return nil
	}
	return &history{ring: make([]bot.Event, size), age: age}
}

// add keeps ev, in place of the oldest once the ring is full.
func (h *history) add(ev bot.Event) {
	if h == nil {
		return
	}
	h.mu.Lock()
	h.ring[h.next] = ev
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
	h.mu.Unlock()
}

// events returns the events kept, oldest first, those older than the age at
// now left out.
func (h *history) events(now time.Time) []bot.Event {
	if h == nil {
		return nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []bot.Event
	if h.full {
		out = append(out, h.ring[h.next:]...)
	}
	out = append(out, h.ring[:h.next]...)
	if h.age > 0 {
		from := now.Add(-h.age)
		out = slices.DeleteFunc(out, func(ev bot.Event) bool { return ev.At.Before(from) })
	}
	return out
}

// The history's defaults: enough for a week of a busy community's messages
// at a few tens of MB.
const (
	defaultHistorySize = 100_000
	defaultHistoryAge  = 7 * 24 * time.Hour
)

// historyFrom reads VIGIE_HISTORY (how many events to keep; 0 keeps none)
// and VIGIE_HISTORY_AGE (how old they may be, like 7d).
func historyFrom(getenv func(string) string) (*history, error) {
	size, age := defaultHistorySize, defaultHistoryAge
	if s := getenv("VIGIE_HISTORY"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("VIGIE_HISTORY: %q is not a number of events (0 keeps none)", s)
		}
		size = n
	}
	if s := getenv("VIGIE_HISTORY_AGE"); s != "" {
		d, err := bot.ParseDuration(s)
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("VIGIE_HISTORY_AGE: %q is not a duration like 7d", s)
		}
		age = d
	}
	return newHistory(size, age), nil
}
