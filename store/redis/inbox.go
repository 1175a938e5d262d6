package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.Inbox = (*Store)(nil)
	_ store.Inbox = (*Fallback)(nil)
)

// A job's inbox is a sorted set beside its lease ({lease:JOB}:inbox): each
// item's data a member, scored by its id (an update's data names its
// update_id, so two items never share a member). It lives as long as the
// dedupe of events (store.DefaultDedupeTTL) after its last write: an item kept longer,
// handed on again, would no longer be dropped as a duplicate (the poller
// lets go one older than that, by its Taken). Beside it, a hash
// ({lease:JOB}:inbox-meta) holds, by item id, when the item was first kept
// ("t:ID", unix ms), how many times it was handed on after a process died
// with it ("h:ID"), and whether the process that had it last released it
// as it stopped cleanly ("r:ID"), with the same TTL. The sorted set is as an earlier build wrote it, which reads it
// still and ignores the hash; an item such a build keeps has no "t:" until
// first handed on here, and one it removes leaves its fields in the hash
// until the hash expires.

// keepScript: KEYS owner, value, inbox, meta; ARGV "TOKEN:OWNER", v, max,
// ttl in ms, then id, data and taken (unix ms, 0 not known) of each item.
// Returns -1 when the lease is not current (nothing written), else how many
// of the oldest items were dropped past max.
var keepScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local old = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > old then redis.call('SET', KEYS[2], ARGV[2]) end
if #ARGV < 5 then return 0 end
for i = 5, #ARGV, 3 do
  redis.call('ZADD', KEYS[3], ARGV[i], ARGV[i + 1])
  if tonumber(ARGV[i + 2]) > 0 then redis.call('HSETNX', KEYS[4], 't:' .. ARGV[i], ARGV[i + 2]) end
end
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('PEXPIRE', KEYS[4], ARGV[4])
local over = redis.call('ZCARD', KEYS[3]) - tonumber(ARGV[3])
if over > 0 then
  local gone = redis.call('ZPOPMIN', KEYS[3], over)
  for i = 2, #gone, 2 do
    redis.call('HDEL', KEYS[4], 't:' .. gone[i], 'h:' .. gone[i], 'r:' .. gone[i])
  end
  return over
end
return 0
`)

// inboxScript: KEYS inbox, meta. Returns the items, with their ids, then
// the meta hash's fields and values.
var inboxScript = goredis.NewScript(`
local items = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local meta = redis.call('HGETALL', KEYS[2])
return {items, meta}
`)

// removeScript: KEYS inbox, meta; ARGV the ids.
var removeScript = goredis.NewScript(`
for i = 1, #ARGV do
  redis.call('ZREMRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])
  redis.call('HDEL', KEYS[2], 't:' .. ARGV[i], 'h:' .. ARGV[i], 'r:' .. ARGV[i])
end
return 0
`)

// handOnScript: KEYS inbox, meta; ARGV now (unix ms), ttl in ms, the ids.
// An item released by a clean stop is handed on without a count: its
// release is used up.
var handOnScript = goredis.NewScript(`
local n = 0
for i = 3, #ARGV do
  if redis.call('ZCOUNT', KEYS[1], ARGV[i], ARGV[i]) > 0 then
    if redis.call('HDEL', KEYS[2], 'r:' .. ARGV[i]) == 0 then
      redis.call('HINCRBY', KEYS[2], 'h:' .. ARGV[i], 1)
    end
    redis.call('HSETNX', KEYS[2], 't:' .. ARGV[i], ARGV[1])
    n = n + 1
  end
end
if n > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]) end
return n
`)

// inboxReleaseScript: KEYS inbox, meta; ARGV ttl in ms, the ids.
var inboxReleaseScript = goredis.NewScript(`
local n = 0
for i = 2, #ARGV do
  if redis.call('ZCOUNT', KEYS[1], ARGV[i], ARGV[i]) > 0 then
    redis.call('HSET', KEYS[2], 'r:' .. ARGV[i], '1')
    n = n + 1
  end
end
if n > 0 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return n
`)

// inboxTTL is how long an inbox outlives its last write.
const inboxTTL = store.DefaultDedupeTTL

// AdvanceFencedKeeping raises the job's value name to v and keeps items in
// its inbox, in one script, while l is its current lease.
func (s *Store) AdvanceFencedKeeping(ctx context.Context, l store.Lease, name string, v int64, items []store.InboxItem, max int) (bool, int, error) {
	if max < 1 {
		return false, 0, fmt.Errorf("inbox of %s: want room for one item at least, not %d", l.Job, max)
	}
	keys := []string{s.leaseKey(l.Job, "owner"), s.leaseKey(l.Job, "v:"+name), s.leaseKey(l.Job, "inbox"), s.leaseKey(l.Job, "inbox-meta")}
	args := make([]any, 0, 4+3*len(items))
	args = append(args, leaseValue(l), strconv.FormatInt(v, 10), strconv.Itoa(max), strconv.FormatInt(inboxTTL.Milliseconds(), 10))
	for _, it := range items {
		taken := int64(0)
		if !it.Taken.IsZero() {
			taken = it.Taken.UnixMilli()
		}
		args = append(args, strconv.FormatInt(it.ID, 10), it.Data, strconv.FormatInt(taken, 10))
	}
	n, err := keepScript.Run(ctx, s.c, keys, args...).Int64()
	if err != nil {
		return false, 0, fmt.Errorf("fenced write %s %s: %w", l.Job, name, err)
	}
	if n < 0 {
		return false, 0, nil
	}
	return true, int(n), nil
}

// InboxItems returns the job's inbox, by id.
func (s *Store) InboxItems(ctx context.Context, job string) ([]store.InboxItem, error) {
	res, err := inboxScript.Run(ctx, s.c, []string{s.leaseKey(job, "inbox"), s.leaseKey(job, "inbox-meta")}).Slice()
	if err != nil {
		return nil, fmt.Errorf("read the inbox of %s: %w", job, err)
	}
	if len(res) != 2 {
		return nil, fmt.Errorf("read the inbox of %s: %d parts in the answer, want 2", job, len(res))
	}
	vals, _ := res[0].([]any)
	metaVals, _ := res[1].([]any)
	meta := make(map[string]string, len(metaVals)/2)
	for i := 0; i+1 < len(metaVals); i += 2 {
		k, _ := metaVals[i].(string)
		v, _ := metaVals[i+1].(string)
		meta[k] = v
	}
	items := make([]store.InboxItem, 0, len(vals)/2)
	for i := 0; i+1 < len(vals); i += 2 {
		data, _ := vals[i].(string)
		score, _ := vals[i+1].(string)
		id, err := strconv.ParseFloat(score, 64)
		if err != nil {
			return nil, fmt.Errorf("read the inbox of %s: item id %q: %w", job, score, err)
		}
		it := store.InboxItem{ID: int64(id), Data: []byte(data)}
		key := strconv.FormatInt(it.ID, 10)
		if ms, err := strconv.ParseInt(meta["t:"+key], 10, 64); err == nil && ms > 0 {
			it.Taken = time.UnixMilli(ms)
		}
		if n, err := strconv.Atoi(meta["h:"+key]); err == nil {
			it.HandedOn = n
		}
		items = append(items, it)
	}
	return items, nil
}

// HandingOn counts one more hand-on for the items of ids in the job's inbox.
func (s *Store) HandingOn(ctx context.Context, job string, ids []int64, now time.Time) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 2+len(ids))
	args = append(args, strconv.FormatInt(now.UnixMilli(), 10), strconv.FormatInt(inboxTTL.Milliseconds(), 10))
	for _, id := range ids {
		args = append(args, strconv.FormatInt(id, 10))
	}
	if err := handOnScript.Run(ctx, s.c, []string{s.leaseKey(job, "inbox"), s.leaseKey(job, "inbox-meta")}, args...).Err(); err != nil {
		return fmt.Errorf("count the hand-ons in the inbox of %s: %w", job, err)
	}
	return nil
}

// ReleaseInbox marks the items of ids in the job's inbox as released: their
// next hand-on is not counted.
func (s *Store) ReleaseInbox(ctx context.Context, job string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, 0, 1+len(ids))
	args = append(args, strconv.FormatInt(inboxTTL.Milliseconds(), 10))
	for _, id := range ids {
		args = append(args, strconv.FormatInt(id, 10))
	}
	if err := inboxReleaseScript.Run(ctx, s.c, []string{s.leaseKey(job, "inbox"), s.leaseKey(job, "inbox-meta")}, args...).Err(); err != nil {
		return fmt.Errorf("release the items in the inbox of %s: %w", job, err)
	}
	return nil
}

// RemoveFromInbox removes the items of ids from the job's inbox.
func (s *Store) RemoveFromInbox(ctx context.Context, job string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = strconv.FormatInt(id, 10)
	}
	if err := removeScript.Run(ctx, s.c, []string{s.leaseKey(job, "inbox"), s.leaseKey(job, "inbox-meta")}, args...).Err(); err != nil {
		return fmt.Errorf("remove from the inbox of %s: %w", job, err)
	}
	return nil
}

// AdvanceFencedKeeping asks Redis, as AdvanceFenced does: within
// EventTimeout, and not at all while Redis is away (the poller goes on, its
// updates kept in its process only).
func (f *Fallback) AdvanceFencedKeeping(ctx context.Context, l store.Lease, name string, v int64, items []store.InboxItem, max int) (bool, int, error) {
	if f.degraded.Load() {
		return false, 0, fmt.Errorf("fenced write %s %s: %w", l.Job, name, ErrUnavailable)
	}
	// On the wall clock: the deadline of a call to Redis.
	asked := time.Now()
	bctx, cancel := f.bounded(ctx)
	ok, dropped, err := f.primary.AdvanceFencedKeeping(bctx, l, name, v, items, max)
	err = f.late(ctx, bctx, err)
	if !f.readLate(ctx, bctx, err, asked) {
		f.outage(ctx, err)
	}
	cancel()
	return ok, dropped, err
}

// InboxItems asks Redis.
func (f *Fallback) InboxItems(ctx context.Context, job string) ([]store.InboxItem, error) {
	return f.primary.InboxItems(ctx, job)
}

// RemoveFromInbox asks Redis, within EventTimeout: an item not removed is
// handed on again by a next owner, and dropped there as a duplicate.
func (f *Fallback) RemoveFromInbox(ctx context.Context, job string, ids []int64) error {
	if f.degraded.Load() {
		return fmt.Errorf("remove from the inbox of %s: %w", job, ErrUnavailable)
	}
	bctx, cancel := f.bounded(ctx)
	defer cancel()
	return f.late(ctx, bctx, f.primary.RemoveFromInbox(bctx, job, ids))
}

// ReleaseInbox asks Redis, within EventTimeout.
func (f *Fallback) ReleaseInbox(ctx context.Context, job string, ids []int64) error {
	if f.degraded.Load() {
		return fmt.Errorf("release the items in the inbox of %s: %w", job, ErrUnavailable)
	}
	bctx, cancel := f.bounded(ctx)
	defer cancel()
	return f.late(ctx, bctx, f.primary.ReleaseInbox(bctx, job, ids))
}

// HandingOn asks Redis, within EventTimeout.
func (f *Fallback) HandingOn(ctx context.Context, job string, ids []int64, now time.Time) error {
	if f.degraded.Load() {
		return fmt.Errorf("count the hand-ons in the inbox of %s: %w", job, ErrUnavailable)
	}
	bctx, cancel := f.bounded(ctx)
	defer cancel()
	return f.late(ctx, bctx, f.primary.HandingOn(bctx, job, ids, now))
}
