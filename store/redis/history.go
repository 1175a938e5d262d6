package redis

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.EventHistory = (*Store)(nil)
	_ store.EventHistory = (*Fallback)(nil)
)

// historyKey is the stream of recent events, capped near the size asked for.
func (s *Store) historyKey() string { return s.cfg.prefix + ":{history}:events" }

// RememberEvents appends the events to the history stream in one round trip,
// and has it expire as the audit does (90 days by default) after its last
// write: a prefix no vigie uses any more keeps no history, and no data
// marker for it (markData).
func (s *Store) RememberEvents(ctx context.Context, events []bot.Event, max int) error {
	if len(events) == 0 {
		return nil
	}
	p := s.c.Pipeline()
	for i := range events {
		ev := &events[i]
		data, err := encodeEvent(ev)
		if err != nil {
			return fmt.Errorf("history event %s: %w", ev.Key(), err)
		}
		p.XAdd(ctx, &goredis.XAddArgs{Stream: s.historyKey(), MaxLen: int64(max), Approx: true, Values: []any{"e", data}})
	}
	p.PExpire(ctx, s.historyKey(), DefaultAuditTTL)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis history: %w", err)
	}
	return nil
}

// RecentEvents reads the history stream, oldest first.
func (s *Store) RecentEvents(ctx context.Context, since time.Time) ([]bot.Event, error) {
	var out []bot.Event
	start := "-"
	for {
		msgs, err := s.c.XRangeN(ctx, s.historyKey(), start, "+", 1000).Result()
		if err != nil {
			return nil, fmt.Errorf("redis history: %w", err)
		}
		for _, m := range msgs {
			raw, _ := m.Values["e"].(string)
			var ev bot.Event
			if err := json.Unmarshal([]byte(raw), &ev); err != nil {
				return nil, fmt.Errorf("redis history event %s: %w", m.ID, err)
			}
			if !ev.At.Before(since) {
				out = append(out, ev)
			}
		}
		if len(msgs) < 1000 {
			return out, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// RememberEvents writes to Redis; while it is away the events are not kept
// (the history is for backtests, not a record).
func (f *Fallback) RememberEvents(ctx context.Context, events []bot.Event, max int) error {
	if f.degraded.Load() {
		return nil
	}
	return f.primary.RememberEvents(ctx, events, max)
}

// RecentEvents reads Redis's history.
func (f *Fallback) RecentEvents(ctx context.Context, since time.Time) ([]bot.Event, error) {
	return f.primary.RecentEvents(ctx, since)
}
