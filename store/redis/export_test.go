package redis

import (
	"context"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// SlotOf is slotOf, for the tests that compare it with Redis's CLUSTER KEYSLOT.
var SlotOf = slotOf

// ParseLatest is parseLatest, for its test against encoding/json.
var ParseLatest = parseLatest

// MaxMapped is how many local case ids a Fallback remembers of each kind.
const MaxMapped = maxMapped

// LocalCases is how many local case ids f remembers.
func (f *Fallback) LocalCases() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cases)
}

// QueueStrikes queues the strikes together (WithAutoPipeline), so that they go
// in one pipeline, as strikes queued one after the other while a pipeline is on
// the wire do.
func (s *Store) QueueStrikes(strikes ...store.Strike) {
	calls := make([]*call, len(strikes))
	for i := range strikes {
		keys, args := s.strikeCall(strikes[i])
		calls[i] = &call{sc: strikeScript, keys: keys, args: args, lost: s.lostFunc(lostWrite{strike: &strikes[i]})}
	}
	s.b.push(calls...)
}

// SetMaxMapped sets how many local case ids of each kind f remembers (MaxMapped),
// before it opens any case.
func (f *Fallback) SetMaxMapped(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxMapped = n
}

// HeldInMemory is how many cases, open or decided, f's memory holds.
func (f *Fallback) HeldInMemory(ctx context.Context) int {
	n := 0
	for _, st := range []store.CaseStatus{store.CaseOpen, store.CaseDecided} {
		cs, _ := f.local.Cases(ctx, st)
		n += len(cs)
	}
	return n
}

// FlushNow pings Redis and writes back what waits, as f's loop does at its
// next tick.
func FlushNow(f *Fallback) { f.retryOnce() }

// SyncSpool waits until f's spool has written what was put before, and
// removed the files taken over by then.
func (f *Fallback) SyncSpool() { f.spool.Sync() }

// RemindersWaiting is how many reminders f keeps for Redis.
func (f *Fallback) RemindersWaiting() int { return f.remindersWaiting() }

// MemberLockKey is the key of the member's lock, for the tests that leave
// one behind as a holder that died would.
func (s *Store) MemberLockKey(key string) string { return s.memberLockKey(key) }

// BanKeys are the ban book's keys, for the test of the lock's slot.
func (s *Store) BanKeys() []string { return s.banKeys() }

// SetMemberRenew has the member's locks taken after it renewed every d,
// rather than every third of MemberLockTTL.
func (s *Store) SetMemberRenew(d time.Duration) { s.memberRenew.Store(int64(d)) }

// ClaimKey is the key of the claim of case id's decision, for the tests
// that look at it in Redis.
func (s *Store) ClaimKey(id string) string { return s.claimKey(id) }

// MeasureSkew is measureSkew, for the tests of clocks apart.
func (s *Store) MeasureSkew(ctx context.Context) (time.Duration, error) { return s.measureSkew(ctx) }

// Skew is the skew f's Redis store measured last.
func (f *Fallback) Skew() (time.Duration, bool) { return f.primary.Skew() }

// SpoolItems is how many items the processes before left in s: what a
// start would take back and write to Redis.
func SpoolItems(s *Spool) int { return len(s.take()) }

// CounterDump, CounterExpiry and CRC64 are counterDump, counterExpiry and
// crc64Redis.
var (
	CounterDump   = counterDump
	CounterExpiry = counterExpiry
	CRC64         = crc64Redis
)
