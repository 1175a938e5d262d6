package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Each touches only the keys it is given, all in one hash slot,
// so they run unchanged on a Redis Cluster. Times are unix milliseconds; numbers
// are formatted with %d because Lua would print large ones in exponent form.

// observeScript dedupes, counts and reads strikes for one event, or for the part
// of it that lives in one slot.
//
// KEYS: [seen] [strikes] counter...
// ARGV: at, dedupeTTL (0: no seen key), eventID, strikeWindow (0: no strikes
// key), member, maxPerKey, seenCap, then window and incr (1/0) per counter.
// Returns {1} for a duplicate, else {0, {counts...}, {strike times...}}.
var observeScript = goredis.NewScript(`
local function d(x) return string.format('%d', x) end
local at = tonumber(ARGV[1])
local dttl = tonumber(ARGV[2])
local sw = tonumber(ARGV[4])
local member = ARGV[5]
local cap = tonumber(ARGV[6])
local k = 1
if dttl > 0 then
  local seen = KEYS[1]
  k = 2
  if redis.call('ZADD', seen, 'NX', d(at), ARGV[3]) == 0 then
    -- Known id: a duplicate unless it was seen longer than the TTL ago.
    if tonumber(redis.call('ZSCORE', seen, ARGV[3])) > at - dttl then
      return {1}
    end
    redis.call('ZADD', seen, d(at), ARGV[3])
  end
  -- Dropping expired ids and capping the set is housekeeping: an event in
  -- sixteen does it, the TTL check above keeps dedupe exact meanwhile.
  if at % 16 == 0 then
    redis.call('ZREMRANGEBYSCORE', seen, '-inf', d(at - dttl))
    local n = redis.call('ZCARD', seen)
    local scap = tonumber(ARGV[7])
    if n > scap then redis.call('ZREMRANGEBYRANK', seen, 0, n - scap - 1) end
  end
  redis.call('PEXPIRE', seen, d(dttl))
end
local strikes = {}
if sw > 0 then
  local list = redis.call('ZRANGEBYSCORE', KEYS[k], '(' .. d(at - sw), d(at), 'WITHSCORES')
  k = k + 1
  for i = 1, #list, 2 do
    local exp = tonumber(string.match(list[i], '^(%d+)'))
    if exp and exp > at then strikes[#strikes + 1] = tonumber(list[i + 1]) end
  end
end
local counts = {}
local j = 8
while k <= #KEYS do
  local key = KEYS[k]
  local w = tonumber(ARGV[j])
  local lo = '(' .. d(at - w)
  local n
  if ARGV[j + 1] == '1' then
    redis.call('ZREMRANGEBYSCORE', key, '-inf', d(at - w))
    redis.call('ZADD', key, d(at), member)
    n = redis.call('ZCOUNT', key, lo, d(at))
    if n > cap then
      -- Over the cap there are at least cap+1 entries: drop the oldest.
      redis.call('ZREMRANGEBYRANK', key, 0, -cap - 1)
      n = redis.call('ZCOUNT', key, lo, d(at))
    end
    redis.call('PEXPIRE', key, d(w))
  else
    n = redis.call('ZCOUNT', key, lo, d(at))
  end
  counts[#counts + 1] = n
  k = k + 1
  j = j + 2
end
return {0, counts, strikes}
`)

// strikeScript adds a strike, drops those expired at its time and caps the list.
//
// KEYS: strikes. ARGV: at, expiry, nonce, cap, ttl.
// Members are "expiry:nonce", scored by the strike's time.
var strikeScript = goredis.NewScript(`
local at = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local exp = tonumber(string.match(m, '^(%d+)'))
  if exp and exp <= at then redis.call('ZREM', KEYS[1], m) end
end
local n = redis.call('ZCARD', KEYS[1])
local cap = tonumber(ARGV[4])
if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - cap - 1) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[5]) then redis.call('PEXPIRE', KEYS[1], ARGV[5]) end
return n
`)

// openScript stores a case, indexes it as open and queues it for the desk.
//
// KEYS: case hash, open index, cases stream. ARGV: id, seq, json, ttl, stream cap.
var openScript = goredis.NewScript(`
redis.call('HSET', KEYS[1], 'json', ARGV[3], 'status', 'open', 'seq', ARGV[2])
local sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[1])
redis.call('HSET', KEYS[1], 'sid', sid)
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
return sid
`)

// decideScript closes an open case once.
//
// KEYS: case hash, open index, decided index. ARGV: id, outcome, by, decided at
// (RFC 3339), decided cap, ttl. Returns {'nf'}, {'dup', hash} or {'ok', hash}.
var decideScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'nf'} end
if redis.call('HGET', KEYS[1], 'status') == 'decided' then
  return {'dup', redis.call('HGETALL', KEYS[1])}
end
redis.call('HSET', KEYS[1], 'status', 'decided', 'outcome', ARGV[2], 'by', ARGV[3], 'dat', ARGV[4])
local seq = redis.call('HGET', KEYS[1], 'seq')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
local n = redis.call('ZCARD', KEYS[3])
local cap = tonumber(ARGV[5])
if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, n - cap - 1) end
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[3], ARGV[6])
return {'ok', redis.call('HGETALL', KEYS[1])}
`)

// ackScript marks a case accepted by the desk and acknowledges its stream entry.
//
// KEYS: case hash, cases stream. ARGV: group. Returns -1 for an unknown case.
var ackScript = goredis.NewScript(`
local sid = redis.call('HGET', KEYS[1], 'sid')
if not sid then return -1 end
-- Marked on the case too: an entry no consumer read yet cannot be XACKed.
redis.call('HSET', KEYS[1], 'acked', '1')
local r = redis.pcall('XACK', KEYS[2], ARGV[1], sid)
if type(r) == 'table' and r.err then return 0 end
return r
`)
