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
// meanwhile (Redis does not know its id yet), it is kept here and in the
// spool (a stop does not lose it), taken back by this process's next
// TakeReminders, and written to Redis, under the case's id there, once the
// case is: for any process's next check.
func (f *Fallback) KeepReminder(ctx context.Context, id string, k int64) error {
	if !f.degraded.Load() && !strings.HasPrefix(id, localPrefix) {
		err := f.primary.KeepReminder(ctx, id, k)
		if !f.outage(ctx, err) {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keepReminder(f.resolve(id), k)
	return nil
}

// keepReminder keeps the k-th reminder of case id until Redis or this
// process takes it; a later one of a case replaces an earlier. f.mu is held.
func (f *Fallback) keepReminder(id string, k int64) {
	if cur, ok := f.reminders[id]; ok && cur >= k {
		return
	}
	if f.reminders == nil {
		f.reminders = make(map[string]int64)
	}
	f.reminders[id] = k
	f.spool.put(spoolReminderKey(id), spoolRecord{Reminder: &spoolReminder{Case: id, K: k}})
}

// TakeReminders takes those kept here (under the case's Redis id once it is
// there), and Redis's when it answers.
func (f *Fallback) TakeReminders(ctx context.Context) (map[string]int64, error) {
	out := f.takeLocalReminders()
	if f.degraded.Load() {
		return out, nil
	}
	kept, err := f.primary.TakeReminders(ctx)
	if f.outage(ctx, err) {
		return out, nil
	}
	for id, k := range kept {
		if cur, ok := out[id]; !ok || k > cur {
			out[id] = k
		}
	}
	return out, err
}

// takeLocalReminders takes the reminders kept here.
func (f *Fallback) takeLocalReminders() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.reminders))
	for id, k := range f.reminders {
		f.spool.drop(spoolReminderKey(id))
		if lc := f.cases[id]; lc != nil && lc.remote != "" {
			id = lc.remote
		}
		if cur, ok := out[id]; !ok || k > cur {
			out[id] = k
		}
	}
	f.reminders = nil
	return out
}

// writeReminders writes to Redis the reminders kept here whose case is
// there (a c- id, or a local case written back), for any process's next
// check; those of a case Redis never got (refused for the cap, or
// forgotten) are dropped. It stops at the first error.
func (f *Fallback) writeReminders(ctx context.Context) error {
	f.mu.Lock()
	type pending struct {
		id, remote string
		k          int64
	}
	var todo []pending
	for id, k := range f.reminders {
		if !strings.HasPrefix(id, localPrefix) {
			todo = append(todo, pending{id, id, k})
			continue
		}
		lc := f.cases[id]
		if lc != nil && lc.remote != "" {
			todo = append(todo, pending{id, lc.remote, k})
			continue
		}
		// Its case is gone from here, or closed (decided, or refused by
		// Redis for the cap): no reminder is due. One still waiting for
		// Redis goes after it.
		if c, err := f.local.Case(ctx, id); lc == nil || err != nil || c.Status == store.CaseDecided {
			delete(f.reminders, id)
			f.spool.drop(spoolReminderKey(id))
		}
	}
	f.mu.Unlock()
	for _, p := range todo {
		if err := f.primary.KeepReminder(ctx, p.remote, p.k); err != nil {
			return err
		}
		f.mu.Lock()
		if f.reminders[p.id] == p.k {
			delete(f.reminders, p.id)
			f.spool.drop(spoolReminderKey(p.id))
		}
		f.mu.Unlock()
	}
	return nil
}
