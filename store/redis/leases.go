package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
)

var _ store.Leaser = (*Store)(nil)

// A lease is one key, "TOKEN:OWNER" for its TTL: the owner key. Every script
// compares the whole value, so that an owner that lost the job and took it
// again does not renew or fence with its older token. The keys of a job
// share a hash tag, for a Redis Cluster.
//
// Beside it, the token key, with no TTL, holds "TOKEN:UNTIL": the job's last
// fencing token and when its lease runs out at the earliest, on Redis's
// clock in milliseconds, pushed by every acquisition and renewal, -1 once
// its holder gave it up (ReleaseLease): the next acquisition then says so
// (Lease.GivenUp), and its job may start at once. (An earlier build wrote 0
// there, which reads as a lease that ran out.) An owner key found gone before UNTIL did not run out: Redis
// evicted it (a maxmemory policy other than noeviction) or lost it, and its
// holder may still run the job until its next renewal. A careful acquisition
// (AcquireLeaseAfterHeld) then has it held by nobody for the wait, as after
// a loss of the counter, so that the holder's next renewal finds it gone and
// stops the job before another starts it. A counter written by an earlier
// build ("TOKEN", no UNTIL) is read as run out.

// tokenParse is the Lua that reads the token key's value raw into t and
// untilms (0 when it has no UNTIL).
const tokenParse = `
local t, untilms = nil, 0
if raw then
  local sep = string.find(raw, ':', 1, true)
  if sep then
    t = tonumber(string.sub(raw, 1, sep - 1))
    untilms = tonumber(string.sub(raw, sep + 1))
  else
    t = tonumber(raw)
  end
end
local now = redis.call('TIME')
local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
`

// acquireScript: KEYS owner, token, ttl; ARGV owner, ttl in ms, and for a
// careful acquisition the wait in ms (else 0). Returns {token, given, was}:
// was is the TTL in ms the lease was last taken for (the ttl key, no TTL of
// its own, 0 when not there), which the script then sets to this one's when
// it grants it; token is the token of
// the lease now held by owner, with given 1 when its last holder gave it up
// (the token key's UNTIL is -1), 0 while another owner holds it, or -1 when a careful
// acquisition found no token counter (see AcquireLeaseAfterHeld), or the
// owner key gone before its lease could run out (evicted): the counter is
// set, and the lease held by nobody ("TOKEN:", which no owner renews, and
// which renewals take for gone) for the wait.
var acquireScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
local raw = redis.call('GET', KEYS[2])
local was = tonumber(redis.call('GET', KEYS[3]) or '0') or 0
` + tokenParse + `
if cur then
  local sep = string.find(cur, ':', 1, true)
  if string.sub(cur, sep + 1) ~= ARGV[1] then return {0, 0, was} end
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('SET', KEYS[3], ARGV[2])
  local held = string.sub(cur, 1, sep - 1)
  redis.call('SET', KEYS[2], held .. ':' .. string.format('%d', nowms + tonumber(ARGV[2])))
  return {tonumber(held), 0, was}
end
local careful = tonumber(ARGV[3]) > 0
local early = careful and raw and untilms > nowms
if not raw then
  -- No counter (a new Redis, or one that lost its data): it starts from
  -- Redis's clock in microseconds, past the tokens it gave before, so that
  -- a job's token never goes back.
  t = tonumber(now[1]) * 1000000 + tonumber(now[2])
else
  t = t + 1
end
local ts = string.format('%d', t)
if careful and (not raw or early) then
  redis.call('SET', KEYS[2], ts .. ':0')
  redis.call('SET', KEYS[1], ts .. ':', 'NX', 'PX', ARGV[3])
  return {-1, 0, was}
end
local given = 0
if raw and untilms == -1 then given = 1 end
redis.call('SET', KEYS[2], ts .. ':' .. string.format('%d', nowms + tonumber(ARGV[2])))
redis.call('SET', KEYS[1], ts .. ':' .. ARGV[1], 'NX', 'PX', ARGV[2])
redis.call('SET', KEYS[3], ARGV[2])
return {t, given, was}
`)

// renewScript: KEYS owner, token; ARGV "TOKEN:OWNER", ttl in ms, TOKEN.
// Returns 1 when renewed, 0 when another owner holds the job, -1 when none
// does (no key, or a careful acquisition's "TOKEN:").
var renewScript = goredis.NewScript(`
local cur = redis.call('GET', KEYS[1])
if not cur or string.sub(cur, -1) == ':' then return -1 end
if cur ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
local now = redis.call('TIME')
local nowms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
redis.call('SET', KEYS[2], ARGV[3] .. ':' .. string.format('%d', nowms + tonumber(ARGV[2])))
return 1
`)

// releaseScript: KEYS owner, token; ARGV "TOKEN:OWNER", TOKEN. The lease
// given up on purpose runs out now, its job stopped: the next owner need
// not wait for it.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2] .. ':-1')
return redis.call('DEL', KEYS[1])
`)

// fenceScript: KEYS owner, value; ARGV "TOKEN:OWNER", v. Returns 1 when the
// lease is current (the value is then at least v), 0 otherwise.
var fenceScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local old = tonumber(redis.call('GET', KEYS[2]) or '0')
if tonumber(ARGV[2]) > old then redis.call('SET', KEYS[2], ARGV[2]) end
return 1
`)

func (s *Store) leaseKey(job, suffix string) string {
	return s.cfg.prefix + ":{lease:" + job + "}:" + suffix
}

func leaseValue(l store.Lease) string { return strconv.FormatInt(l.Token, 10) + ":" + l.Owner }

func ttlMillis(ttl time.Duration) (string, error) {
	ms := ttl.Milliseconds()
	if ms <= 0 {
		return "", fmt.Errorf("lease ttl %s: want at least 1ms", ttl)
	}
	return strconv.FormatInt(ms, 10), nil
}

// AcquireLease takes the job's lease when nobody holds it (SET NX PX), with a
// token from INCR, which starts from Redis's clock (microseconds) when the
// counter is not there: the tokens given before a FLUSHALL were counted from
// an earlier clock, one an acquisition, and each acquisition is a round trip,
// longer than a microsecond.
func (s *Store) AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (store.Lease, bool, error) {
	return s.acquireLease(ctx, job, owner, ttl, "0")
}

// AcquireLeaseAfterHeld is AcquireLease for an owner that saw another hold
// the job: when the job's token counter is not there, Redis lost its data
// (a FLUSHALL, a restart without persistence) and with it the lease of a
// holder that may still run the job until its next renewal tells it so.
// The lease is then taken by nobody for wait, the holders' renewal period
// (store.ErrLeaseReset): that renewal finds it gone and stops the job, and
// the next ask after the wait takes it, with a token past the earlier ones.
func (s *Store) AcquireLeaseAfterHeld(ctx context.Context, job, owner string, ttl, wait time.Duration) (store.Lease, bool, error) {
	w, err := ttlMillis(wait)
	if err != nil {
		return store.Lease{}, false, err
	}
	return s.acquireLease(ctx, job, owner, ttl, w)
}

func (s *Store) acquireLease(ctx context.Context, job, owner string, ttl time.Duration, wait string) (store.Lease, bool, error) {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return store.Lease{}, false, err
	}
	if strings.ContainsAny(job, "{}") {
		return store.Lease{}, false, fmt.Errorf("lease %q: a job's name may not contain braces", job)
	}
	r, err := acquireScript.Run(ctx, s.c, []string{s.leaseKey(job, "owner"), s.leaseKey(job, "token"), s.leaseKey(job, "ttl")}, owner, ms, wait).Int64Slice()
	if err == nil && len(r) != 3 {
		err = fmt.Errorf("the script answered %v", r)
	}
	if err != nil {
		return store.Lease{}, false, fmt.Errorf("acquire lease %s: %w", job, err)
	}
	t, was := r[0], time.Duration(r[2])*time.Millisecond
	switch {
	case t < 0:
		return store.Lease{}, false, fmt.Errorf("acquire lease %s: %w", job, store.ErrLeaseReset)
	case t == 0:
		return store.Lease{Job: job, HeldFor: was}, false, nil
	}
	return store.Lease{Job: job, Owner: owner, Token: t, GivenUp: r[1] == 1, HeldFor: was}, true, nil
}

// RenewLease holds l for ttl more while it is the job's current lease.
func (s *Store) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	ms, err := ttlMillis(ttl)
	if err != nil {
		return false, err
	}
	n, err := renewScript.Run(ctx, s.c, []string{s.leaseKey(l.Job, "owner"), s.leaseKey(l.Job, "token")}, leaseValue(l), ms, l.Token).Int64()
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", l.Job, err)
	}
	if n < 0 {
		return false, fmt.Errorf("renew lease %s: %w", l.Job, store.ErrLeaseGone)
	}
	return n == 1, nil
}

// ReleaseLease gives l up while it is the job's current lease.
func (s *Store) ReleaseLease(ctx context.Context, l store.Lease) error {
	if err := releaseScript.Run(ctx, s.c, []string{s.leaseKey(l.Job, "owner"), s.leaseKey(l.Job, "token")}, leaseValue(l), l.Token).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", l.Job, err)
	}
	return nil
}

// AdvanceFenced raises the job's value while l is its current lease.
func (s *Store) AdvanceFenced(ctx context.Context, l store.Lease, name string, v int64) (bool, error) {
	keys := []string{s.leaseKey(l.Job, "owner"), s.leaseKey(l.Job, "v:"+name)}
	n, err := fenceScript.Run(ctx, s.c, keys, leaseValue(l), strconv.FormatInt(v, 10)).Int64()
	if err != nil {
		return false, fmt.Errorf("fenced write %s %s: %w", l.Job, name, err)
	}
	return n == 1, nil
}

// Fenced returns the job's value name, 0 when never set.
func (s *Store) Fenced(ctx context.Context, job, name string) (int64, error) {
	v, err := s.c.Get(ctx, s.leaseKey(job, "v:"+name)).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read %s %s: %w", job, name, err)
	}
	return v, nil
}

// The leases of a Fallback are Redis's alone: a lease granted from memory
// while Redis is away would let every process run every job. While Redis is
// unreachable, no lease is granted or renewed, and the jobs stop on every
// process once their leases run out.
var _ store.Leaser = (*Fallback)(nil)

// AcquireLease asks Redis.
func (f *Fallback) AcquireLease(ctx context.Context, job, owner string, ttl time.Duration) (store.Lease, bool, error) {
	return f.primary.AcquireLease(ctx, job, owner, ttl)
}

// AcquireLeaseAfterHeld asks Redis.
func (f *Fallback) AcquireLeaseAfterHeld(ctx context.Context, job, owner string, ttl, wait time.Duration) (store.Lease, bool, error) {
	return f.primary.AcquireLeaseAfterHeld(ctx, job, owner, ttl, wait)
}

// RenewLease asks Redis.
func (f *Fallback) RenewLease(ctx context.Context, l store.Lease, ttl time.Duration) (bool, error) {
	return f.primary.RenewLease(ctx, l, ttl)
}

// ReleaseLease asks Redis.
func (f *Fallback) ReleaseLease(ctx context.Context, l store.Lease) error {
	return f.primary.ReleaseLease(ctx, l)
}

// AdvanceFenced asks Redis, within EventTimeout: the Telegram poller writes
// its offset before it hands a batch of updates on, so the batch's events wait
// for it. A write cut there that runs when Redis answers again sets the value
// it was sent to set, under the lease it names. While Redis is away it is not
// asked: the write fails at once (the poller goes on, and its next batch
// writes the offset once Redis answers).
func (f *Fallback) AdvanceFenced(ctx context.Context, l store.Lease, name string, v int64) (bool, error) {
	if f.degraded.Load() {
		return false, fmt.Errorf("fenced write %s %s: %w", l.Job, name, ErrUnavailable)
	}
	// On the wall clock: the deadline of a call to Redis.
	asked := time.Now()
	bctx, cancel := f.bounded(ctx)
	ok, err := f.primary.AdvanceFenced(bctx, l, name, v)
	err = f.late(ctx, bctx, err)
	if !f.readLate(ctx, bctx, err, asked) {
		f.outage(ctx, err)
	}
	cancel()
	return ok, err
}

// Fenced asks Redis.
func (f *Fallback) Fenced(ctx context.Context, job, name string) (int64, error) {
	return f.primary.Fenced(ctx, job, name)
}
