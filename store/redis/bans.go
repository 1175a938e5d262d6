package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.BanKeeper = (*Store)(nil)
	_ store.BanKeeper = (*Fallback)(nil)
)

// The timed bans are a hash, key to the ban as JSON, and a sorted set, key
// to its Until in Unix milliseconds; both share a hash tag. The bans never
// due (for good) are in a third, key to when they may be dropped (DropAt):
// their Until stays the one the due set gives them, never due, so that a
// process of an older version, which knows nothing of this one, never reads
// one as a ban to lift. Such a process may replace or forget a ban without
// this set knowing: DropBans reads the ban itself before dropping it.

// putBanScript: KEYS hash, due, drop; ARGV key, JSON, until, drop (” for
// none). Returns the JSON of the ban replaced, an empty string for none.
var putBanScript = goredis.NewScript(`
local prev = redis.call('HGET', KEYS[1], ARGV[1]) or ''
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
return prev
`)

// putBanOverScript: KEYS hash, due, drop; ARGV key, JSON, until, drop (”
// for none), the JSON of the ban it replaces as it was read (” for none).
// Returns 1 when written, 0 when the ban kept is no longer the one read:
// another process wrote meanwhile, and its ban is read again.
var putBanOverScript = goredis.NewScript(`
local prev = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if prev ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if ARGV[4] == '' then
  redis.call('ZREM', KEYS[3], ARGV[1])
else
  redis.call('ZADD', KEYS[3], ARGV[4], ARGV[1])
end
return 1
`)

// dueBansScript: KEYS hash, due; ARGV now, max (0: all). Returns the JSON of
// the bans due, oldest Until first.
var dueBansScript = goredis.NewScript(`
local keys
if tonumber(ARGV[2]) > 0 then
  keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
else
  keys = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
end
local out = {}
for _, k in ipairs(keys) do
  local v = redis.call('HGET', KEYS[1], k)
  if v then table.insert(out, v) end
end
return out
`)

// removeBanScript: KEYS hash, due, drop; ARGV key, until in milliseconds
// (” for any), until as its JSON says it. Returns 1 when removed. A ban the
// platform ends is never due (its score is a ban for good's): its end is
// read from its JSON, and a ban for good's end is not its.
var removeBanScript = goredis.NewScript(`
local s = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not s then return 0 end
if ARGV[2] ~= '' then
  local v = redis.call('HGET', KEYS[1], ARGV[1])
  if v and cjson.decode(v)['ends'] == true then
    if cjson.decode(v)['until'] ~= ARGV[3] then return 0 end
  elseif tonumber(s) ~= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`)

// removeKeptBanScript: KEYS hash, due, drop; ARGV key, the ban's JSON as
// PutBan writes it. Returns 1 when removed: only that ban, not another one
// with the same end (every ban for good has the same).
var removeKeptBanScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`)

// dropCandidatesScript: KEYS hash, due, drop; ARGV now, max, the due score
// of a ban never due. Returns the keys whose drop time is not after now,
// each followed by its ban's JSON (” when none is kept). The bans never due
// that the drop set does not know (kept by an older process, which knows
// nothing of it) go in it first, at once due to be read: max of them at a
// time, the first in the due set, whose place the dropped ones leave.
var dropCandidatesScript = goredis.NewScript(`
for _, k in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], ARGV[3], '+inf', 'LIMIT', 0, ARGV[2])) do
  if not redis.call('ZSCORE', KEYS[3], k) then redis.call('ZADD', KEYS[3], 0, k) end
end
local keys = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, ARGV[2])
local out = {}
for _, k in ipairs(keys) do
  table.insert(out, k)
  table.insert(out, redis.call('HGET', KEYS[1], k) or '')
end
return out
`)

// dropBanScript: KEYS hash, due, drop; ARGV key, JSON as read (” for
// none), then ” to drop the ban, its drop time to put it off, or '-' when
// it is no longer one to drop. Nothing is done when the ban changed since it
// was read. Returns 1 when the ban was dropped.
var dropBanScript = goredis.NewScript(`
local v = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if v ~= ARGV[2] then return 0 end
if v == '' or ARGV[3] == '-' then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
if ARGV[3] ~= '' then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  return 0
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
`)

// keptBanScript: KEYS hash, due; ARGV key. Returns the JSON of the ban, nil
// for none. (A script, as the other calls of the bans: the store's Client
// declares no HGET.)
var keptBanScript = goredis.NewScript(`return redis.call('HGET', KEYS[1], ARGV[1])`)

func (s *Store) banKeys() []string {
	return []string{s.cfg.prefix + ":{bans}:all", s.cfg.prefix + ":{bans}:due", s.cfg.prefix + ":{bans}:drop"}
}

// PutBan records a timed ban, replacing the one kept under its key. Its
// Until is kept to the millisecond.
func (s *Store) PutBan(ctx context.Context, b store.TimedBan) (store.TimedBan, bool, error) {
	var prev store.TimedBan
	args, err := banArgs(b)
	if err != nil {
		return prev, false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
	}
	old, err := putBanScript.Run(ctx, s.c, s.banKeys(), args...).Text()
	if err != nil {
		return prev, false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
	}
	if old == "" {
		return prev, false, nil
	}
	if err := json.Unmarshal([]byte(old), &prev); err != nil {
		return prev, false, fmt.Errorf("redis ban %s: the one replaced: %w", b.Key(), err)
	}
	return prev, true, nil
}

// banArgs are the ARGV of putBanScript for b: its key, its JSON, its score
// in the due set and its drop time (” for none).
func banArgs(b store.TimedBan) ([]any, error) {
	b.Until = time.UnixMilli(b.Until.UnixMilli()).UTC()
	raw, err := banJSON(b)
	if err != nil {
		return nil, err
	}
	drop := ""
	if at, ok := b.DropAt(); ok {
		drop = millis(at)
	}
	// A ban not due is so for every process, of this version or an older
	// one: its score is a ban for good's.
	due := millis(b.Until)
	if !b.Due() {
		due = millis(store.ForGoodUntil)
	}
	return []any{b.Key(), raw, due, drop}, nil
}

// putBanUnlessLater writes b unless the ban kept under its key was given
// after it, in one check-and-set against the book: the ban is read, and
// written only if the book still holds what was read, read again else. A
// ban another process gives between the read and the write is never
// undone. later says the ban kept was given after b, and b not written.
func (s *Store) putBanUnlessLater(ctx context.Context, b store.TimedBan) (later bool, err error) {
	args, err := banArgs(b)
	if err != nil {
		return false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
	}
	for {
		raw, err := keptBanScript.Run(ctx, s.c, s.banKeys(), b.Key()).Text()
		if errors.Is(err, goredis.Nil) {
			raw, err = "", nil
		}
		if err != nil {
			return false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
		}
		var kept store.TimedBan
		// A ban kept that does not read is replaced, as PutBan would.
		if raw != "" && json.Unmarshal([]byte(raw), &kept) == nil && kept.Started.After(b.Started) {
			return true, nil
		}
		n, err := putBanOverScript.Run(ctx, s.c, s.banKeys(), append(args, raw)...).Int64()
		if err != nil {
			return false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
		}
		if n == 1 {
			return false, nil
		}
		if err := ctx.Err(); err != nil {
			return false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
		}
	}
}

// banJSON is b as the book keeps it: its Until to the millisecond.
func banJSON(b store.TimedBan) ([]byte, error) {
	b.Until = time.UnixMilli(b.Until.UnixMilli()).UTC()
	return json.Marshal(b)
}

// DueBans returns the bans due by now, oldest Until first.
func (s *Store) DueBans(ctx context.Context, now time.Time, limit int) ([]store.TimedBan, error) {
	res, err := dueBansScript.Run(ctx, s.c, s.banKeys(), millis(now), max(limit, 0)).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("redis due bans: %w", err)
	}
	out := make([]store.TimedBan, 0, len(res))
	for _, raw := range res {
		var b store.TimedBan
		if err := json.Unmarshal([]byte(raw), &b); err != nil {
			return out, fmt.Errorf("redis due bans: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}

// KeptBan returns the ban kept under key.
func (s *Store) KeptBan(ctx context.Context, key string) (store.TimedBan, bool, error) {
	var b store.TimedBan
	raw, err := keptBanScript.Run(ctx, s.c, s.banKeys(), key).Text()
	if errors.Is(err, goredis.Nil) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("redis ban %s: %w", key, err)
	}
	if err := json.Unmarshal([]byte(raw), &b); err != nil {
		return b, false, fmt.Errorf("redis ban %s: %w", key, err)
	}
	return b, true, nil
}

// RemoveBan forgets a ban, if it was not replaced when until is set.
func (s *Store) RemoveBan(ctx context.Context, key string, until time.Time) (bool, error) {
	u, j := "", ""
	if !until.IsZero() {
		// as PutBan keeps it, to the millisecond, and as JSON says it
		until = time.UnixMilli(until.UnixMilli()).UTC()
		u, j = millis(until), until.Format(time.RFC3339Nano)
	}
	n, err := removeBanScript.Run(ctx, s.c, s.banKeys(), key, u, j).Int64()
	if err != nil {
		return false, fmt.Errorf("redis unban %s: %w", key, err)
	}
	return n == 1, nil
}

// RemoveKeptBan forgets b if it is still the ban kept under its key: its
// JSON, as PutBan wrote it, is the one kept.
func (s *Store) RemoveKeptBan(ctx context.Context, b store.TimedBan) (bool, error) {
	raw, err := banJSON(b)
	if err != nil {
		return false, fmt.Errorf("redis unban %s: %w", b.Key(), err)
	}
	n, err := removeKeptBanScript.Run(ctx, s.c, s.banKeys(), b.Key(), raw).Int64()
	if err != nil {
		return false, fmt.Errorf("redis unban %s: %w", b.Key(), err)
	}
	return n == 1, nil
}

// dropBansTake bounds the bans one DropBans reads when it is given no limit.
const dropBansTake = 1000

// DropBans forgets the bans for good kept longer than store.ForGoodKept:
// each as it was read, so that one replaced meanwhile is kept.
func (s *Store) DropBans(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = dropBansTake
	}
	res, err := dropCandidatesScript.Run(ctx, s.c, s.banKeys(), millis(now), limit, millis(store.ForGoodUntil)).StringSlice()
	if err != nil {
		return 0, fmt.Errorf("redis drop bans: %w", err)
	}
	n := 0
	for i := 0; i+1 < len(res); i += 2 {
		key, raw := res[i], res[i+1]
		// '-': no ban kept, or one that is not for good (replaced by an
		// older process, which does not keep the drop times).
		next := "-"
		var b store.TimedBan
		if raw != "" && json.Unmarshal([]byte(raw), &b) == nil {
			if at, ok := b.DropAt(); ok {
				next = ""
				if at.After(now) {
					next = millis(at)
				}
			}
		}
		dropped, err := dropBanScript.Run(ctx, s.c, s.banKeys(), key, raw, next).Int64()
		if err != nil {
			return n, fmt.Errorf("redis drop ban %s: %w", key, err)
		}
		n += int(dropped)
	}
	return n, nil
}

var _ store.BanWriteBack = (*Fallback)(nil)

// PutBanLater keeps b until Redis answers again: see store.BanWriteBack. Of
// two bans of a member, the later one is kept. It is kept in this process
// only: written by the next call of the book, or by the loop that waits for
// Redis to come back.
func (f *Fallback) PutBanLater(b store.TimedBan) {
	f.banMu.Lock()
	defer f.banMu.Unlock()
	if cur, ok := f.laterBans[b.Key()]; ok && cur.Started.After(b.Started) {
		return
	}
	if f.laterBans == nil {
		f.laterBans = make(map[string]store.TimedBan)
	}
	f.laterBans[b.Key()] = b
	f.spool.put(spoolBanKey(b.Key()), spoolRecord{Ban: &b})
	f.log.Warn("a ban given while redis did not take it: kept here, written to redis when it answers again",
		"platform", b.Event.Platform, "space", b.Event.Space, "author", b.Event.Author.ID, "for_good", b.ForGood())
}

// bansWaiting is how many bans wait for Redis (PutBanLater).
func (f *Fallback) bansWaiting() int {
	f.banMu.Lock()
	defer f.banMu.Unlock()
	return len(f.laterBans)
}

// writeBans writes the bans that wait for Redis (with those of the spools
// of stopped processes, taken over first), each unless a ban given
// after it is kept there by then (another process's), even one given while
// it is written (putBanUnlessLater). It returns the first
// error: the book is not read or written before they are in it, so that no
// lift reads the entry one of them replaces.
func (f *Fallback) writeBans(ctx context.Context) error {
	// A process beside this one that stopped with bans waiting for Redis
	// left them in its spool: taken over first, they are written before
	// this process reads the book.
	f.adoptSpools()
	if f.bansWaiting() == 0 {
		return nil
	}
	f.banWrite.Lock()
	defer f.banWrite.Unlock()
	f.banMu.Lock()
	bans := make([]store.TimedBan, 0, len(f.laterBans))
	for _, b := range f.laterBans {
		bans = append(bans, b)
	}
	f.banMu.Unlock()
	for _, b := range bans {
		later, err := f.primary.putBanUnlessLater(ctx, b)
		if err != nil && (unavailable(err) || ctx.Err() != nil) {
			return fmt.Errorf("a ban given while redis was away, not written yet: %w", err)
		}
		if err != nil {
			// Redis answered, and refused it: tried again, it would
			// hold the book for good. Dropped, and said.
			f.log.Error("a ban given while redis was away, refused by redis: dropped; the member's earlier timed ban may lift it",
				"platform", b.Event.Platform, "space", b.Event.Space, "author", b.Event.Author.ID, "err", err)
			f.dropLater(b)
			continue
		}
		f.dropLater(b)
		f.log.Info("a ban given while redis was away written to it", "platform", b.Event.Platform, "space", b.Event.Space,
			"author", b.Event.Author.ID, "for_good", b.ForGood(), "kept_later", later)
	}
	return nil
}

// dropLater forgets b, written (or refused), unless a later ban of the
// member waits in its place.
func (f *Fallback) dropLater(b store.TimedBan) {
	f.banMu.Lock()
	defer f.banMu.Unlock()
	if cur, ok := f.laterBans[b.Key()]; ok && store.SameBan(cur, b) {
		delete(f.laterBans, b.Key())
		f.spool.drop(spoolBanKey(b.Key()))
	}
}

// forgetLater forgets the ban of key that waits for Redis: the member was
// unbanned since.
func (f *Fallback) forgetLater(key string) {
	f.banMu.Lock()
	defer f.banMu.Unlock()
	if _, ok := f.laterBans[key]; ok {
		delete(f.laterBans, key)
		f.spool.drop(spoolBanKey(key))
	}
}

// PutBan writes to Redis: a ban's end kept only here would not be lifted by
// the process that runs the check, nor after a restart. The bans waiting
// for Redis go first.
func (f *Fallback) PutBan(ctx context.Context, b store.TimedBan) (store.TimedBan, bool, error) {
	if err := f.writeBans(ctx); err != nil {
		return store.TimedBan{}, false, fmt.Errorf("redis ban %s: %w", b.Key(), err)
	}
	return f.primary.PutBan(ctx, b)
}

// DueBans reads Redis, once the bans waiting for it are there: one of them
// replaces a ban that would be due.
func (f *Fallback) DueBans(ctx context.Context, now time.Time, limit int) ([]store.TimedBan, error) {
	if err := f.writeBans(ctx); err != nil {
		return nil, fmt.Errorf("redis due bans: %w", err)
	}
	return f.primary.DueBans(ctx, now, limit)
}

// RemoveBan writes to Redis. An unban (no end) forgets the ban of key that
// waits for Redis, if any, first.
func (f *Fallback) RemoveBan(ctx context.Context, key string, until time.Time) (bool, error) {
	if until.IsZero() {
		f.forgetLater(key)
	}
	if err := f.writeBans(ctx); err != nil {
		return false, fmt.Errorf("redis unban %s: %w", key, err)
	}
	return f.primary.RemoveBan(ctx, key, until)
}

// RemoveKeptBan writes to Redis, after the bans waiting for it.
func (f *Fallback) RemoveKeptBan(ctx context.Context, b store.TimedBan) (bool, error) {
	if err := f.writeBans(ctx); err != nil {
		return false, fmt.Errorf("redis unban %s: %w", b.Key(), err)
	}
	return f.primary.RemoveKeptBan(ctx, b)
}

// DropBans writes to Redis, after the bans waiting for it.
func (f *Fallback) DropBans(ctx context.Context, now time.Time, limit int) (int, error) {
	if err := f.writeBans(ctx); err != nil {
		return 0, fmt.Errorf("redis drop bans: %w", err)
	}
	return f.primary.DropBans(ctx, now, limit)
}

// KeptBan reads Redis, after the bans waiting for it.
func (f *Fallback) KeptBan(ctx context.Context, key string) (store.TimedBan, bool, error) {
	if err := f.writeBans(ctx); err != nil {
		return store.TimedBan{}, false, fmt.Errorf("redis ban %s: %w", key, err)
	}
	return f.primary.KeptBan(ctx, key)
}

var (
	_ store.BanLister = (*Store)(nil)
	_ store.BanLister = (*Fallback)(nil)
)

// bansOnScript: KEYS hash; ARGV cursor, pattern, count. Returns HSCAN's
// answer: the next cursor, then keys and JSONs in turn. (A script, as the
// other calls of the bans: the store's Client declares no HSCAN.)
var bansOnScript = goredis.NewScript(`
return redis.call('HSCAN', KEYS[1], ARGV[1], 'MATCH', ARGV[2], 'COUNT', ARGV[3])
`)

// BansOn reads the book's hash with HSCAN, matching the keys of platform's
// members: one key, so Cluster-safe, and each call bounded. Its cursor is
// Redis's ("0" said as "").
func (s *Store) BansOn(ctx context.Context, platform, cursor string, limit int) ([]store.TimedBan, string, error) {
	if limit <= 0 {
		limit = 100
	}
	res, err := bansOnScript.Run(ctx, s.c, s.banKeys()[:1], cmp.Or(cursor, "0"), globEscape(platform)+"|*", limit).Slice()
	if err != nil {
		return nil, "", fmt.Errorf("redis bans of %s: %w", platform, err)
	}
	if len(res) != 2 {
		return nil, "", fmt.Errorf("redis bans of %s: HSCAN answered %d parts", platform, len(res))
	}
	next, _ := res[0].(string)
	if next == "0" {
		next = ""
	}
	items, _ := res[1].([]any)
	out := make([]store.TimedBan, 0, len(items)/2)
	for i := 1; i < len(items); i += 2 {
		raw, _ := items[i].(string)
		var b store.TimedBan
		if json.Unmarshal([]byte(raw), &b) != nil {
			// Not one this version wrote: left for the calls that name
			// it, rather than stop the read of all the others.
			continue
		}
		out = append(out, b)
	}
	return out, next, nil
}

// globEscape quotes the characters a MATCH pattern gives a meaning to.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// BansOn reads Redis, after the bans waiting for it.
func (f *Fallback) BansOn(ctx context.Context, platform, cursor string, limit int) ([]store.TimedBan, string, error) {
	if err := f.writeBans(ctx); err != nil {
		return nil, "", fmt.Errorf("redis bans of %s: %w", platform, err)
	}
	return f.primary.BansOn(ctx, platform, cursor, limit)
}
