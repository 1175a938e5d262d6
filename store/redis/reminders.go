package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.ReminderKeeper = (*Store)(nil)
var _ store.ReminderKeeper = (*Fallback)(nil)

// remindersTTL bounds how long a reminder kept and never taken stays: a day,
// pushed by each one kept. A process checks every minute.
const remindersTTL = 24 * 60 * 60 * 1000

var keepReminderScript = goredis.NewScript(`
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`)

var takeRemindersScript = goredis.NewScript(`
local all = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return all
`)

// remindersKey is the hash of the reminders kept: case id -> k.
func (s *Store) remindersKey() string { return s.casesKey("reminders") }

// KeepReminder keeps the k-th reminder of case id in Redis, for any process's
// next check.
func (s *Store) KeepReminder(ctx context.Context, id string, k int64) error {
	if err := s.script(ctx, keepReminderScript, []string{s.remindersKey()}, id, k, remindersTTL).Err(); err != nil {
		return fmt.Errorf("redis keep reminder of %s: %w", id, err)
	}
	return nil
}

// TakeReminders takes the reminders kept, at once: another process's take
// finds them gone.
func (s *Store) TakeReminders(ctx context.Context) (map[string]int64, error) {
	all, err := s.script(ctx, takeRemindersScript, []string{s.remindersKey()}).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis take reminders: %w", err)
	}
	out := make(map[string]int64, len(all)/2)
	for i := 0; i+1 < len(all); i += 2 {
		if k, err := strconv.ParseInt(all[i+1], 10, 64); err == nil {
			out[all[i]] = k
		}
	}
	return out, nil
}

// KeepReminder keeps it in Redis. While Redis is away, or for a case opened
// meanwhile (Redis does not know its id), it says so: the escalation keeps
// the reminder in memory.
func (f *Fallback) KeepReminder(ctx context.Context, id string, k int64) error {
	if f.degraded.Load() || strings.HasPrefix(id, localPrefix) {
		return f.unavailableFor(id)
	}
	err := f.primary.KeepReminder(ctx, id, k)
	f.outage(ctx, err)
	return err
}

// TakeReminders takes them from Redis; while Redis is away there are none to
// take.
func (f *Fallback) TakeReminders(ctx context.Context) (map[string]int64, error) {
	if f.degraded.Load() {
		return nil, nil
	}
	out, err := f.primary.TakeReminders(ctx)
	if f.outage(ctx, err) {
		return nil, nil
	}
	return out, err
}
