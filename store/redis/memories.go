package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var (
	_ store.CauseKeeper    = (*Store)(nil)
	_ store.CauseKeeper    = (*Fallback)(nil)
	_ store.CallKeeper     = (*Store)(nil)
	_ store.CallKeeper     = (*Fallback)(nil)
	_ store.MessageCases   = (*Store)(nil)
	_ store.MessageCases   = (*Fallback)(nil)
	_ store.CallsWithCases = (*Store)(nil)
	_ store.CallsWithCases = (*Fallback)(nil)
	_ store.ToldKeeper     = (*Store)(nil)
	_ store.ToldKeeper     = (*Fallback)(nil)
)

// A cause's card is a hash under its own tag: lead, since (Unix ms),
// posted, n, shown, closed (0 or 1), latest (the JSON list of
// store.CauseJoin); beside it, the set of the ids of the cases it counts,
// so that a case is counted once. Both expire twice the window after the
// card was claimed.

// cardFields returns the card's fields as the scripts answer them, after
// the turn.
const cardFields = `
local function card(turn)
  local f = redis.call('HMGET', KEYS[1], 'lead', 'since', 'posted', 'n', 'shown', 'closed', 'latest')
  return {turn, f[1], f[2], f[3], f[4], f[5], f[6], f[7]}
end
`

// joinCauseScript: KEYS card, the ids of its cases (a set); ARGV case,
// join JSON, now ms, window ms, max latest. Returns {turn, fields...}: turn
// 0 post, 1 counted, 2 wait.
var joinCauseScript = goredis.NewScript(cardFields + `
local f = redis.call('HMGET', KEYS[1], 'lead', 'since', 'posted', 'closed')
local now, window = tonumber(ARGV[3]), tonumber(ARGV[4])
if (not f[1]) or f[4] == '1' or now - tonumber(f[2]) >= window then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('HSET', KEYS[1], 'lead', ARGV[1], 'since', ARGV[3], 'posted', '0', 'n', '1', 'shown', '1', 'closed', '0', 'latest', '[]')
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('PEXPIRE', KEYS[1], 2 * window)
  redis.call('PEXPIRE', KEYS[2], 2 * window)
  return card(0)
end
if f[1] == ARGV[1] then
  if f[3] == '1' then return card(1) end
  return card(0)
end
if f[3] ~= '1' then return card(2) end
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return card(1) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
local raw = redis.call('HGET', KEYS[1], 'latest')
local latest = {}
if raw and raw ~= '[]' and raw ~= '{}' then latest = cjson.decode(raw) end
table.insert(latest, cjson.decode(ARGV[2]))
while #latest > tonumber(ARGV[5]) do table.remove(latest, 1) end
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSET', KEYS[1], 'latest', cjson.encode(latest))
return card(1)
`)

// causePostedScript: KEYS card; ARGV lead.
var causePostedScript = goredis.NewScript(`
if redis.call('HGET', KEYS[1], 'lead') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'posted', '1')
end
return 0
`)

// showCauseScript: KEYS card. Returns {1, fields...} when the count is to
// be shown (and marks it shown), {0} otherwise.
var showCauseScript = goredis.NewScript(cardFields + `
local f = redis.call('HMGET', KEYS[1], 'posted', 'closed', 'n', 'shown')
if f[1] ~= '1' or f[2] == '1' or f[3] == f[4] then return {0} end
redis.call('HSET', KEYS[1], 'shown', f[3])
return card(1)
`)

// closeCauseScript: KEYS card; ARGV lead. Returns {1, fields...} when
// lead's, closed, {0} otherwise.
var closeCauseScript = goredis.NewScript(cardFields + `
if redis.call('HGET', KEYS[1], 'lead') ~= ARGV[1] then return {0} end
redis.call('HSET', KEYS[1], 'closed', '1')
return card(1)
`)

// causeKey are the hash of a cause's card and the set of its cases' ids: the scope (a desk and a cause,
// which names a place and a refusal, of any length) as a digest.
func (s *Store) causeKey(scope string) []string {
	sum := sha256.Sum256([]byte(scope))
	tag := s.cfg.prefix + ":{cause:" + hex.EncodeToString(sum[:16]) + "}"
	return []string{tag + ":card", tag + ":cases"}
}

// JoinCause is store.CauseKeeper's: one script, one round trip.
func (s *Store) JoinCause(ctx context.Context, scope string, j store.CauseJoin, now time.Time, window time.Duration) (store.CauseCard, store.CauseTurn, error) {
	raw, err := json.Marshal(j)
	if err != nil {
		return store.CauseCard{}, 0, fmt.Errorf("redis cause card: %w", err)
	}
	res, err := joinCauseScript.Run(ctx, s.c, s.causeKey(scope), j.Case, raw, now.UnixMilli(), max(window.Milliseconds(), 1), store.MaxCauseLatest).Slice()
	if err != nil {
		return store.CauseCard{}, 0, fmt.Errorf("redis cause card: %w", err)
	}
	turn, card, err := readCause(res)
	if err != nil {
		return store.CauseCard{}, 0, fmt.Errorf("redis cause card: %w", err)
	}
	return card, store.CauseTurn(turn), nil
}

// CausePosted is store.CauseKeeper's.
func (s *Store) CausePosted(ctx context.Context, scope, lead string) error {
	if err := causePostedScript.Run(ctx, s.c, s.causeKey(scope), lead).Err(); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis cause card posted: %w", err)
	}
	return nil
}

// ShowCause is store.CauseKeeper's.
func (s *Store) ShowCause(ctx context.Context, scope string) (store.CauseCard, bool, error) {
	return s.causeStep(ctx, showCauseScript, scope)
}

// CloseCause is store.CauseKeeper's.
func (s *Store) CloseCause(ctx context.Context, scope, lead string) (store.CauseCard, bool, error) {
	return s.causeStep(ctx, closeCauseScript, scope, lead)
}

func (s *Store) causeStep(ctx context.Context, script *goredis.Script, scope string, args ...any) (store.CauseCard, bool, error) {
	res, err := script.Run(ctx, s.c, s.causeKey(scope), args...).Slice()
	if err != nil {
		return store.CauseCard{}, false, fmt.Errorf("redis cause card: %w", err)
	}
	if len(res) < 2 {
		return store.CauseCard{}, false, nil
	}
	_, card, err := readCause(res)
	if err != nil {
		return store.CauseCard{}, false, fmt.Errorf("redis cause card: %w", err)
	}
	return card, true, nil
}

// readCause reads a script's {turn, lead, since, posted, n, shown, closed,
// latest}.
func readCause(res []any) (int64, store.CauseCard, error) {
	if len(res) != 8 {
		return 0, store.CauseCard{}, fmt.Errorf("unexpected answer of %d values", len(res))
	}
	turn, _ := res[0].(int64)
	str := func(i int) string { v, _ := res[i].(string); return v }
	num := func(i int) int64 { n, _ := strconv.ParseInt(str(i), 10, 64); return n }
	card := store.CauseCard{
		Lead:   str(1),
		Since:  time.UnixMilli(num(2)).UTC(),
		Posted: str(3) == "1",
		N:      int(num(4)),
		Shown:  int(num(5)),
		Closed: str(6) == "1",
	}
	if l := str(7); l != "" && l != "[]" && l != "{}" {
		if err := json.Unmarshal([]byte(l), &card.Latest); err != nil {
			return 0, store.CauseCard{}, fmt.Errorf("the card's latest cases: %w", err)
		}
	}
	return turn, card, nil
}

// callKey is where the action key's record is kept.
func (s *Store) callKey(key string) string { return s.cfg.prefix + ":{call:" + key + "}" }

// Call is store.CallKeeper's: one GET.
func (s *Store) Call(ctx context.Context, key string) (store.CallRecord, bool, error) {
	v, err := s.c.Get(ctx, s.callKey(key)).Result()
	if errors.Is(err, goredis.Nil) {
		return store.CallRecord{}, false, nil
	}
	if err != nil {
		return store.CallRecord{}, false, fmt.Errorf("redis call %s: %w", key, err)
	}
	r, err := readCall(v)
	if err != nil {
		return store.CallRecord{}, false, fmt.Errorf("redis call %s: %w", key, err)
	}
	return r, true, nil
}

// KeepCall is store.CallKeeper's: one SET, expiring ttl after r.At.
func (s *Store) KeepCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) error {
	p := s.c.Pipeline()
	p.Set(ctx, s.callKey(key), callValue(r), max(ttl, time.Millisecond))
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis keep call %s: %w", key, err)
	}
	return nil
}

// claimCallScript: KEYS the call; ARGV value, at ms, ttl ms, claimer (the
// value's STATE/BY, before its time, or ""). Returns {1} when kept or kept already
// for that claimer, {0, value} of the record kept otherwise. The very value kept
// is the claimer's own: the client asked again after the answer was lost
// (go-redis tries again a command whose answer did not come); two claims
// of one key in the same millisecond are both given, as before the store
// kept them.
var claimCallScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then return {1} end
if cur and ARGV[4] ~= '' and string.match(cur, '^(.*):%d+$') == ARGV[4] then return {1} end
if cur then
  local at = tonumber(string.match(cur, ':(%d+)$'))
  local now = tonumber(ARGV[2])
  if at and math.abs(now - at) < tonumber(ARGV[3]) then return {0, cur} end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return {1}
`)

// ClaimCall is store.CallKeeper's: one script, in the shared pipeline with
// WithAutoPipeline (a warning claims its call in the event's flow).
func (s *Store) ClaimCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) (store.CallRecord, bool, error) {
	res, err := s.script(ctx, claimCallScript, []string{s.callKey(key)}, callValue(r), r.At.UnixMilli(), max(ttl.Milliseconds(), 1), claimer(r)).Slice()
	if err != nil {
		return store.CallRecord{}, false, fmt.Errorf("redis claim call %s: %w", key, err)
	}
	if n, _ := res[0].(int64); n == 1 || len(res) < 2 {
		return r, true, nil
	}
	v, _ := res[1].(string)
	kept, err := readCall(v)
	if err != nil {
		return store.CallRecord{}, false, fmt.Errorf("redis claim call %s: %w", key, err)
	}
	return kept, false, nil
}

// toldKey is the key of what's record of the state told to the desk.
func (s *Store) toldKey(what string) string { return s.cfg.prefix + ":{told:" + what + "}" }

// claimToldScript: KEYS the trouble's record; ARGV value (STATE|BY:MS),
// state, claimer (BY, or ""), at ms, ttl ms. Returns 1 when given: the
// record then holds state, in place of the previous one, in the same step;
// 0 when it holds state already, claimed by another within ttl of at.
var claimToldScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  local st, by, at = string.match(cur, '^(.*)|(.*):(%d+)$')
  if st == ARGV[2] and (ARGV[3] == '' or by ~= ARGV[3]) and math.abs(tonumber(ARGV[4]) - tonumber(at)) < tonumber(ARGV[5]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
return 1
`)

// ClaimTold is store.ToldKeeper's: one script on one key, which holds the
// state last told, so that claiming a state and forgetting the one before
// are one write.
func (s *Store) ClaimTold(ctx context.Context, what, state string, r store.CallRecord, ttl time.Duration) (bool, error) {
	at := r.At.UnixMilli()
	value := state + "|" + r.By + ":" + strconv.FormatInt(at, 10)
	n, err := s.script(ctx, claimToldScript, []string{s.toldKey(what)}, value, state, r.By, at, max(ttl.Milliseconds(), 1)).Int64()
	if err != nil {
		return false, fmt.Errorf("redis claim told %s %s: %w", what, state, err)
	}
	return n == 1, nil
}

// claimer is what the values r's claimer keeps are before their time
// (STATE/BY): "" when r names none.
func claimer(r store.CallRecord) string {
	if r.By == "" {
		return ""
	}
	v := callValue(r)
	return v[:strings.LastIndexByte(v, ':')]
}

// callValue is a call's record as Redis keeps it: STATE:MS, or
// STATE/BY:MS when it names its claimer (the time last, which the claim's
// script reads).
func callValue(r store.CallRecord) string {
	state := "unknown"
	if r.Done {
		state = "done"
	}
	if r.By != "" {
		state += "/" + r.By
	}
	return state + ":" + strconv.FormatInt(r.At.UnixMilli(), 10)
}

func readCall(v string) (store.CallRecord, error) {
	i := strings.LastIndexByte(v, ':')
	if i < 0 {
		return store.CallRecord{}, fmt.Errorf("unexpected value %q", v)
	}
	n, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil {
		return store.CallRecord{}, fmt.Errorf("unexpected value %q", v)
	}
	state, by, _ := strings.Cut(v[:i], "/")
	return store.CallRecord{At: time.UnixMilli(n).UTC(), Done: state == "done", By: by}, nil
}

// ClaimTold asks Redis, or the memory while it is away.
func (f *Fallback) ClaimTold(ctx context.Context, what, state string, r store.CallRecord, ttl time.Duration) (bool, error) {
	return shared(ctx, f, answersGiven,
		func(ctx context.Context) (bool, error) { return f.primary.ClaimTold(ctx, what, state, r, ttl) },
		func(ctx context.Context) (bool, error) { return f.local.ClaimTold(ctx, what, state, r, ttl) })
}

// What inMemory says is kept in memory.
const (
	causeCards   = "the desk's cause cards"
	answersGiven = "the answers given and the warnings"
)

// inMemory says, once a quarter of an hour at most, that what the instances
// share to avoid doubles is kept in this process's memory while Redis is
// away.
func (f *Fallback) inMemory(what string, err error) {
	logged := &f.sharedLogged[0]
	if what == answersGiven {
		logged = &f.sharedLogged[1]
	}
	// On the wall clock: log lines spaced in real time.
	if logged.Take(time.Now(), 15*time.Minute) {
		f.log.Warn("redis away: "+what+" kept in this process's memory; another instance, or this one after a restart, does not know them", "err", err)
	}
}

// shared runs op on Redis unless it is away, and on the memory store
// otherwise.
func shared[T any](ctx context.Context, f *Fallback, what string, primary, local func(context.Context) (T, error)) (T, error) {
	if !f.degraded.Load() {
		// Not bounded by EventTimeout: like a case's read, a step that
		// Redis answers late is no outage of the events' path.
		v, err := primary(ctx)
		if err == nil || !f.outage(ctx, err) {
			return v, err
		}
		f.inMemory(what, err)
	} else {
		f.inMemory(what, errors.New(f.Problem()))
	}
	return local(ctx)
}

type causeAnswer struct {
	card store.CauseCard
	turn store.CauseTurn
	ok   bool
}

// JoinCause asks Redis, or the memory while it is away.
func (f *Fallback) JoinCause(ctx context.Context, scope string, j store.CauseJoin, now time.Time, window time.Duration) (store.CauseCard, store.CauseTurn, error) {
	a, err := shared(ctx, f, causeCards,
		func(ctx context.Context) (causeAnswer, error) {
			c, t, err := f.primary.JoinCause(ctx, scope, j, now, window)
			return causeAnswer{card: c, turn: t}, err
		},
		func(ctx context.Context) (causeAnswer, error) {
			c, t, err := f.local.JoinCause(ctx, scope, j, now, window)
			return causeAnswer{card: c, turn: t}, err
		})
	return a.card, a.turn, err
}

// CausePosted writes to Redis, or the memory while it is away.
func (f *Fallback) CausePosted(ctx context.Context, scope, lead string) error {
	_, err := shared(ctx, f, causeCards,
		func(ctx context.Context) (struct{}, error) {
			return struct{}{}, f.primary.CausePosted(ctx, scope, lead)
		},
		func(ctx context.Context) (struct{}, error) { return struct{}{}, f.local.CausePosted(ctx, scope, lead) })
	return err
}

// ShowCause asks Redis, or the memory while it is away.
func (f *Fallback) ShowCause(ctx context.Context, scope string) (store.CauseCard, bool, error) {
	a, err := shared(ctx, f, causeCards,
		func(ctx context.Context) (causeAnswer, error) {
			c, ok, err := f.primary.ShowCause(ctx, scope)
			return causeAnswer{card: c, ok: ok}, err
		},
		func(ctx context.Context) (causeAnswer, error) {
			c, ok, err := f.local.ShowCause(ctx, scope)
			return causeAnswer{card: c, ok: ok}, err
		})
	return a.card, a.ok, err
}

// CloseCause writes to Redis, or the memory while it is away.
func (f *Fallback) CloseCause(ctx context.Context, scope, lead string) (store.CauseCard, bool, error) {
	a, err := shared(ctx, f, causeCards,
		func(ctx context.Context) (causeAnswer, error) {
			c, ok, err := f.primary.CloseCause(ctx, scope, lead)
			return causeAnswer{card: c, ok: ok}, err
		},
		func(ctx context.Context) (causeAnswer, error) {
			c, ok, err := f.local.CloseCause(ctx, scope, lead)
			return causeAnswer{card: c, ok: ok}, err
		})
	return a.card, a.ok, err
}

type callAnswer struct {
	r  store.CallRecord
	ok bool
}

// Call asks Redis, or the memory while it is away.
func (f *Fallback) Call(ctx context.Context, key string) (store.CallRecord, bool, error) {
	a, err := shared(ctx, f, answersGiven,
		func(ctx context.Context) (callAnswer, error) {
			r, ok, err := f.primary.Call(ctx, key)
			return callAnswer{r, ok}, err
		},
		func(ctx context.Context) (callAnswer, error) {
			r, ok, err := f.local.Call(ctx, key)
			return callAnswer{r, ok}, err
		})
	return a.r, a.ok, err
}

// KeepCall writes to Redis, or the memory while it is away.
func (f *Fallback) KeepCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) error {
	_, err := shared(ctx, f, answersGiven,
		func(ctx context.Context) (struct{}, error) { return struct{}{}, f.primary.KeepCall(ctx, key, r, ttl) },
		func(ctx context.Context) (struct{}, error) { return struct{}{}, f.local.KeepCall(ctx, key, r, ttl) })
	return err
}

// ClaimCall asks Redis, or the memory while it is away.
func (f *Fallback) ClaimCall(ctx context.Context, key string, r store.CallRecord, ttl time.Duration) (store.CallRecord, bool, error) {
	a, err := shared(ctx, f, answersGiven,
		func(ctx context.Context) (callAnswer, error) {
			r, ok, err := f.primary.ClaimCall(ctx, key, r, ttl)
			return callAnswer{r, ok}, err
		},
		func(ctx context.Context) (callAnswer, error) {
			r, ok, err := f.local.ClaimCall(ctx, key, r, ttl)
			return callAnswer{r, ok}, err
		})
	return a.r, a.ok, err
}
