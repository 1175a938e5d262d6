package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// history keeps the last events judged, for the console's backtests: a rule
// change is tried on the community's real recent traffic before it goes
// live. On a store that keeps a shared history (Redis), the events are sent
// there in batches, once a second, so that every instance backtests on the
// whole traffic; otherwise this process keeps them in a ring of a fixed size.
// Events older than age are left out of what it returns.
type history struct {
	size int
	age  time.Duration
	log  *slog.Logger

	mu sync.Mutex
	// ring holds the events as records (historycodec.go) without a shared
	// history: bytes the collector need not read through.
	ring [][]byte
	next int
	full bool
	// shared is the store's history; pending the events not sent to it yet.
	shared  store.EventHistory
	pending []bot.Event
	// scratch is where a slot's first record is written, to be copied to
	// a slot of its size: appended to an empty slot, a record grew it four
	// or five times.
	scratch []byte
}

// maxPending bounds the events waiting for the shared history: past it, the
// oldest are dropped (the history is for backtests, not a record).
const maxPending = 20_000

// maxKeptRecord is the most room a slot of the ring keeps for the next event
// once its own is written over: most records take a few hundred bytes.
const maxKeptRecord = 2 << 10

func newHistory(size int, age time.Duration, st store.Store, log *slog.Logger) *history {
	if size <= 0 {
		return nil
	}
	h := &history{size: size, age: age, log: log}
	if sh, ok := st.(store.EventHistory); ok {
		h.shared = sh
	} else {
		h.ring = make([][]byte, size)
	}
	return h
}

// add keeps a copy of ev.
func (h *history) add(ev *bot.Event) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.shared != nil {
		if len(h.pending) == maxPending {
			h.pending = slices.Delete(h.pending, 0, maxPending/10)
		}
		h.pending = append(h.pending, *ev)
		return
	}
	rec := h.ring[h.next][:0]
	if cap(rec) > maxKeptRecord {
		// a long event's room is not kept for the short ones after it
		rec = nil
	}
	if cap(rec) == 0 {
		h.scratch = appendEventRecord(h.scratch[:0], ev)
		rec = append(rec, h.scratch...)
		if cap(h.scratch) > maxKeptRecord {
			h.scratch = nil
		}
	} else {
		rec = appendEventRecord(rec, ev)
	}
	h.ring[h.next] = rec
	h.next++
	if h.next == len(h.ring) {
		h.next, h.full = 0, true
	}
}

// run sends the pending events to the shared history once a second of the
// daemon's clock (every is Config.every), and what is left when ctx ends.
func (h *history) run(ctx context.Context, every func(context.Context, time.Duration, func())) {
	if h == nil || h.shared == nil {
		return
	}
	every(ctx, time.Second, func() { h.flush(ctx) })
	fctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	h.flush(fctx)
	cancel()
}

func (h *history) flush(ctx context.Context) {
	h.mu.Lock()
	batch := h.pending
	h.pending = nil
	h.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	if err := h.shared.RememberEvents(ctx, batch, h.size); err != nil {
		h.log.Debug("recent events not kept for backtests", "events", len(batch), "err", err)
	}
}

// events returns the events kept, oldest first, those older than the age at
// now left out: the store's shared history when there is one.
func (h *history) events(ctx context.Context, now time.Time) ([]bot.Event, error) {
	if h == nil {
		return nil, nil
	}
	from := now.Add(-h.age)
	if h.shared != nil {
		h.flush(ctx)
		out, err := h.shared.RecentEvents(ctx, from)
		if len(out) > h.size {
			out = out[len(out)-h.size:]
		}
		return out, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []bot.Event
	read := func(recs [][]byte) {
		for _, rec := range recs {
			ev, err := decodeEventRecord(rec)
			if err != nil {
				h.log.Error("a recent event could not be read back; left out of the backtest", "err", err)
				continue
			}
			if !ev.At.Before(from) {
				out = append(out, ev)
			}
		}
	}
	if h.full {
		read(h.ring[h.next:])
	}
	read(h.ring[:h.next])
	return out, nil
}

// The history's defaults: enough for a week of a busy community's messages
// at a few tens of MB.
const (
	defaultHistorySize = 100_000
	defaultHistoryAge  = 7 * 24 * time.Hour
)

// historyFrom reads VIGIE_HISTORY (how many events to keep; 0 keeps none)
// and VIGIE_HISTORY_AGE (how old they may be, like 7d).
func historyFrom(getenv func(string) string, st store.Store, log *slog.Logger) (*history, error) {
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
	return newHistory(size, age, st, log), nil
}
