package redis

import goredis "github.com/redis/go-redis/v9"

// The Lua scripts. Each touches only the keys it is given, all in one hash slot,
// so they run unchanged on a Redis Cluster. Times are unix milliseconds; numbers
// are formatted with %d because Lua would print large ones in exponent form.

// observeScript dedupes, counts and reads strikes for one event, or for the part
// of it that lives in one slot. What costs Redis is the number of redis.call, the
// number of arguments and the size of the reply (each a Lua value made and
// converted), so the common path makes as few as it can: ZADD NX for the id,
// ZRANGEBYSCORE for the strikes, ZADD and ZCOUNT for a counter the event is added
// to (ZADD alone when the counter is new), ZCOUNT for one only read (one argument;
// one EXISTS for all of those first, which answers when none of them is there,
// and halves of them asked in turn when a few are; but those that were there
// when this process last read them, such as a place's hit counters, are
// counted at once: see found),
// PEXPIRE only now and then, and the answer is one flat array. Bounds come
// computed from Go as strings: computing them here and passing numbers to
// redis.call (which formats each one) measured slower. The script reads
// ARGV, KEYS, redis.call and the functions it calls into locals once, and
// parses at once: each global read is a table lookup by name, about 11,000
// instructions of Redis's 240,000 a call on a raid night's stream.
//
// A counter's expiry is pushed once per refresh period (its window, kept between
// a minute and an hour) while events come, not on every event: the counter holds
// a marker member "~" scored minus the expiry (on the events' clock) that the
// current period asks for, and a member "^" scored +inf that lives as long as
// the key. ZADD LT CH
// moves them in the call that adds the event and answers how many changed: 3 for
// a new key (the count is then 1, no ZCOUNT needed), 2 for the first event of a
// later period, 1 otherwise; PEXPIRE is sent for 3 and 2 only.
//
// A window counts every entry newer than at-window, those stamped after at too:
// live, two events evaluated at once read the clock in one order and reach Redis
// in the other (several processes' clocks also differ by a few ms), and the
// later-stamped one is no less in the window. Replayed events come in order, so
// there is then nothing after at. The range is ZCOUNT (at-window (+inf, which
// leaves out both markers: "^" is +inf, not under the exclusive bound, and "~"
// is below zero while at-window is not (for any event later than 1970 plus its
// window): "~" is set to minus counterExpiry, which is later than the setting
// event's at, so below zero, and ZADD LT only ever lowers it.
//
// The ids' expiry follows the same periods when the event is also added to a
// counter keyed by its author (the anchor, whose key lives less long than the
// ids): it is pushed when the anchor's is, and on housekeeping; without an
// anchor, on every event.
//
// KEYS: [seen] [strikes] counters added to..., counters only read and counted
// at once..., the other counters only read...
// ARGV: 1 at, 2 TTL of the ids' key ("": no seen key), 3 event id, 4 oldest
// remembered id time (seen-TTL), 5 strikes' lower bound "(at-window" ("": no
// strikes key), 6 member, 7 housekeeping ("1": prune and cap this time), 8 max per
// key, 9 seen cap, 10 the anchor's position among the counters added to ("0":
// none), 11 how many counters the event is added to, or when some only read
// are counted at once, minus (that plus 1000 times how many: maxCounted), 12
// seen: when the event was seen, the ids' clock (at, unless the engine moved
// at back for an old event); then per counter added to: "(at-window",
// "-expiry"; then per counter only read: "(at-window"; then, when some
// counters added to are likely new (Store.appendForms), a letter for each
// counter added to ("0": ZADD; "a": RESTORE from the first form that
// follows, "b" the second...) and the DUMP forms of a new counter's key, one
// for each window (counterDump): such a key is made with its expiry by one
// RESTORE, where ZADD and PEXPIRE take two calls, and one that is there
// after all (RESTORE answers BUSYKEY) is added to by ZADD as any other.
// Counts run to "(+inf" (see above).
// With store.Observation.Pending, ARGV[12] has a fraction: the seconds of
// Pending in 1024ths (pendingScore), which the id's score keeps until the
// mark is settled (ZADD XX of the whole milliseconds): a pending mark older
// than that makes the observation Again (counters added to only read).
// Returns {1} for a duplicate, else {0, counts..., strike times...}, the counts
// in the order of KEYS; {2, ...} for Again; {3, ...} when Redis refused
// RESTORE otherwise than for a key there (before 7.0, or a user without it):
// the counters were then added to by ZADD, and vigie sends no form again.
var observeScript = goredis.NewScript(`
local ARGV, KEYS = ARGV, KEYS
local call, tn, fmt, sub = redis.call, tonumber, string.format, string.sub
local at = ARGV[1]
local atn = tn(at)
local tidy = ARGV[7] == '1'
local k = 1
local out = {0}
local again = false
if ARGV[2] ~= '' then
  local seen = KEYS[1]
  k = 2
  if call('ZADD', seen, 'NX', ARGV[12], ARGV[3]) == 0 then
    -- Known id: a duplicate unless it was seen longer than the TTL ago, or
    -- its mark is pending (a fraction: its hold in seconds, in 1024ths)
    -- for longer than its hold, and this observation marks pending too.
    local sc = tn(call('ZSCORE', seen, ARGV[3]))
    if sc > tn(ARGV[4]) then
      local base = math.floor(sc)
      local hold = math.floor((sc - base) * 1024 + 0.5) * 1000
      if hold == 0 or not string.find(ARGV[12], '.', 1, true) or math.floor(tn(ARGV[12])) < base + hold then
        return {1}
      end
      again = true
      out[1] = 2
    end
    call('ZADD', seen, ARGV[12], ARGV[3])
  end
  if tidy then
    call('ZREMRANGEBYSCORE', seen, '-inf', ARGV[4])
    local n = call('ZCARD', seen)
    local scap = tn(ARGV[9])
    if n > scap then call('ZREMRANGEBYRANK', seen, 0, n - scap - 1) end
  end
end
local strikes
if ARGV[5] ~= '' then
  strikes = call('ZRANGEBYSCORE', KEYS[k], ARGV[5], at, 'WITHSCORES')
  k = k + 1
end
local anchor = tn(ARGV[10]) + k - 1
local nadd = tn(ARGV[11])
local direct = 0
if nadd < 0 then
  nadd = -nadd
  direct = math.floor(nadd / 1000)
  nadd = nadd - 1000 * direct
end
local last = k + nadd - 1
local pushed = false
local member = ARGV[6]
local top = '(+inf'
local cap
local j = 13
-- After the counters' arguments, when some keys are likely new: a letter
-- for each counter added to ("0": ZADD; "a", "b"...: RESTORE from the
-- first, second... form that follows).
local forms = 13 + 2 * nadd + #KEYS - last
local made = ARGV[forms]
for i = k, last do
  local key = KEYS[i]
  local exp = ARGV[j + 1]
  local f = made and not again and string.byte(made, i - k + 1)
  local new = false
  if f and f > 48 then
    local r = redis.pcall('RESTORE', key, fmt('%d', tn(sub(exp, 2)) - atn), ARGV[forms + f - 96])
    if r.ok then
      new = true
      if i == anchor then pushed = true end
      out[#out + 1] = 1
    elseif not string.find(r.err, 'BUSYKEY', 1, true) then
      out[1] = 3 -- refused (an older Redis, or a user without RESTORE)
    end
  end
  if again then
    -- counted by the event's first judging: read only
    out[#out + 1] = call('ZCOUNT', key, ARGV[j], top)
  elseif not new then
  -- Entries out of the window are not counted (ZCOUNT's range), so
  -- dropping them can wait for housekeeping (which drops "~" too).
  if tidy then call('ZREMRANGEBYSCORE', key, '-inf', sub(ARGV[j], 2)) end
  local changed = call('ZADD', key, 'LT', 'CH', at, member, exp, '~', '+inf', '^')
  if changed >= 2 then
    call('PEXPIRE', key, fmt('%d', tn(sub(exp, 2)) - atn))
    if i == anchor then pushed = true end
  end
  if changed == 3 then
    out[#out + 1] = 1
  else
    local n = call('ZCOUNT', key, ARGV[j], top)
    cap = cap or tn(ARGV[8])
    if n > cap then
      -- Keep the cap's latest entries and "^".
      call('ZREMRANGEBYRANK', key, 0, -cap - 2)
      n = call('ZCOUNT', key, ARGV[j], top)
    end
    out[#out + 1] = n
  end
  end
  j = j + 2
end
-- The counters only read that were there when last read: counted at once.
if direct > 0 then
  for i = last + 1, last + direct do
    out[#out + 1] = call('ZCOUNT', KEYS[i], ARGV[j], top)
    j = j + 1
  end
  last = last + direct
end
-- The counters only read are mostly absent (those of rules that did not
-- match lately): one EXISTS for them all answers 0 for each at once. When
-- n of them are there, but no more than half, each half is asked in turn
-- (the second's count is n less the first's), so that the one counter there
-- among eight (a place's, beside an author's absent ones) costs four EXISTS
-- and its ZCOUNT rather than eight ZCOUNTs. A key is counted as often as it
-- is given, in EXISTS as here.
local function reads(lo, hi, n)
  if n == 0 then
    for _ = lo, hi do out[#out + 1] = 0 end
  elseif 2 * n > hi - lo + 1 then
    for i = lo, hi do out[#out + 1] = call('ZCOUNT', KEYS[i], ARGV[j + i - last - 1], top) end
  else
    local mid = math.floor((lo + hi) / 2)
    local a = call('EXISTS', unpack(KEYS, lo, mid))
    reads(lo, mid, a)
    reads(mid + 1, hi, n - a)
  end
end
if #KEYS - last > 1 then
  reads(last + 1, #KEYS, call('EXISTS', unpack(KEYS, last + 1)))
elseif #KEYS > last then
  out[#out + 1] = call('ZCOUNT', KEYS[#KEYS], ARGV[j], top)
end
if strikes then
  for i = 1, #strikes, 2 do
    local exp = tn(string.match(strikes[i], '^(%d+)'))
    if exp and exp > atn then out[#out + 1] = tn(strikes[i + 1]) end
  end
end
if ARGV[2] ~= '' and (anchor < k or pushed or tidy) then
  call('PEXPIRE', KEYS[1], ARGV[2])
end
return out
`)

// renewSeenScript stamps a pending id's mark (observeScript) anew, and leaves
// a settled one (a whole score), or one gone, as it is. KEYS: seen. ARGV:
// the pending score, the id.
var renewSeenScript = goredis.NewScript(`
local s = redis.call('ZSCORE', KEYS[1], ARGV[2])
if s and tonumber(s) ~= math.floor(tonumber(s)) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
end
return 0
`)

// strikeScript adds strikes given at one time to one author: one, or those
// of one event's rules that the batcher found one after the other in a
// pipeline (see batcher.send), in one call. Expired strikes are left to the
// reader (it skips them) until the list is over its cap: added together or
// one by one, the same strikes stay (the expired ones go first, then the
// oldest, and the strikes added are not expired). The key lives as long as
// its longest strike: PEXPIRE GT pushes its expiry only when these live
// longer (Redis 7; before, PTTL is asked first).
//
// KEYS: strikes. ARGV: at, cap, ttl (the longest), then "expiry:nonce" for
// each strike. Members are "expiry:nonce", scored by the strike's time.
var strikeScript = goredis.NewScript(`
local add = {}
for i = 4, #ARGV do
  add[#add + 1] = ARGV[1]
  add[#add + 1] = ARGV[i]
end
redis.call('ZADD', KEYS[1], unpack(add))
local cap = tonumber(ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
-- Every member is new (a nonce each): the key is new if it holds only these.
local fresh = n == #ARGV - 3
if n > cap then
  local at = tonumber(ARGV[1])
  for _, m in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local exp = tonumber(string.match(m, '^(%d+)'))
    if exp and exp <= at then redis.call('ZREM', KEYS[1], m) end
  end
  n = redis.call('ZCARD', KEYS[1])
  if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - cap - 1) end
end
if fresh then
  -- A new key: its expiry is these strikes'.
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
elseif redis.REDIS_VERSION_NUM and redis.REDIS_VERSION_NUM >= 0x070000 then
  redis.call('PEXPIRE', KEYS[1], ARGV[3], 'GT')
elseif redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
end
return 1
`)

// openScript numbers a case, stores it, indexes it as open and queues it for
// the desk, in one round trip. The case counter lives at least as long as the
// longest-lived case, so that ids are never given twice. A case whose origin
// (event, rule, reason) is already open or kept is not opened twice: the script
// answers the first one, so that a case sent again after a lost reply stays
// one case. A hit grouped with an open case (its author's in that place and
// rule, or the place's last one when GroupAuthors cases were opened there
// within GroupWindow) is added to that case: count, and its event id at the
// end of latest (JSON, the last few). A case that would be new while cap cases
// are open is refused.
//
// The case hashes are named from the ids read here (PREFIX:{cases}:ID): they
// share the {cases} tag of the declared keys, so they are in the same slot on
// a cluster.
//
// Ids are c-EPOCH-NNNNNN: the number from the counter, the epoch from its
// key, drawn anew (the caller's proposal) when the counter starts from 1 or
// the epoch is missing, so that an id is never given twice, not even after
// Redis lost its data.
//
// KEYS: case counter, open index, cases stream, origin, author group, place,
// epoch, the case of the hit's message when it names one (Case.Message),
// and the calls its message keeps once its case is opened or joined
// (Case.Calls: PREFIX:{call:KEY}, not in the cases' slot, so never on a
// cluster).
// ARGV: case key prefix, json ("": answer {'json'} rather than open a new
// case, which nothing was written for yet), ttl, stream cap, has origin (1/0), has group
// (1/0), opened (ms), group window (ms), group authors, latest cap, open cap,
// event id, hits the case carries (1, more for a case written back from
// memory), its latest (JSON, "" for none), ttl and an hour, whether to push
// the expiry of the counter, index, stream and epoch ("1") if a case is
// opened, a new epoch (store.NewCaseEpoch) to start if the counter does,
// the origin's ttl (OriginTTL, or ttl when shorter), the members a case
// remembers (store.GroupJoiners), the hit's message reference (a line of
// JSON, store.MessageRef), the references the case carries (lines, "" for
// none) and their cap (store.GroupRefs), how long a new case's message
// keeps its id (store.MessageCallKeep, "" for none), when the hit names a
// message or has calls (an older vigie names none, and keeps it apart),
// and when it has calls, their record (done:MS) and how long they keep it
// (store.MessageCallKeep).
// A case written back whose own hit Redis has (its origin) gives the hits it
// carries beyond that one to that hit's case, if open; a case written back
// that joins another gives it its own hit and those it carries: in both, a
// hit whose message that case names already is not counted again (merge).
// A hit whose origin names a case gone (its TTL ran out) is grouped or
// opened as any hit.
// Returns {'ok', id, stream id}, {'dup', id, fields}, {'grouped', id,
// fields}, {'cap', open count} or {'json'}. The fields are those of
// caseFields, all but the JSON (an amendment is a field of its own): it
// never changes once written, and vigie keeps the JSON of the cases it
// opened or read, by id and stream id (which a case numbered again after
// Redis lost its keys does not share); it asks for the others'.
var openScript = goredis.NewScript(`
-- latest with the event's id at the end, and the oldest dropped past the
-- cap (a case written back that carries ids is merged: see merge). An id without quotes, backslashes or
-- control characters, added to a list without backslashes, is added as
-- text and the oldest dropped at '","' (no id holds it): decoding and
-- encoding the whole list with cjson cost more than the rest of a hit
-- grouped into a case. The ids are counted with plain finds and the new
-- list made in one concatenation: a gsub over the list, and a string for
-- each step, were most of the script's own time on a hit (each string of
-- Lua is hashed and copied).
local function push(old)
  local id, cap = ARGV[12], tonumber(ARGV[10])
  if cap >= 1 and not string.find(id, '[%c"\\]')
      and (not old or (string.sub(old, 1, 2) == '["' and not string.find(old, '\\', 1, true))) then
    if not old then return '["' .. id .. '"]' end
    -- Count the ids of old, then cut before the first kept.
    local n, p = 1, 1
    while true do
      p = string.find(old, '","', p, true)
      if not p then break end
      n, p = n + 1, p + 3
    end
    if cap == 1 then return '["' .. id .. '"]' end
    local from = 3
    for _ = 1, n - cap + 1 do from = string.find(old, '","', from, true) + 3 end
    return '["' .. string.sub(old, from, -2) .. ',"' .. id .. '"]'
  end
  local latest = {}
  if old then latest = cjson.decode(old) end
  table.insert(latest, id)
  while #latest > cap do table.remove(latest, 1) end
  return cjson.encode(latest)
end
-- refs is the key of a case's message references (PREFIX:{cases}:refs:ID).
local function refs(id) return ARGV[1] .. 'refs:' .. id end
-- lines appends the lines of s to t.
local function lines(t, s)
  local from = 1
  while true do
    local p = string.find(s, '\n', from, true)
    t[#t + 1] = string.sub(s, from, (p or 0) - 1)
    if not p then return t end
    from = p + 1
  end
end
-- pushRefs appends the message references add (lines of JSON) to the list
-- of the case id's references, drops the oldest past the cap, and gives a
-- list it makes the life left to the case's hash hk (the TTL when it has
-- none), so that both go together: a hit grouped into a case of 100
-- references costs a push and a pop, whatever their size.
local function pushRefs(id, hk, add)
  if #add == 0 then return end
  local rk = refs(id)
  local n = redis.call('RPUSH', rk, unpack(add))
  local cap = tonumber(ARGV[22])
  if n > cap then redis.call('LTRIM', rk, n - cap, -1) end
  if n == #add then
    local life = redis.call('PTTL', hk)
    if life <= 0 then life = tonumber(ARGV[3]) end
    redis.call('PEXPIRE', rk, life)
  end
end
-- The fields of caseFields (redis.go), in its order: the references last,
-- as lines.
local function fields(id)
  local h = redis.call('HMGET', ARGV[1] .. id, 'status', 'outcome', 'by', 'undeliverable', 'count', 'latest', 'dat', 'sid', 'amend', 'byname')
  h[11] = table.concat(redis.call('LRANGE', refs(id), 0, -1), '\n')
  return h
end
-- carries: the case is a copy written back from memory that carries hits
-- beyond its own (their count, ids and references).
local carries = tonumber(ARGV[13]) > 1 or ARGV[14] ~= '' or ARGV[21] ~= ''
-- idOf is the message id of a reference (a line of JSON), nil if unread.
-- vigie writes the id first: read at once, unless it holds an escape.
local function idOf(line)
  local id = string.match(line, '^{"id":"([^"\\]*)"')
  if id then return id end
  local ok, r = pcall(cjson.decode, line)
  if ok and type(r) == 'table' and type(r.id) == 'string' then return r.id end
  return nil
end
-- eventOf is the id of the event of a case's JSON, nil if unread. The
-- event's id comes first in it, and the pattern matches no text inside a
-- string (whose quotes are escaped): decoding the whole case cost most of
-- a merge.
local function eventOf(json)
  if not json then return nil end
  local id = string.match(json, '"event":{"id":"([^"\\]*)"')
  if id then return id end
  local ok, c = pcall(cjson.decode, json)
  if ok and type(c) == 'table' and type(c.event) == 'table' and type(c.event.id) == 'string' then return c.event.id end
  return nil
end
-- merge adds to the open case id the hits a case written back from memory
-- carries (and its own hit, with own), by message id: a message the case
-- names already (its own event's, in its latest or its references) is
-- not counted again, as Redis ran that hit and its answer was lost before
-- the memory added it too. A hit the copy counts but names nowhere (past
-- the references it keeps) is counted. It answers the case's fields as
-- add does, nil when the case is not open. Only a write-back takes this
-- way, which reads the case's references and ids: a hit of a raid does not.
local function merge(id, own)
  local hk = ARGV[1] .. id
  local h = redis.call('HMGET', hk, 'status', 'outcome', 'by', 'undeliverable', 'count', 'latest', 'dat', 'sid', 'amend', 'byname')
  if h[1] ~= 'open' then return nil end
  local known = {}
  local ev = eventOf(redis.call('HGET', hk, 'json'))
  if ev then known[ev] = true end
  local latest = {}
  if h[6] then
    local ok
    ok, latest = pcall(cjson.decode, h[6])
    if not ok or type(latest) ~= 'table' then latest = {} end
  end
  for _, v in ipairs(latest) do known[v] = true end
  for _, l in ipairs(redis.call('LRANGE', refs(id), 0, -1)) do
    local rid = idOf(l)
    if rid then known[rid] = true end
  end
  -- The hits to count: the copy's, less those the case names already.
  local n, twice, ids, add = tonumber(ARGV[13]) - 1, {}, {}, {}
  if own then
    n = n + 1
    if known[ARGV[12]] then
      twice[ARGV[12]] = true
    else
      ids[#ids + 1] = ARGV[12]
      if ARGV[20] ~= '' then add[1] = ARGV[20] end
    end
  end
  if ARGV[21] ~= '' then
    for _, l in ipairs(lines({}, ARGV[21])) do
      local rid = idOf(l)
      if rid and known[rid] then twice[rid] = true else add[#add + 1] = l end
    end
  end
  if ARGV[14] ~= '' then
    for _, v in ipairs(cjson.decode(ARGV[14])) do
      if known[v] then twice[v] = true else ids[#ids + 1] = v end
    end
  end
  for _ in pairs(twice) do n = n - 1 end
  h[5] = string.format('%d', (tonumber(h[5]) or 1) + math.max(n, 0))
  if #ids > 0 then
    local cap = tonumber(ARGV[10])
    for _, v in ipairs(ids) do latest[#latest + 1] = v end
    while #latest > cap do table.remove(latest, 1) end
    if #latest > 0 then
      h[6] = cjson.encode(latest)
      redis.call('HSET', hk, 'latest', h[6])
    end
  end
  redis.call('HSET', hk, 'count', h[5])
  pushRefs(id, hk, add)
  return h
end
-- add adds the hit to the open case id and answers its fields as they are
-- now (nil when the case is not open), all but the references: a grouped
-- hit's answer leaves them (up to 100 lines of JSON) to be read when a
-- decision needs them. One HMGET reads what the hit changes.
local function add(id)
  if not id then return nil end
  if carries then return merge(id, true) end
  local hk = ARGV[1] .. id
  local h = redis.call('HMGET', hk, 'status', 'outcome', 'by', 'undeliverable', 'count', 'latest', 'dat', 'sid', 'amend', 'byname')
  if h[1] ~= 'open' then return nil end
  h[5] = string.format('%d', (tonumber(h[5]) or 0) + 1)
  h[6] = push(h[6] or nil)
  redis.call('HSET', hk, 'latest', h[6], 'count', h[5])
  if ARGV[20] ~= '' then pushRefs(id, hk, {ARGV[20]}) end
  return h
end
-- kept keeps the calls of the hit's message (Case.Calls) once its case is
-- opened or joined: the KEYS past the message's case, each set to ARGV[24]
-- for ARGV[25] ms, as an older vigie kept them apart (KeepCall).
local function kept()
  if not ARGV[24] then return end
  local from = 8
  if ARGV[23] ~= '' then from = 9 end
  for i = from, #KEYS do redis.call('SET', KEYS[i], ARGV[24], 'PX', ARGV[25]) end
end
-- The origin's case and the author group's, in one MGET when both are asked.
local first, into
if ARGV[5] == '1' and ARGV[6] == '1' then
  local v = redis.call('MGET', KEYS[4], KEYS[5])
  first, into = v[1], v[2]
elseif ARGV[5] == '1' then
  first = redis.call('GET', KEYS[4])
elseif ARGV[6] == '1' then
  into = redis.call('GET', KEYS[5])
end
-- A hit Redis has already answers its case. A case written back that
-- carries more hits than that one gives them to it; when it is not open
-- any more (decided meanwhile), they are grouped or opened as any case,
-- rather than lost. So is a hit whose case ran out (its TTL) while its
-- origin, written when the hit joined it, did not: answered as that case,
-- it was dropped as a case not found.
if first and (carries and merge(first, false) or not carries and redis.call('EXISTS', ARGV[1] .. first) == 1) then
  kept()
  return {'dup', first, fields(first)}
end
local place
if ARGV[6] == '1' then
  local h = add(into)
  if not h then
    into = nil
    place = redis.call('HMGET', KEYS[6], 'start', 'n', 'id')
    if place[1] and tonumber(ARGV[7]) - tonumber(place[1]) < tonumber(ARGV[8])
        and tonumber(place[2]) >= tonumber(ARGV[9]) then
      h = add(place[3])
      if h then into = place[3] end
    end
  end
  if into then
    -- The author's own case is named by the group key already (set when
    -- it opened, or later); the place's is not: the key names it for as
    -- long as the case lives, and is listed among its members, the last
    -- ARGV[19] of them, whose keys go when it is decided or forgets them.
    if place then
      local life = redis.call('PTTL', ARGV[1] .. into)
      if life <= 0 then life = tonumber(ARGV[3]) end
      redis.call('SET', KEYS[5], into, 'PX', life)
      -- The list is given the case's life when it is made, not on every
      -- member: an open case's life only runs down (its expiry is pushed
      -- at the decision, which deletes the list), so a PEXPIRE on each
      -- push set the same expiry again.
      local jk = ARGV[1] .. 'joined:' .. into
      local n = redis.call('RPUSH', jk, KEYS[5])
      if n == 1 then redis.call('PEXPIRE', jk, life) end
      for _ = 1, n - tonumber(ARGV[19]) do
        local g = redis.call('LPOP', jk)
        if redis.call('GET', g) == into then redis.call('DEL', g) end
      end
    end
    if ARGV[5] == '1' then redis.call('SET', KEYS[4], into, 'PX', ARGV[18]) end
    kept()
    return {'grouped', into, h}
  end
end
local open = redis.call('ZCARD', KEYS[2])
if open >= tonumber(ARGV[11]) then return {'cap', string.format('%d', open)} end
if ARGV[2] == '' then return {'json'} end
local n = redis.call('INCR', KEYS[1])
-- A counter made again (a new Redis, or one that lost its data) starts a
-- new epoch, so that no id is given twice.
local ep = redis.call('GET', KEYS[7])
if n == 1 or not ep then
  ep = ARGV[17]
  redis.call('SET', KEYS[7], ep, 'PX', ARGV[15])
end
local id = string.format('c-%s-%06d', ep, n)
local hk = ARGV[1] .. id
local sid = redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', 'id', id)
-- One HSET for the case's fields, its author's group (which the decision
-- removes) and the latest it carries among them.
local set = {'json', ARGV[2], 'status', 'open', 'seq', n, 'count', ARGV[13], 'sid', sid}
if ARGV[14] ~= '' then set[#set + 1] = 'latest'; set[#set + 1] = ARGV[14] end
if ARGV[6] == '1' then set[#set + 1] = 'group'; set[#set + 1] = KEYS[5] end
redis.call('HSET', hk, unpack(set))
redis.call('ZADD', KEYS[2], n, id)
redis.call('PEXPIRE', hk, ARGV[3])
if ARGV[21] ~= '' then
  local rk = refs(id)
  redis.call('RPUSH', rk, unpack(lines({}, ARGV[21])))
  redis.call('LTRIM', rk, -tonumber(ARGV[22]), -1)
  redis.call('PEXPIRE', rk, ARGV[3])
end
-- The counter, index and stream outlive every case: pushed to the TTL and
-- an hour when the caller says (once a minute per process), not on every
-- case.
if ARGV[16] == '1' then
  for _, i in ipairs({1, 2, 3, 7}) do redis.call('PEXPIRE', KEYS[i], ARGV[15]) end
end
if ARGV[5] == '1' then redis.call('SET', KEYS[4], id, 'PX', ARGV[18]) end
if ARGV[23] and ARGV[23] ~= '' then redis.call('SET', KEYS[8], id, 'PX', ARGV[23]) end
kept()
if ARGV[6] == '1' then
  redis.call('SET', KEYS[5], id, 'PX', ARGV[3])
  if place == nil then place = redis.call('HMGET', KEYS[6], 'start', 'n', 'id') end
  if not place[1] or tonumber(ARGV[7]) - tonumber(place[1]) >= tonumber(ARGV[8]) then
    redis.call('HSET', KEYS[6], 'start', ARGV[7], 'n', 1, 'id', id)
  else
    redis.call('HSET', KEYS[6], 'n', string.format('%d', (tonumber(place[2]) or 0) + 1), 'id', id)
  end
  redis.call('PEXPIRE', KEYS[6], ARGV[8])
end
return {'ok', id, sid}
`)

// decideScript closes an open case once, and removes the author groups that
// name it (its author's, its members'): a decided case is joined no more.
//
// The references of its grouped messages live as long as the case: their
// expiry is pushed with its hash's.
//
// KEYS: case hash, open index, decided index, case counter, its members (a
// list of their group keys), its references (a list). ARGV: id, outcome,
// by, decided at (RFC 3339), decided cap, ttl, the name of who decided (""
// for none). Returns {'nf'}, {'dup', hash, references} or {'ok', hash,
// references}.
var decideScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {'nf'} end
if redis.call('HGET', KEYS[1], 'status') == 'decided' then
  return {'dup', redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[6], 0, -1)}
end
redis.call('HSET', KEYS[1], 'status', 'decided', 'outcome', ARGV[2], 'by', ARGV[3], 'dat', ARGV[4])
if ARGV[7] and ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'byname', ARGV[7]) end
-- A group names the author's last case: one naming another is left.
local gs = redis.call('LRANGE', KEYS[5], 0, -1)
table.insert(gs, redis.call('HGET', KEYS[1], 'group'))
for _, g in ipairs(gs) do
  if g and redis.call('GET', g) == ARGV[1] then redis.call('DEL', g) end
end
redis.call('DEL', KEYS[5])
local seq = redis.call('HGET', KEYS[1], 'seq')
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZADD', KEYS[3], seq, ARGV[1])
local n = redis.call('ZCARD', KEYS[3])
local cap = tonumber(ARGV[5])
if n > cap then redis.call('ZREMRANGEBYRANK', KEYS[3], 0, n - cap - 1) end
for _, i in ipairs({1, 2, 3, 4, 6}) do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
return {'ok', redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[6], 0, -1)}
`)

// carriedScript records how a case's decision was carried out.
//
// KEYS: case hash. ARGV: the result. Returns -1 for an unknown case.
var carriedScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'carried', ARGV[1])
redis.call('HDEL', KEYS[1], 'carrying')
return 1
`)

// carryingScript records that the carrying out of a case's decision
// begins, until carriedScript records its end: only while the claim of
// its carrying out holds the token given ("" for none), so that a mark
// that comes late, its claim let go, is dropped.
//
// KEYS: case hash, claim. ARGV: the mark, the claim's token. Returns -1 for
// an unknown case, -2 when the claim is not that token's.
var carryingScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if ARGV[2] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[2] then return -2 end
redis.call('HSET', KEYS[1], 'carrying', ARGV[1])
return 1
`)

// ackScript marks a case accepted by the desk and acknowledges its stream entry.
//
// KEYS: case hash, cases stream. ARGV: group, why the desk refused the case
// for good ("" when it took it). Returns -1 for an unknown case.
var ackScript = goredis.NewScript(`
local sid = redis.call('HGET', KEYS[1], 'sid')
if not sid then return -1 end
-- Marked on the case too: an entry no consumer read yet cannot be XACKed.
redis.call('HSET', KEYS[1], 'acked', '1')
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'undeliverable', ARGV[2]) end
local r = redis.pcall('XACK', KEYS[2], ARGV[1], sid)
if type(r) == 'table' and r.err then return 0 end
return r
`)

// cardScript records where a desk posted a case's card: a field of the case's
// hash, so that it expires with the case, written only while the case is
// there (a hash made again would have no expiry).
//
// KEYS: case hash. ARGV: field, card (JSON). Returns -1 for an unknown case.
var cardScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
`)

// amendScript records how the actions a case was trying ended: a field of
// the case's hash read over its JSON, which stays as opened (vigie keeps
// it, decoded, by id), written only while the case is there.
//
// KEYS: case hash. ARGV: the amendment (JSON). Returns -1 for an unknown case.
var amendScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
redis.call('HSET', KEYS[1], 'amend', ARGV[1])
return 1
`)

// The journal of verdicts being carried out: one hash of entries (JSON), one
// sorted set of their stamps (ms) and one hash of how many times each was
// taken, under the tag {journal}. It holds only the verdicts in flight, so it
// stays small; the keys live DefaultJournalTTL after the last Begin. Begin and
// Done are plain commands (redis.go); taking the entries is a script.

// unfinishedScript takes the entries stamped before a time: it stamps them
// now and counts the take, in one step, so that two processes asking at once
// do not both get an entry.
//
// KEYS: entries, stamps, tries. ARGV: "(olderThan", now, limit.
// Returns json, old stamp, tries for each entry, oldest first.
var unfinishedScript = goredis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for i = 1, #due, 2 do
  local k = due[i]
  local e = redis.call('HGET', KEYS[1], k)
  if e then
    local n = redis.call('HINCRBY', KEYS[3], k, 1)
    redis.call('ZADD', KEYS[2], ARGV[2], k)
    out[#out + 1] = e
    out[#out + 1] = due[i + 1]
    out[#out + 1] = n
  else
    redis.call('ZREM', KEYS[2], k)
    redis.call('HDEL', KEYS[3], k)
  end
end
if #out > 0 then
  -- The tries may be new since begin last pushed the keys' expiry.
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[3], ttl) end
end
return out
`)

// learnScript keeps a wording in the hash of wordings unless it is there or
// the hash holds max of them already.
// KEYS[1] the hash; ARGV: field, value, max.
var learnScript = goredis.NewScript(`
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
return redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
`)
