package report

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// TallyKind is the event kind of the audit entries that carry event counts; they
// match no rule, so the other readers of the audit log pass them by.
const TallyKind bot.Kind = "tally"

// Tally counts every event per hour and platform in the process, and writes
// what it counted to the audit log at each flush (once a minute), the hour
// under way included: a report read from the store by another process (vigie
// report --redis) then sees the current hour too, and adds up the instances
// sharing a store. A crash loses at most a minute of counts. It is safe for
// concurrent use.
type Tally struct {
	instance string

	mu    sync.Mutex
	hours map[time.Time]map[string]int // UTC hour -> platform -> events
	// cur is hours' map for the hour curHour (Unix seconds): Add finds it
	// without hashing a time, nil when the hour has no map yet.
	cur     map[string]int
	curHour int64
}

// NewTally returns a tally; instance tells the entries of processes sharing a
// store apart (a host name and pid, a random id).
func NewTally(instance string) *Tally {
	return &Tally{instance: instance, hours: map[time.Time]map[string]int{}}
}

// Add counts one event handled at t: the time vigie handled it, not the
// event's own (an event dated hours back, a late delivery), as the audit
// stamps the flagged ones, so that a period never has more flagged than events.
func (t *Tally) Add(platform string, at time.Time) {
	// Unix time is whole hours apart at the hours of UTC: the floor of its
	// hour is at.UTC().Truncate(time.Hour).
	sec := at.Unix()
	hour := sec - ((sec%3600)+3600)%3600
	t.mu.Lock()
	if t.cur == nil || t.curHour != hour {
		h := time.Unix(hour, 0).UTC()
		if t.hours[h] == nil {
			t.hours[h] = map[string]int{}
		}
		t.cur, t.curHour = t.hours[h], hour
	}
	t.cur[platform]++
	t.mu.Unlock()
}

type tallyEntry struct {
	Hour     time.Time      `json:"hour"`
	Instance string         `json:"instance"`
	Counts   map[string]int `json:"counts"`
}

// Flush writes what was counted since the last flush to st, one entry per
// hour, and forgets it. On a store error the counts are kept for the next flush.
func (t *Tally) Flush(ctx context.Context, st store.Store, now time.Time) error {
	t.mu.Lock()
	hours := make([]time.Time, 0, len(t.hours))
	for h := range t.hours {
		hours = append(hours, h)
	}
	t.mu.Unlock()
	slices.SortFunc(hours, func(a, b time.Time) int { return a.Compare(b) })
	for _, h := range hours {
		// Taken out under the lock: what comes in meanwhile goes in the next
		// flush's entry for that hour.
		t.mu.Lock()
		counts := t.hours[h]
		delete(t.hours, h)
		t.cur = nil
		t.mu.Unlock()
		if len(counts) == 0 {
			continue
		}
		b, err := json.Marshal(tallyEntry{Hour: h, Instance: t.instance, Counts: counts})
		if err != nil {
			t.putBack(h, counts)
			return err
		}
		// Each flush's entry has its own id: the report adds them up, and
		// drops only the copies of one entry that a retried write made.
		ev := bot.Event{ID: "tally:" + t.instance + ":" + strconv.FormatInt(h.Unix(), 10) + ":" + strconv.FormatInt(now.UnixNano(), 10),
			Platform: "vigie", Kind: TallyKind, Text: string(b), At: h}
		// Stamped with the hour's end, or now for the hour under way: never
		// before the hour itself, so a report from the hour's start finds it.
		at := h.Add(time.Hour)
		if now.Before(at) {
			at = now
		}
		if at.Before(h) {
			at = h
		}
		if err := st.AppendAudit(ctx, store.AuditEntry{At: at, Event: ev, Verdict: bot.Verdict{EventID: ev.ID, At: at}, Mode: "tally"}); err != nil {
			t.putBack(h, counts)
			return fmt.Errorf("tally of %s: %w", h.Format(time.RFC3339), err)
		}
	}
	return nil
}

// putBack returns the counts of an hour that could not be written, adding them
// to what came in meanwhile.
func (t *Tally) putBack(h time.Time, counts map[string]int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hours[h] == nil {
		t.hours[h] = map[string]int{}
	}
	for p, n := range counts {
		t.hours[h][p] += n
	}
}

// Pending returns what was not flushed yet, as event counts.
func (t *Tally) Pending() []EventCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []EventCount
	for h, byPlatform := range t.hours {
		for p, n := range byPlatform {
			out = append(out, EventCount{Hour: h, Platform: p, N: n})
		}
	}
	return out
}

// AuditEvents reads the event counts the tallies wrote to st's audit log, for
// the hours in [since, until); pending, when set, adds what a running process
// has not flushed yet.
func AuditEvents(st store.Store, pending func() []EventCount) func(ctx context.Context, since, until time.Time) ([]EventCount, error) {
	return func(ctx context.Context, since, until time.Time) ([]EventCount, error) {
		from := since.UTC().Truncate(time.Hour)
		entries, err := st.Audit(ctx, from)
		if err != nil {
			return nil, err
		}
		var out []EventCount
		seen := map[string]bool{}
		for _, e := range entries {
			if e.Event.Kind != TallyKind || seen[e.Event.ID] {
				continue
			}
			seen[e.Event.ID] = true
			var te tallyEntry
			if err := json.Unmarshal([]byte(e.Event.Text), &te); err != nil {
				continue
			}
			if te.Hour.Before(from) || !te.Hour.Before(until) {
				continue
			}
			for p, n := range te.Counts {
				out = append(out, EventCount{Hour: te.Hour, Platform: p, N: n})
			}
		}
		if pending != nil {
			for _, c := range pending() {
				if !c.Hour.Before(from) && c.Hour.Before(until) {
					out = append(out, c)
				}
			}
		}
		return out, nil
	}
}
