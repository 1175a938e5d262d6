// Package redis keeps vigie's state in Redis, so that several vigie processes
// moderate one community together and a restart forgets nothing. It passes the
// same contract tests as the memory store, on one server and on a Redis Cluster.
package redis

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Client is the part of go-redis the store uses. *goredis.Client,
// *goredis.ClusterClient and a sentinel-backed failover client all have it.
type Client interface {
	goredis.Scripter
	Pipeline() goredis.Pipeliner
	IncrBy(ctx context.Context, key string, n int64) *goredis.IntCmd
	Get(ctx context.Context, key string) *goredis.StringCmd
	HGetAll(ctx context.Context, key string) *goredis.MapStringStringCmd
	ZRange(ctx context.Context, key string, start, stop int64) *goredis.StringSliceCmd
	ZRem(ctx context.Context, key string, members ...any) *goredis.IntCmd
	XRangeN(ctx context.Context, stream, start, stop string, count int64) *goredis.XMessageSliceCmd
	XGroupCreateMkStream(ctx context.Context, stream, group, start string) *goredis.StatusCmd
	XReadGroup(ctx context.Context, a *goredis.XReadGroupArgs) *goredis.XStreamSliceCmd
	XAutoClaim(ctx context.Context, a *goredis.XAutoClaimArgs) *goredis.XAutoClaimCmd
	XAck(ctx context.Context, stream, group string, ids ...string) *goredis.IntCmd
	Ping(ctx context.Context) *goredis.StatusCmd
	AddHook(goredis.Hook)
	Close() error
}

var (
	_ Client              = (*goredis.Client)(nil)
	_ Client              = (*goredis.ClusterClient)(nil)
	_ store.Store         = (*Store)(nil)
	_ store.DecisionMarks = (*Store)(nil)
)

// Defaults of the options.
const (
	DefaultPrefix = "vigie"
	// DefaultMaxPerKey bounds the entries of one counter: it saturates there.
	DefaultMaxPerKey = 10_000
	// DefaultSeenCap bounds the event ids remembered per author.
	DefaultSeenCap = 1_000
	// DefaultMaxStrikes bounds the strikes kept per author.
	DefaultMaxStrikes = 100
	// DefaultAuditCap is the audit stream's approximate length (XADD MAXLEN ~).
	DefaultAuditCap = 100_000
	// DefaultAuditTTL is how long the audit stream lives after its last entry.
	DefaultAuditTTL = 90 * 24 * time.Hour
	// DefaultCaseTTL is how long a case lives after it was last touched.
	DefaultCaseTTL = 90 * 24 * time.Hour
	// DefaultCaseCap is how many decided cases stay listed.
	DefaultCaseCap = 10_000
	// DefaultCaseStreamCap is the cases stream's approximate length.
	DefaultCaseStreamCap = 100_000
	// DefaultClaimIdle is how long a case handed to a process that stopped
	// answering waits before another process takes it over.
	DefaultClaimIdle = time.Minute
	// DefaultJournalTTL is how long the journal of verdicts in flight outlives
	// its last entry written.
	DefaultJournalTTL = 7 * 24 * time.Hour
	// OriginTTL is how long the key of a case's origin (event, rule, reason)
	// lives: as long as a write of that case can come again, which the
	// journal's replays bound (its keys outlive their last entry by
	// DefaultJournalTTL and an hour), or the case's own TTL when shorter.
	// A raid's hits leave one each, gone a week after the raid, not 90 days.
	OriginTTL = DefaultJournalTTL + time.Hour
	// journalTake bounds the entries one Unfinished takes; the next call takes
	// the others.
	journalTake = 1000
	// journalPushEvery and casesPushEvery are how often a process pushes
	// the expiry of the journal's keys and of the case counter, index and
	// stream.
	journalPushEvery = time.Minute
	casesPushEvery   = time.Minute
	auditPushEvery   = time.Minute
	// DeskGroup is the consumer group of the cases stream.
	DeskGroup = "desk"
)

// Option tunes a Store.
type Option func(*config)

type config struct {
	prefix        string
	maxPerKey     int
	maxStrikes    int
	openCap       int
	caseStreamCap int64
	consumer      string
	claimIdle     time.Duration
	cluster       *bool
	autoPipeline  bool
	memberRenew   time.Duration
	wall          func() time.Time
}

// WithMemberLockRenewal sets how often a member's lock held is renewed
// (MemberLockTTL/3 by default): a holder learns that it lost the lock at
// its next renewal.
func WithMemberLockRenewal(d time.Duration) Option { return func(c *config) { c.memberRenew = d } }

// WithPrefix sets the prefix of every key (DefaultPrefix). It may not contain
// braces, which Redis Cluster reads as a hash tag.
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithMaxPerKey sets how many entries one counter keeps (DefaultMaxPerKey).
func WithMaxPerKey(n int) Option { return func(c *config) { c.maxPerKey = n } }

// WithMaxStrikes sets how many strikes are kept per author (DefaultMaxStrikes).
func WithMaxStrikes(n int) Option { return func(c *config) { c.maxStrikes = n } }

// WithOpenCaseCap sets how many cases may be open at once
// (store.DefaultOpenCaseCap); 0 or less keeps the default.
func WithOpenCaseCap(n int) Option { return func(c *config) { c.openCap = n } }

// WithConsumer names this process in the desk's consumer group; the default is
// host-pid-random, one name per Store. Two live processes must not share a
// name: each would read the cases handed to the other and not acknowledged
// yet (being posted) as its own, and post them too. A name kept across
// restarts gets back at once the cases handed to it before a crash; under
// the default, another process, or the restarted one, takes them over after
// ClaimIdle.
func WithConsumer(name string) Option { return func(c *config) { c.consumer = name } }

// WithClaimIdle sets how long a case handed to a silent process waits before
// another takes it over (DefaultClaimIdle).
func WithClaimIdle(d time.Duration) Option { return func(c *config) { c.claimIdle = d } }

// WithCluster says whether keys in different hash slots must go to different
// scripts. By default it is true for a *goredis.ClusterClient only.
func WithCluster(on bool) Option { return func(c *config) { c.cluster = &on } }

// tidyEvery is how often an observation also drops expired ids and entries out
// of their window; counts stay exact meanwhile (ZCOUNT reads only the window).
const tidyEvery = 16

// WithAutoPipeline makes the store send the commands of concurrent callers in
// shared pipelines, one at a time in the order they came, and queue the writes
// whose answer nobody needs (strikes, audit entries, the journal) instead of
// waiting for them: they go out with the next pipeline. A write Redis did not
// take is counted (LostWrites), or handed to the Fallback that wraps the store.
func WithAutoPipeline() Option { return func(c *config) { c.autoPipeline = true } }

// Store is the Redis store. It is safe for concurrent use.
type Store struct {
	c       Client
	own     bool // Close closes c
	cfg     config
	cluster bool
	// maxPerKey and seenCap are as the observe script reads them, strings
	// made interfaces once.
	maxPerKey, seenCap any
	nonce              string // makes counter members of events without id unique
	// claimTokens are the tokens of the claims of decisions' carrying out
	// this process holds (ClaimCarrying), by case id: a decision's mark is
	// written under its claim only (MarkCarrying).
	claimTokens sync.Map
	seq         atomic.Int64
	tidy        atomic.Int64 // counts observations: one in tidyEvery does housekeeping
	// longestStrike is the longest TTL of a strike this process wrote, for
	// the data marker's (markerTTL).
	longestStrike atomic.Int64
	// skew is how far Redis's clock is ahead of this machine's (ms), as
	// the journal's stamps correct it (0 under skewApplied); skewSeen the
	// last measure (ns), skewKnown whether there was one (measureSkew).
	skew      atomic.Int64
	skewSeen  atomic.Int64
	skewKnown atomic.Bool
	// timeRefused: Redis refused TIME at the last measure (a managed one
	// that forbids it): Unfinished does not ask it each time.
	timeRefused atomic.Bool
	// found says which counters only read were there when last read.
	found found
	// added says which counters were added to lately: the others are
	// likely new, made by RESTORE (see counterDump).
	added found
	// noRestore: Redis refused RESTORE (before 7.0, or a user without it):
	// new counters are made by ZADD and PEXPIRE.
	noRestore atomic.Bool
	trips     atomic.Int64
	// journalPushed spaces this process's pushes of the journal's expiry.
	journalPushed bot.Turn
	// casesPushed spaces this process's pushes of the expiry of the case
	// counter, index and stream.
	casesPushed bot.Turn
	// memberRenew is how often a member's lock held is renewed, when set
	// (the tests'): MemberLockTTL/3 otherwise.
	memberRenew atomic.Int64

	// b sends the commands in shared pipelines (WithAutoPipeline); nil sends
	// each call's on its own.
	b *batcher
	// lost is told of a queued write Redis did not take (the Fallback sets
	// it); lostN counts them.
	lost  func(lostWrite, error)
	lostN atomic.Int64

	groupMu sync.Mutex
	grouped bool // the desk's consumer group exists

	// decoded are the cases read lately, as their JSON decodes.
	decoded caseCache
	// joining are the author groups whose hits found an open case lately:
	// their next hit is sent without its JSON (see openCases).
	joining groupSet
	// caseKeys are the keys and arguments every case opened shares.
	caseKeys caseKeys
	keys     storeKeys
	// auditPushed spaces this process's pushes of the audit stream's expiry
	// (WithAutoPipeline).
	auditPushed bot.Turn
}

// caseKeys are made once: the open script's keys and arguments that do not
// change from case to case, the numbers boxed once (an int64 made an
// interface is an allocation).
type caseKeys struct {
	prefix, seq, epoch, open, stream   string
	ttl, ttlHour, originTTL, streamCap any
	groupWindow, messageKeep           any
	groupAuthors, groupLatest, openCap any
}

// Open connects to the Redis the URL names, without any network call yet:
//
//	redis://[user:password@]host:port[/db][?options]       one server
//	rediss://...                                           the same over TLS
//	redis://host:port?addr=host2:port2&addr=host3:port3    a Redis Cluster (two or more
//	redis+cluster://host:port[?addr=...]                   addresses, or the +cluster scheme)
//	redis://host:port/db?master_name=NAME[&addr=...]       Sentinel: the addresses are the
//	redis+sentinel://host:port/db?master_name=NAME         sentinels', NAME the master's
//
// rediss+cluster and rediss+sentinel add TLS. The query options are go-redis's
// (dial_timeout, pool_size, ...: see redis.ParseURL, ParseClusterURL,
// ParseFailoverURL). A call ends at its context's deadline, unless the URL
// says context_timeout_enabled=false (then at the read timeout only). Close
// closes the connections.
func Open(rawURL string, opts ...Option) (*Store, error) {
	c, err := NewClient(rawURL)
	if err != nil {
		return nil, err
	}
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if _, ok := c.(*goredis.ClusterClient); ok && cfg.cluster == nil {
		opts = append(opts, WithCluster(true)) // the wrapper below hides it
	}
	s, err := newStore(c, opts)
	if err != nil {
		c.Close()
		return nil, err
	}
	s.own = true
	return s, nil
}

// NewClient builds the go-redis client for a URL of the forms Open accepts.
func NewClient(rawURL string) (goredis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	base, mode, _ := strings.Cut(u.Scheme, "+")
	if base != "redis" && base != "rediss" {
		return nil, fmt.Errorf("redis url %q: scheme must be redis or rediss, optionally +cluster or +sentinel: write it like redis://127.0.0.1:6379/0", redact(u))
	}
	q := u.Query()
	switch {
	case mode == "" && q.Has("master_name"):
		mode = "sentinel"
	case mode == "" && q.Has("addr"):
		mode = "cluster"
	}
	plain := *u
	plain.Scheme = base
	// The caller's deadline bounds each call (go-redis's ContextTimeoutEnabled),
	// unless the URL says context_timeout_enabled=false: without it a call on
	// a Redis that hangs waits for the read timeout whatever its context says.
	// Only ParseFailoverURL knows the option, so it is read here for every
	// form and taken out of the query the others read.
	contextTimeout := true
	if q.Has("context_timeout_enabled") {
		switch v := q.Get("context_timeout_enabled"); v {
		case "true", "1":
		case "false", "0":
			contextTimeout = false
		default:
			return nil, fmt.Errorf("redis url %q: context_timeout_enabled=%q: want true, false, 1 or 0", redact(u), v)
		}
		q.Del("context_timeout_enabled")
		plain.RawQuery = q.Encode()
	}
	// RESP2 unless the URL asks for another protocol (protocol=3): the store
	// reads no reply that RESP3 types better, and go-redis on RESP3 looks
	// for push notifications before each reply it reads, about 4% of vigie's
	// CPU on a stream where most events match.
	protocol := 2
	if q.Has("protocol") {
		protocol = 0 // the URL's, which Parse*URL read
	}
	// tune gives a form's options the protocol, retries and deadline above.
	tune := func(proto, maxRetries *int, ctxTimeout *bool) {
		if protocol != 0 {
			*proto = protocol
		}
		if !q.Has("max_retries") {
			*maxRetries = noRetries
		}
		*ctxTimeout = contextTimeout
	}
	switch mode {
	case "":
		o, err := goredis.ParseURL(plain.String())
		if err != nil {
			return nil, fmt.Errorf("redis url %q: %w", redact(u), err)
		}
		tune(&o.Protocol, &o.MaxRetries, &o.ContextTimeoutEnabled)
		return goredis.NewClient(o), nil
	case "cluster":
		o, err := goredis.ParseClusterURL(plain.String())
		if err != nil {
			return nil, fmt.Errorf("redis url %q: %w", redact(u), err)
		}
		tune(&o.Protocol, &o.MaxRetries, &o.ContextTimeoutEnabled)
		return goredis.NewClusterClient(o), nil
	case "sentinel":
		// ParseFailoverURL takes the first sentinel from the host; more come as addr=.
		o, err := goredis.ParseFailoverURL(plain.String())
		if err != nil {
			return nil, fmt.Errorf("redis url %q: %w", redact(u), err)
		}
		if o.MasterName == "" {
			return nil, fmt.Errorf("redis url %q: sentinel needs master_name=", redact(u))
		}
		tune(&o.Protocol, &o.MaxRetries, &o.ContextTimeoutEnabled)
		return goredis.NewFailoverClient(o), nil
	default:
		return nil, fmt.Errorf("redis url %q: unknown mode %q (cluster or sentinel)", redact(u), mode)
	}
}

// noRetries is go-redis's MaxRetries for none. go-redis sends a command again
// when its answer does not come (a read timeout on a slow Redis, a connection
// cut after the write), though it may have run: an event's observation would
// then find its own id and call the event a duplicate, dropping it unjudged, and
// a case's XADD would open it twice. Without the resend, the error reaches the
// caller (Fallback moderates from memory until Redis answers a ping). A URL's
// max_retries= is still honoured.
const noRetries = -1

func redact(u *url.URL) string { return u.Redacted() }

// consumerName is the default name of a Store in the desk's consumer group:
// host-pid alone is shared by two vigie in one process, and by two
// containers with the host's name (host networking) that both run as pid 1.
func consumerName(host string) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// New returns a store on a client the caller owns (Close leaves it open).
func New(c Client, opts ...Option) (*Store, error) { return newStore(c, opts) }

func newStore(c Client, opts []Option) (*Store, error) {
	host, _ := os.Hostname()
	cfg := config{
		prefix:        DefaultPrefix,
		maxPerKey:     DefaultMaxPerKey,
		maxStrikes:    DefaultMaxStrikes,
		openCap:       store.DefaultOpenCaseCap,
		caseStreamCap: DefaultCaseStreamCap,
		consumer:      consumerName(host),
		claimIdle:     DefaultClaimIdle,
		wall:          time.Now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.prefix == "" || strings.ContainsAny(cfg.prefix, "{}") {
		return nil, fmt.Errorf("redis key prefix %q: must be non-empty, without braces", cfg.prefix)
	}
	cfg.maxPerKey = max(cfg.maxPerKey, 1)
	cfg.maxStrikes = max(cfg.maxStrikes, 1)
	if cfg.openCap <= 0 {
		cfg.openCap = store.DefaultOpenCaseCap
	}
	cfg.caseStreamCap = max(cfg.caseStreamCap, 1)
	var b [6]byte
	_, _ = rand.Read(b[:])
	s := &Store{c: c, cfg: cfg, nonce: hex.EncodeToString(b[:]),
		maxPerKey: strconv.Itoa(cfg.maxPerKey), seenCap: strconv.Itoa(DefaultSeenCap)}
	s.found = found{seed: maphash.MakeSeed(), slots: make([]atomic.Uint64, foundSlots)}
	s.added = found{seed: maphash.MakeSeed(), slots: make([]atomic.Uint64, addedSlots)}
	s.caseKeys = caseKeys{prefix: s.casesKey(""), seq: s.casesKey("seq"), epoch: s.casesKey("epoch"), open: s.casesKey("open"), stream: s.casesKey("stream"),
		ttl: ms(DefaultCaseTTL), ttlHour: ms(DefaultCaseTTL + time.Hour), originTTL: ms(min(OriginTTL, DefaultCaseTTL)), streamCap: cfg.caseStreamCap, groupWindow: ms(store.GroupWindow),
		messageKeep:  ms(store.MessageCallKeep),
		groupAuthors: store.GroupAuthors, groupLatest: store.GroupLatest, openCap: cfg.openCap}
	_, s.cluster = c.(*goredis.ClusterClient)
	if cfg.cluster != nil {
		s.cluster = *cfg.cluster
	}
	s.makeKeys()
	c.AddHook(tripHook{&s.trips})
	c.AddHook(leaseHook{})
	if cfg.autoPipeline {
		s.b = newBatcher(c, s.cluster)
	}
	return s, nil
}

// RoundTrips returns how many commands and pipelines the store's client sent:
// one pipeline counts once, whatever it holds (on a cluster, its parts go to
// their nodes in parallel).
func (s *Store) RoundTrips() int64 { return s.trips.Load() }

// Ping checks that Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// writableScript writes a short-lived key: a Redis that answers pings may
// still refuse writes (OOM under noeviction, MISCONF, a replica's READONLY).
var writableScript = goredis.NewScript(`redis.call('SET', KEYS[1], '1', 'PX', 60000) return 1`)

// writable checks that Redis takes a write.
func (s *Store) writable(ctx context.Context) error {
	if err := writableScript.Run(ctx, s.c, []string{s.cfg.prefix + ":{probe}:writable"}).Err(); err != nil {
		return fmt.Errorf("redis write probe: %w", err)
	}
	return nil
}

// markerScript keeps PREFIX:{probe}:marker, vigie's mark on this Redis's data,
// and says whether it was there (1) or is set now (0). ARGV: its TTL in
// milliseconds, 0 for none. A TTL never shortens one the marker has (another
// process may know of data that lives longer), but ends one kept for good.
var markerScript = goredis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ARGV[1] == '0' then
  if ttl == -2 then redis.call('SET', KEYS[1], '1') return 0 end
  redis.call('PERSIST', KEYS[1])
  return 1
end
if ttl == -2 then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) return 0 end
if ttl == -1 or ttl < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 1`)

// markerFloor is the shortest time the marker outlives the last vigie that
// kept it: the longest-lived data it vouches for sets it (markerTTL).
const markerFloor = 24 * time.Hour

// markerTTL is how long the marker outlives its last check: as long as what
// the store keeps with a TTL may be there after the last write of the last
// vigie, the cases and audit (90 days by default), the journal, the longest
// strike this process wrote, a day at least. A Redis cut from vigie for less
// still holds that data when vigie is back, and the marker with it: a marker
// gone then is a loss, not the data's own end.
func (s *Store) markerTTL() time.Duration {
	return max(markerFloor, DefaultCaseTTL, DefaultAuditTTL, DefaultJournalTTL+time.Hour, time.Duration(s.longestStrike.Load()))
}

// markData keeps the marker and reports whether it was there already. While
// the store holds data that never expires (the console's accounts, the ban
// book), the marker does not expire either: they stay when every vigie is
// stopped, for as long as one may, and one started after must not find them
// with the marker gone. Once they are gone, the marker expires with the rest
// (markerTTL, at least the audit's TTL, which the recent events have too):
// a prefix nobody uses any more keeps it no longer than its other data.
// (The recent events never expired before, and kept the marker for ever
// wherever they had been written.)
func (s *Store) markData(ctx context.Context) (bool, error) {
	p := s.c.Pipeline()
	lasting := []*goredis.IntCmd{p.Exists(ctx, s.accountsKey()), p.Exists(ctx, s.banKeys()[0])}
	if _, err := p.Exec(ctx); err != nil {
		return false, fmt.Errorf("redis data marker: %w", err)
	}
	ttl := s.markerTTL().Milliseconds()
	for _, c := range lasting {
		if c.Val() > 0 {
			ttl = 0
		}
	}
	n, err := markerScript.Run(ctx, s.c, []string{s.cfg.prefix + ":{probe}:marker"}, ttl).Int()
	if err != nil {
		return false, fmt.Errorf("redis data marker: %w", err)
	}
	return n == 1, nil
}

// LostWrites returns how many queued writes (WithAutoPipeline) Redis did not
// take and nobody else took over.
func (s *Store) LostWrites() int64 { return s.lostN.Load() }

// Close sends what is queued, and closes the client if Open made it.
func (s *Store) Close() error {
	if s.b != nil {
		s.b.close()
	}
	if s.own {
		return s.c.Close()
	}
	return nil
}

type tripHook struct{ n *atomic.Int64 }

func (h tripHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h tripHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h tripHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

// leaseHook refuses the commands of a single-owner job whose lease may have
// run out (bot.CheckLease): another process may run the job now, and what
// this one writes late could undo what that one wrote.
type leaseHook struct{}

func (leaseHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (leaseHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if err := bot.CheckLease(ctx); err != nil {
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (leaseHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		if err := bot.CheckLease(ctx); err != nil {
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

// Key layout. Everything about one author in one space shares the hash tag
// {platform:space:author}; a counter lives under the tag of its key's value, so a
// counter keyed by the author lands in the author's slot and one keyed by the
// space in the space's.
//
//	PREFIX:{PLATFORM:SPACE:AUTHOR}:seen       zset event id -> time (dedupe)
//	PREFIX:{PLATFORM:SPACE:AUTHOR}:strikes    zset "expiry:nonce" -> time
//	PREFIX:{PLATFORM:SPACE:KEY}:c:NAME        zset member -> time (sliding window)
//	PREFIX:{PLATFORM:SPACE:sha256:HEX}:c:NAME  the same for a KEY past 64 bytes (counterKeyPart)
//	PREFIX:{cases}:seq                        counter of case ids
//	PREFIX:{cases}:epoch                      the epoch of the ids it counts
//	PREFIX:{cases}:ID                         hash: one case's state
//	PREFIX:{cases}:open, PREFIX:{cases}:decided  zsets of ids by number
//	PREFIX:{cases}:stream                     stream of opened cases, group "desk"
//	PREFIX:{cases}:origin:ORIGIN              id of the case an origin opened or joined
//	PREFIX:{cases}:group:AUTHORGROUP          id of the author's last case there, while it is open
//	PREFIX:{cases}:joined:ID                  list: the group keys of the case's last members
//	PREFIX:{cases}:refs:ID                    list: where the case's last grouped messages are (store.MessageRef, JSON)
//	PREFIX:{cases}:place:PLACEGROUP           hash: cases opened lately in a place
//	PREFIX:{cases}:reminders                  hash: case id -> reminder a desk did not take
//	PREFIX:{audit}:stream                     stream of audit entries (JSON)
//	PREFIX:{journal}:entries                  hash event key -> verdict in flight (JSON)
//	PREFIX:{journal}:at, PREFIX:{journal}:tries  zset of their stamps, hash of their takes
//	PREFIX:{bans}:all                         hash member -> the ban kept (JSON)
//	PREFIX:{bans}:due, PREFIX:{bans}:drop      zsets: when vigie lifts it, when a ban never due is dropped
//	PREFIX:{lease:JOB}:owner                  "TOKEN:OWNER" of the job's lease, with its TTL
//	PREFIX:{lease:JOB}:token                  the job's last fencing token (INCR, from Redis's clock in µs)
//	PREFIX:{lease:JOB}:v:NAME                 a value written under the lease (AdvanceFenced)
//	PREFIX:{channels}:discord                 hash: the Discord shards' channel -> "GUILD:LAST:AT", and "saved:SHARD/COUNT" of each writer
//	PREFIX:{channels}:JOB                     the same, one shard's alone, as vigie kept them before: read once, then dropped
//	PREFIX:{probe}:writable                   written while Redis is away, to see it takes writes again
//	PREFIX:{probe}:marker                     kept by every vigie: gone, Redis lost its data

// longKeyAt is the length past which a counter's key is named in Redis by
// its SHA-256 (counterKeyPart): a counter keyed by the text (same_text, the
// near copies) would otherwise make a key as long as the message, 8 KB from
// a platform, 1 MiB from /v1/events, sent, hashed for its slot and kept by
// Redis at every event.
const longKeyAt = 64

// counterKeyPart is how a counter's key is written in its Redis key: as it
// is up to longKeyAt bytes, "sha256:" and the hex of its SHA-256 past that.
// The hashed form is 71 bytes long, longer than any key kept as it is, so
// no short key reads as a long one's; and no one can build two long keys of
// one SHA-256. Every instance names a key alike, since the hash has no
// secret (a keyed hash would need one shared by the fleet).
func counterKeyPart(key string) string {
	if len(key) <= longKeyAt {
		return key
	}
	h := sha256.New()
	h.Write([]byte(key))
	var sum [sha256.Size]byte
	return "sha256:" + hex.EncodeToString(h.Sum(sum[:0]))
}

// tag is a key's hash tag {PLATFORM:SPACE:V}, under the prefix.
func (s *Store) tag(platform, space, v string) string {
	return s.cfg.prefix + ":{" + platform + ":" + space + ":" + v + "}"
}

// writeTag writes tag(platform, space, v) to b.
func (s *Store) writeTag(b *strings.Builder, platform, space, v string) {
	b.WriteString(s.cfg.prefix)
	b.WriteString(":{")
	b.WriteString(platform)
	b.WriteByte(':')
	b.WriteString(space)
	b.WriteByte(':')
	b.WriteString(v)
	b.WriteByte('}')
}

func (s *Store) casesKey(suffix string) string { return s.cfg.prefix + ":{cases}:" + suffix }

func (s *Store) auditKey() string { return s.keys.audit }

// journalKeys returns the journal's keys, made once: the caller does not
// change them.
func (s *Store) journalKeys() []string { return s.keys.journal[:] }

// storeKeys are the keys of the store's shared state, made once.
type storeKeys struct {
	audit   string
	journal [3]string
	// auditCap and auditTTL are the audit XADD's MAXLEN and the stream's
	// PEXPIRE, boxed once.
	auditCap, auditTTL any
}

func (s *Store) makeKeys() {
	p := s.cfg.prefix + ":{journal}:"
	s.keys = storeKeys{audit: s.cfg.prefix + ":{audit}:stream", journal: [3]string{p + "entries", p + "at", p + "tries"},
		auditCap: DefaultAuditCap, auditTTL: ms(DefaultAuditTTL + time.Hour)}
}

// group is the part of an observation that lives in one hash slot.
type group struct {
	slot  int
	keys  []string
	args  []any
	index []int // positions of its counters in the observation, as the script answers them
	cmd   *goredis.Cmd
	// How many counters the event is added to, how many only read are
	// counted at once (there when last read), and how many only read are
	// asked with EXISTS first: in this order in the script's keys.
	incr, direct, read int
}

// counterRef is one counter of an observation on its way to its group.
type counterRef struct {
	g   *group
	key string
	win int // in the observation's windows
}

// window holds the arguments a window gives the script, made once per
// observation however many counters share it.
type window struct {
	ms        int64
	from, exp any // "(at-window", "-expiry" (made when a counter is added to)
}

func ms(d time.Duration) int64 { return d.Milliseconds() }

// Observe sends the event's dedupe, counters and strikes in one script: one
// EVALSHA on a single server, one per hash slot touched (in one pipeline) on a
// cluster. An observation with neither an id nor strikes needs no script (see
// counters).
func (s *Store) Observe(ctx context.Context, o store.Observation) (store.Result, error) {
	if o.EventID == "" && len(o.Counters) == 0 && o.StrikeWindow <= 0 {
		return store.Result{}, nil
	}
	if o.EventID == "" && o.StrikeWindow <= 0 {
		return s.counters(ctx, o)
	}
	at := o.At.UnixMilli()
	ats := strconv.FormatInt(at, 10)
	var member string
	if o.EventID != "" {
		// The same event sent again is the same member, so a retry is counted
		// once even by a script that does not see the dedupe key (on a cluster).
		member = "e:" + strconv.FormatInt(at, 36) + ":" + o.EventID
	} else {
		member = "n:" + s.nonce + ":" + strconv.FormatInt(s.seq.Add(1), 36)
	}
	tidy := "0"
	if s.tidy.Add(1)%tidyEvery == 0 {
		tidy = "1"
	}
	var dedupeTTL int64
	seen := at // the ids' clock: when the event was seen
	if !o.SeenAt.IsZero() {
		// On Redis's clock: a pending mark's hold (seconds) is compared
		// with another instance's seen, whose machine's clock may be off.
		seen = s.onRedisClock(o.SeenAt)
	}
	seens := strconv.FormatInt(seen, 10)
	if o.EventID != "" && o.Pending > 0 {
		seens = pendingScore(seen, o.Pending)
	}
	if o.EventID != "" {
		dedupeTTL = max(ms(o.DedupeTTL), 0)
		if dedupeTTL == 0 {
			dedupeTTL = ms(store.DefaultDedupeTTL)
		}
	}
	header := func(author bool) []any {
		args := make([]any, 10, 12+2*len(o.Counters))
		args[0], args[1], args[2], args[3], args[4] = ats, "", o.EventID, "", ""
		args[5], args[6], args[7], args[8], args[9] = member, tidy, s.maxPerKey, s.seenCap, "0"
		if author && o.EventID != "" {
			args[1] = strconv.FormatInt(dedupeTTL, 10)
			args[3] = strconv.FormatInt(seen-dedupeTTL, 10)
		}
		if author && o.StrikeWindow > 0 {
			args[4] = "(" + strconv.FormatInt(at-ms(o.StrikeWindow), 10)
		}
		return args
	}
	var groups []*group
	// Every key is a part of one string, written once in a builder of the
	// exact size: a concatenation each cost more than the rest of the keys'
	// work, and a buffer too small for the tag's three copies grew on most
	// events (then the string was copied from it).
	base := len(s.cfg.prefix) + len(o.Platform) + len(o.Space) + len(":{::}")
	tagLen := base + len(o.Author)
	size := tagLen
	if o.EventID != "" {
		size += tagLen + len(":seen")
	}
	if o.StrikeWindow > 0 {
		size += tagLen + len(":strikes")
	}
	// the counters' keys as written (counterKeyPart); parts[i] is set
	// for a long key only
	var partBuf [16]string
	parts := partBuf[:0]
	for _, op := range o.Counters {
		part := ""
		if len(op.Key) > longKeyAt {
			part = counterKeyPart(op.Key)
			size += base + len(part) + len(":c:") + len(op.Name)
		} else {
			size += base + len(op.Key) + len(":c:") + len(op.Name)
		}
		parts = append(parts, part)
	}
	var kb strings.Builder
	kb.Grow(size)
	s.writeTag(&kb, o.Platform, o.Space, o.Author)
	var seenAt, strikesAt [2]int
	// kb.String() is what was written so far, without a copy: what is
	// written after it does not change it.
	if o.EventID != "" {
		seenAt[0] = kb.Len()
		kb.WriteString(kb.String()[:tagLen])
		kb.WriteString(":seen")
		seenAt[1] = kb.Len()
	}
	if o.StrikeWindow > 0 {
		strikesAt[0] = kb.Len()
		kb.WriteString(kb.String()[:tagLen])
		kb.WriteString(":strikes")
		strikesAt[1] = kb.Len()
	}
	var spanBuf [16][2]int
	spans := spanBuf[:0]
	for i, op := range o.Counters {
		from := kb.Len()
		if parts[i] != "" {
			s.writeTag(&kb, o.Platform, o.Space, parts[i])
		} else if op.Key == o.Author {
			kb.WriteString(kb.String()[:tagLen])
		} else {
			s.writeTag(&kb, o.Platform, o.Space, op.Key)
		}
		kb.WriteString(":c:")
		kb.WriteString(op.Name)
		spans = append(spans, [2]int{from, kb.Len()})
	}
	allKeys := kb.String()
	authorTag := allKeys[:tagLen]
	var first *group // the author's: ids and strikes
	if o.EventID != "" || o.StrikeWindow > 0 || !s.cluster {
		first = &group{args: header(true)}
		if s.cluster {
			first.slot = slotOf(authorTag)
		}
		first.keys = make([]string, 0, 2+len(o.Counters))
		if o.EventID != "" {
			first.keys = append(first.keys, allKeys[seenAt[0]:seenAt[1]])
		}
		if o.StrikeWindow > 0 {
			first.keys = append(first.keys, allKeys[strikesAt[0]:strikesAt[1]])
		}
		groups = append(groups, first)
	}
	// Arguments are made once per window and converted to interfaces once:
	// most of the pack's counters share a few windows.
	var winBuf [8]window
	wins := winBuf[:0]
	var refBuf [16]counterRef
	refs := refBuf[:0]
	var directBuf [16]bool
	direct := directBuf[:0]
	for i, op := range o.Counters {
		key := allKeys[spans[i][0]:spans[i][1]]
		g := first
		if s.cluster {
			g = nil
			slot := slotOf(key)
			for _, h := range groups {
				if h.slot == slot {
					g = h
					break
				}
			}
			if g == nil {
				g = &group{slot: slot, args: header(false)}
				groups = append(groups, g)
			}
		}
		w := max(ms(op.Window), 1)
		wi := slices.IndexFunc(wins, func(x window) bool { return x.ms == w })
		if wi < 0 {
			wi = len(wins)
			wins = append(wins, window{ms: w, from: "(" + strconv.FormatInt(at-w, 10)})
		}
		if op.Incr {
			g.incr++
			if wins[wi].exp == nil {
				wins[wi].exp = "-" + strconv.FormatInt(counterExpiry(at, w), 10)
			}
			direct = append(direct, false)
		} else if len(o.Counters) < maxCounted && s.found.likely(key) {
			g.direct++
			direct = append(direct, true)
		} else {
			g.read++
			direct = append(direct, false)
		}
		refs = append(refs, counterRef{g: g, key: key, win: wi})
	}
	for _, g := range groups {
		if g.keys == nil {
			g.keys = make([]string, 0, g.incr+g.direct+g.read)
		}
		// one number for both: an argument more cost Redis 6,000
		// instructions an observation (BenchmarkRedisWrites/observe);
		// negative when some are counted at once, so that a thousand
		// counters added to and more are not read as those
		n := g.incr
		if g.direct > 0 {
			n = -(g.incr + maxCounted*g.direct)
		}
		g.args = append(g.args, strconv.Itoa(n), seens)
		g.index = make([]int, 0, g.incr+g.direct+g.read)
	}
	// First the counters the event is added to, then those only read.
	for i, op := range o.Counters {
		if !op.Incr {
			continue
		}
		r := refs[i]
		g, w := r.g, wins[r.win]
		// The first counter of the author's own that lives less long
		// than the ids carries their expiry: the ids then live one of
		// its refresh periods longer than asked.
		if g == first && op.Key == o.Author && dedupeTTL > 0 && g.args[9] == "0" &&
			dedupeTTL >= 2*refreshPeriod(w.ms)+w.ms {
			g.args[9] = strconv.Itoa(len(g.index) + 1)
			g.args[1] = strconv.FormatInt(dedupeTTL+refreshPeriod(w.ms), 10)
		}
		g.keys = append(g.keys, r.key)
		g.args = append(g.args, w.from, w.exp)
		g.index = append(g.index, i)
	}
	// Then those only read that were there when last read, then the others.
	for _, atOnce := range [2]bool{true, false} {
		for i, op := range o.Counters {
			if op.Incr || direct[i] != atOnce {
				continue
			}
			r := refs[i]
			r.g.keys = append(r.g.keys, r.key)
			r.g.args = append(r.g.args, wins[r.win].from)
			r.g.index = append(r.g.index, i)
		}
	}
	if !s.noRestore.Load() {
		for _, g := range groups {
			s.appendForms(g, refs, wins, member, at)
		}
	}
	// On a cluster only the author's slot knows the ids: the other slots
	// count a retry once because their entry is named by the event's id
	// and time. The engine moves the time of an event stamped ahead of its
	// clock (to the clock) or older than it takes (to the clock less
	// 72 hours, the dedupe TTL): such an event's retry is judged at another
	// time, and would be a new entry there. Its author's slot answers
	// first, and the others count it only if it is not a duplicate: a
	// second round trip, for these events only.
	all, rest := groups, []*group(nil)
	if s.cluster && o.EventID != "" && len(groups) > 1 && !o.SeenAt.IsZero() && (seen == at || seen-at >= dedupeTTL) {
		groups, rest = groups[:1], groups[1:]
	}
	err := s.runScripts(ctx, observeScript, groups)
	if vals, _ := first.cmd.Slice(); err == nil && len(rest) > 0 && !(len(vals) > 0 && vals[0] == int64(1)) {
		err, groups = s.runScripts(ctx, observeScript, rest), all
	}
	if err != nil {
		return store.Result{}, fmt.Errorf("redis observe %s: %w", o.EventID, err)
	}
	var res store.Result
	if len(o.Counters) > 0 {
		res.Counts = make([]int64, len(o.Counters))
	}
	for _, g := range groups {
		vals, err := g.cmd.Slice()
		if err != nil {
			return store.Result{}, fmt.Errorf("redis observe %s: %w", o.EventID, err)
		}
		if len(vals) > 0 && vals[0] == int64(1) {
			return store.Result{Duplicate: true}, nil
		}
		if len(vals) > 0 && vals[0] == int64(2) {
			res.Again = true
		}
		if len(vals) > 0 && vals[0] == int64(3) {
			s.noRestore.Store(true)
		}
		if len(vals) < 1+len(g.index) {
			return store.Result{}, fmt.Errorf("redis observe %s: unexpected reply %v", o.EventID, vals)
		}
		for j, pos := range g.index {
			res.Counts[pos], _ = vals[1+j].(int64)
			if !o.Counters[pos].Incr {
				s.found.saw(refs[pos].key, res.Counts[pos] > 0)
			} else if !res.Again {
				s.added.saw(refs[pos].key, true)
			}
		}
		if n := len(vals) - 1 - len(g.index); n > 0 && res.Strikes == nil {
			res.Strikes = make([]time.Time, 0, n)
		}
		for _, v := range vals[1+len(g.index):] {
			n, _ := v.(int64)
			res.Strikes = append(res.Strikes, time.UnixMilli(n).UTC())
		}
	}
	return res, nil
}

// appendForms adds to g's arguments, when some counters it adds to are
// likely new (not added to lately, as far as added remembers), a letter for
// each counter added to ("0", or "a" for the first form that follows...)
// and the DUMP form of a new counter's key for each window they have
// (counterDump), so that the observe script makes each with RESTORE, its
// expiry with it, where ZADD and PEXPIRE took two calls. A counter that is
// there after all is added to by ZADD (RESTORE refuses to replace a key).
func (s *Store) appendForms(g *group, refs []counterRef, wins []window, member string, at int64) {
	if g.incr == 0 {
		return
	}
	var letters []byte
	var forms [8]int // the window of each form
	n := 0
	for c, pos := range g.index[:g.incr] {
		r := refs[pos]
		if s.added.likely(r.key) {
			continue
		}
		f := slices.Index(forms[:n], r.win)
		if f < 0 {
			if n == len(forms) {
				continue // as many windows are rare: ZADD
			}
			f, n = n, n+1
			forms[f] = r.win
		}
		if letters == nil {
			letters = bytes.Repeat([]byte{'0'}, g.incr)
		}
		letters[c] = 'a' + byte(f)
	}
	if letters == nil {
		return
	}
	g.args = append(g.args, letters)
	for _, wi := range forms[:n] {
		d := counterDump(member, at, counterExpiry(at, wins[wi].ms))
		if d == nil {
			// A member Redis keeps as a number: none is restored.
			g.args = g.args[:len(g.args)-1]
			return
		}
		g.args = append(g.args, d)
	}
}

// maxCounted bounds the counters an observation is added to in the observe
// script's eleventh argument when it also says how many only read are
// counted at once (in thousands, the whole negative): an observation of more
// counters (no rule file comes near) counts none at once, and the argument
// is then the count of those added to alone.
const maxCounted = 1000

// found remembers, for the counters an observation only read, whether each
// was there: the observe script counts at once (a ZCOUNT each) those that
// were there the last time they were read, and asks the others with EXISTS
// first, which answers for all those absent in one call but takes several
// when a few are there (see observeScript). A place's hit counter, read by
// every event there, is mostly there; an author's near-copy counters, read
// when the message is too short to add to them, mostly not. It is a table
// of foundSlots keys' hashes, each with a bit for there, which keys share
// when their hashes fall in one slot: a key forgotten or mistaken is only
// asked the other way, the counts are the same either way.
type found struct {
	seed  maphash.Seed
	slots []atomic.Uint64
}

// foundSlots is how many keys found remembers at most of the counters only
// read; addedSlots of those added to, which come and go faster (a raid's
// new texts make a new key or more an event, and a key added to again after
// the table forgot it costs a refused RESTORE: on the raid stream 0.44 an
// event with 65,536 slots, 0.12 with these, 2 MiB).
const (
	foundSlots = 4096
	addedSlots = 1 << 18
)

func (f *found) hash(key string) (slot *atomic.Uint64, there uint64) {
	h := maphash.String(f.seed, key)
	return &f.slots[h%uint64(len(f.slots))], h | 1
}

// likely says whether the counter key was there the last time it was read.
func (f *found) likely(key string) bool {
	slot, there := f.hash(key)
	return slot.Load() == there
}

// saw records whether the counter key, only read, was there.
func (f *found) saw(key string, there bool) {
	slot, v := f.hash(key)
	old := slot.Load()
	switch {
	case there && old != v:
		slot.Store(v)
	case !there && old == v:
		slot.Store(0)
	}
}

// counters answers an observation without an event id or strikes (a case's
// priority reads its author's earlier cases, a case opened counts, an
// alert's hits count) with plain commands, as the observe script would: a
// counter only read is one ZCOUNT; one added to is ZADD (the event and the
// expiry marker, see observeScript), PEXPIRE and ZCOUNT, with the entries out
// of the window dropped first on housekeeping. There is no id to dedupe, so
// nothing needs the script's atomicity: the commands go in the shared
// pipeline (one round trip) and cost Redis about 40% less than a script
// around them (BenchmarkRedisWrites/count).
// The expiry is pushed on every such event rather than once per period: it
// is the same time, and one command. A counter past the cap is cut down to
// it in a second round trip, as rare as such a counter.
func (s *Store) counters(ctx context.Context, o store.Observation) (store.Result, error) {
	at := o.At.UnixMilli()
	ats := strconv.FormatInt(at, 10)
	tidy := false
	member := ""
	if slices.ContainsFunc(o.Counters, func(op store.CounterOp) bool { return op.Incr }) {
		member = "n:" + s.nonce + ":" + strconv.FormatInt(s.seq.Add(1), 36)
		tidy = s.tidy.Add(1)%tidyEvery == 0
	}
	cctx := s.writeContext(ctx) // the batcher's, as the pipeline's
	keys := make([]string, len(o.Counters))
	froms := make([]string, len(o.Counters))
	counts := make([]*goredis.IntCmd, len(o.Counters))
	cmds := make([]goredis.Cmder, 0, 4*len(o.Counters))
	for i, op := range o.Counters {
		key := s.cfg.prefix + ":{" + o.Platform + ":" + o.Space + ":" + counterKeyPart(op.Key) + "}:c:" + op.Name
		w := max(ms(op.Window), 1)
		from := "(" + strconv.FormatInt(at-w, 10)
		keys[i], froms[i] = key, from
		if op.Incr {
			exp := counterExpiry(at, w)
			if tidy {
				cmds = append(cmds, goredis.NewIntCmd(cctx, "zremrangebyscore", key, "-inf", from[1:]))
			}
			cmds = append(cmds,
				goredis.NewIntCmd(cctx, "zadd", key, "lt", "ch", ats, member, "-"+strconv.FormatInt(exp, 10), "~", "+inf", "^"),
				goredis.NewBoolCmd(cctx, "pexpire", key, exp-at))
		}
		counts[i] = goredis.NewIntCmd(cctx, "zcount", key, from, "(+inf")
		cmds = append(cmds, counts[i])
	}
	if err := s.runCmds(ctx, cmds); err != nil {
		return store.Result{}, fmt.Errorf("redis counters: %w", err)
	}
	res := store.Result{Counts: make([]int64, len(counts))}
	var over []goredis.Cmder
	var overAt []int
	for i, c := range counts {
		res.Counts[i] = c.Val()
		if o.Counters[i].Incr && c.Val() > int64(s.cfg.maxPerKey) {
			// Keep the cap's latest entries and "^".
			over = append(over, goredis.NewIntCmd(cctx, "zremrangebyrank", keys[i], 0, -s.cfg.maxPerKey-2),
				goredis.NewIntCmd(cctx, "zcount", keys[i], froms[i], "(+inf"))
			overAt = append(overAt, i)
		}
	}
	if len(over) > 0 {
		if err := s.runCmds(ctx, over); err != nil {
			return store.Result{}, fmt.Errorf("redis counters: %w", err)
		}
		for j, i := range overAt {
			res.Counts[i] = over[2*j+1].(*goredis.IntCmd).Val()
		}
	}
	return res, nil
}

// runCmds sends commands in one pipeline, the shared one with
// WithAutoPipeline, and waits for their answers: the first error of them.
func (s *Store) runCmds(ctx context.Context, cmds []goredis.Cmder) error {
	var err error
	if s.b != nil {
		calls := make([]call, len(cmds))
		ptrs := make([]*call, len(cmds))
		for i, c := range cmds {
			calls[i].cmd = c
			ptrs[i] = &calls[i]
		}
		err = s.b.do(ctx, ptrs...)
		for i := range calls {
			if err == nil {
				err = calls[i].cmd.Err() // a call given up was not sent: its cmd says so
			}
		}
		return err
	}
	pipe := s.c.Pipeline()
	for _, c := range cmds {
		_ = pipe.Process(ctx, c)
	}
	_, err = pipe.Exec(ctx)
	for _, c := range cmds {
		if err == nil {
			err = c.Err()
		}
	}
	return err
}

// The period after which a counter's expiry is pushed again is its window,
// kept between minRefresh and maxRefresh. The floor spares a PEXPIRE on most
// events of an author who writes every few seconds to a counter of a few
// seconds' window (measured: 1.6 PEXPIRE per event with the starter pack
// without it); such a counter then outlives its last event by one to two
// minutes instead of two or three windows.
const (
	minRefresh = time.Minute
	maxRefresh = time.Hour
)

// counterExpiry is the time, on the events' clock, until which a counter that
// an event at at (ms) is added to must live, rounded up to the end of the next
// refresh period so that every event of one period asks for the same expiry:
// the first of them pushes it, the others find it done. A counter lives between
// one and two periods plus its window after its last event.
func counterExpiry(at, window int64) int64 {
	period := refreshPeriod(window)
	k := at / period
	if at < 0 && at%period != 0 {
		k--
	}
	return (k+2)*period + window
}

// refreshPeriod is how often (ms, on the events' clock) the expiry of a
// counter with this window is pushed while events come.
func refreshPeriod(window int64) int64 {
	return min(max(window, minRefresh.Milliseconds()), maxRefresh.Milliseconds())
}

// runScripts sends one EVALSHA per group, several in one pipeline; a group whose
// node did not know the script (after a restart or SCRIPT FLUSH) is sent again
// with EVAL, which also loads it.
func (s *Store) runScripts(ctx context.Context, sc *goredis.Script, groups []*group) error {
	if s.b != nil {
		calls := make([]*call, len(groups))
		for i, g := range groups {
			calls[i] = &call{sc: sc, keys: g.keys, args: g.args}
		}
		err := s.b.do(ctx, calls...)
		for i, g := range groups {
			if err != nil {
				g.cmd = goredis.NewCmd(ctx)
				g.cmd.SetErr(err)
				continue
			}
			g.cmd = calls[i].cmd.(*goredis.Cmd)
			if e := g.cmd.Err(); e != nil && err == nil {
				err = e
			}
		}
		return err
	}
	if len(groups) == 1 {
		// One script is one command: no pipeline to build.
		g := groups[0]
		g.cmd = sc.Run(ctx, s.c, g.keys, g.args...)
		return g.cmd.Err()
	}
	pipe := s.c.Pipeline()
	for _, g := range groups {
		g.cmd = sc.EvalSha(ctx, pipe, g.keys, g.args...)
	}
	_, _ = pipe.Exec(ctx) // errors are read per command below
	var again []*group
	var first error
	for _, g := range groups {
		if err := g.cmd.Err(); err != nil {
			if goredis.HasErrorPrefix(err, "NOSCRIPT") {
				again = append(again, g)
			} else if first == nil {
				first = err
			}
		}
	}
	if len(again) == 0 {
		return first
	}
	pipe = s.c.Pipeline()
	for _, g := range again {
		g.cmd = sc.Eval(ctx, pipe, g.keys, g.args...)
	}
	_, _ = pipe.Exec(ctx)
	for _, g := range again {
		if err := g.cmd.Err(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// script runs one script and waits for its answer: in the next shared
// pipeline with WithAutoPipeline, on its own otherwise.
func (s *Store) script(ctx context.Context, sc *goredis.Script, keys []string, args ...any) *goredis.Cmd {
	g := &group{keys: keys, args: args}
	_ = s.runScripts(ctx, sc, []*group{g})
	return g.cmd
}

// lostWrite is a queued write that Redis did not take: one field is set.
type lostWrite struct {
	strike *store.Strike
	audit  *store.AuditEntry
	begin  *store.JournalEntry
	done   string
	settle *store.SeenMark
}

// write runs a script whose answer nobody needs. With WithAutoPipeline it is
// queued for the next pipeline and write returns at once; if Redis does not
// take it, w goes to the store's lost.
func (s *Store) write(ctx context.Context, w lostWrite, sc *goredis.Script, keys []string, args ...any) error {
	if s.b == nil {
		return sc.Run(ctx, s.c, keys, args...).Err()
	}
	s.b.push(&call{sc: sc, keys: keys, args: args, lost: s.lostFunc(w)})
	return nil
}

// writeCmds sends commands whose answer nobody needs, like write: queued
// with WithAutoPipeline, in one pipeline otherwise. A failure is told to
// failed, when set, and with WithAutoPipeline w goes to lost: the first
// command carries it, as whatever keeps Redis from taking one (the network,
// an out-of-memory refusal) keeps it from taking the others.
func (s *Store) writeCmds(ctx context.Context, w lostWrite, failed func(), cmds ...goredis.Cmder) error {
	if s.b == nil {
		pipe := s.c.Pipeline()
		for _, c := range cmds {
			_ = pipe.Process(ctx, c)
		}
		_, err := pipe.Exec(ctx)
		if err != nil && failed != nil {
			failed()
		}
		return err
	}
	s.b.push(s.writeCalls(w, failed, cmds)...)
	return nil
}

// writeCalls makes the batcher's calls of writeCmds's commands: the first
// carries w and failed.
func (s *Store) writeCalls(w lostWrite, failed func(), cmds []goredis.Cmder) []*call {
	lost := s.lostFunc(w)
	if failed != nil {
		lost = func(err error) {
			failed()
			s.lostFunc(w)(err)
		}
	}
	calls := make([]call, len(cmds))
	ptrs := make([]*call, len(cmds))
	for i, c := range cmds {
		calls[i].cmd = c
		ptrs[i] = &calls[i]
	}
	calls[0].lost = lost
	return ptrs
}

// writeContext is the context of the commands of a write: with
// WithAutoPipeline the batcher's, as a queued write outlives its caller's.
func (s *Store) writeContext(ctx context.Context) context.Context {
	if s.b != nil {
		return s.b.ctx
	}
	return ctx
}

func (s *Store) lostFunc(w lostWrite) func(error) {
	return func(err error) {
		if s.lost != nil {
			s.lost(w, err)
			return
		}
		s.lostN.Add(1)
	}
}

// settle waits until what was queued is in Redis, before a read that does not
// go through the shared pipelines.
func (s *Store) settle(ctx context.Context) error {
	if s.b == nil {
		return nil
	}
	return s.b.settle(ctx)
}

// AddStrike records a strike; a zero TTL means store.DefaultStrikeTTL.
func (s *Store) AddStrike(ctx context.Context, st store.Strike) error {
	keys, args := s.strikeCall(st)
	err := s.write(ctx, lostWrite{strike: &st}, strikeScript, keys, args...)
	if err != nil {
		return fmt.Errorf("redis add strike for %s: %w", st.Author, err)
	}
	return nil
}

// strikeCall makes strikeScript's keys and arguments for one strike.
func (s *Store) strikeCall(st store.Strike) ([]string, []any) {
	ttl := st.TTL
	if ttl <= 0 {
		ttl = store.DefaultStrikeTTL
	}
	for {
		l := s.longestStrike.Load()
		if int64(ttl) <= l || s.longestStrike.CompareAndSwap(l, int64(ttl)) {
			break
		}
	}
	at := st.At.UnixMilli()
	member := strconv.FormatInt(at+ms(ttl), 10) + ":" + st.Rule + ":" + s.nonce + ":" + strconv.FormatInt(s.seq.Add(1), 36)
	key := s.tag(st.Platform, st.Space, st.Author) + ":strikes"
	return []string{key}, []any{at, s.cfg.maxStrikes, ms(ttl), member}
}

// AppendAudit adds an entry to the audit stream, capped near AuditCap entries.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) error {
	if s.b == nil {
		return s.appendAudits(ctx, []store.AuditEntry{e})
	}
	buf := entryBuf(1024 + len(e.Event.Text))
	data, err := appendAudit(*buf, &e)
	if err != nil {
		return fmt.Errorf("audit entry: %w", err)
	}
	*buf = data
	lost := s.lostFunc(lostWrite{audit: &e})
	add := &call{cmd: goredis.NewCmd(s.b.ctx, "xadd", s.keys.audit, "maxlen", "~", s.keys.auditCap, "*", "e", data), lost: lost, buf: buf}
	// The stream's expiry is pushed to its TTL and an hour once a minute,
	// not with every pipeline that carries an entry (a stream Redis lost is
	// made again without one for a minute at most). On the wall clock: the
	// TTL runs out in Redis in real time.
	if !s.auditPushed.Take(time.Now(), auditPushEvery) {
		s.b.push(add)
		return nil
	}
	s.b.push(add, &call{cmd: goredis.NewCmd(s.b.ctx, "pexpire", s.keys.audit, s.keys.auditTTL),
		lost: func(error) { s.auditPushed.Forget() }}) // pushed by the next entry
	return nil
}

// appendAudits adds entries to the audit stream in one pipeline.
func (s *Store) appendAudits(ctx context.Context, entries []store.AuditEntry) error {
	key := s.auditKey()
	pipe := s.c.Pipeline()
	for i := range entries {
		data, err := encodeAudit(&entries[i])
		if err != nil {
			return fmt.Errorf("audit entry: %w", err)
		}
		pipe.XAdd(ctx, &goredis.XAddArgs{Stream: key, MaxLen: DefaultAuditCap, Approx: true, Values: []any{"e", data}})
	}
	pipe.PExpire(ctx, key, DefaultAuditTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis append audit: %w", err)
	}
	return nil
}

// Audit reads the audit stream and keeps the entries at or after since, in the
// order they were recorded, each once.
func (s *Store) Audit(ctx context.Context, since time.Time) ([]store.AuditEntry, error) {
	out, _, err := s.audit(ctx, since)
	return out, err
}

// audit is Audit, with the text of each entry it kept. An entry's text is in
// the stream twice when a pipeline that gave up on a frozen Redis had it on
// the wire: the Fallback keeps it for the write-back, and Redis runs the
// command all the same when it wakes. Two entries of the same text are one
// decision (the same instant to the nanosecond, the same event and verdict),
// so the second is left out.
func (s *Store) audit(ctx context.Context, since time.Time) ([]store.AuditEntry, map[string]struct{}, error) {
	if err := s.settle(ctx); err != nil {
		return nil, nil, fmt.Errorf("redis audit: %w", err)
	}
	var out []store.AuditEntry
	seen := map[string]struct{}{}
	start := "-"
	for {
		msgs, err := s.c.XRangeN(ctx, s.auditKey(), start, "+", 1000).Result()
		if err != nil {
			return nil, nil, fmt.Errorf("redis audit: %w", err)
		}
		for _, m := range msgs {
			raw, _ := m.Values["e"].(string)
			if _, dup := seen[raw]; dup {
				continue
			}
			var e store.AuditEntry
			if err := json.Unmarshal([]byte(raw), &e); err != nil {
				return nil, nil, fmt.Errorf("redis audit entry %s: %w", m.ID, err)
			}
			if !e.At.Before(since) {
				seen[raw] = struct{}{}
				out = append(out, e)
			}
		}
		if len(msgs) < 1000 {
			return out, seen, nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

var _ store.CaseOrigins = (*Store)(nil)

// CaseOfOrigin reads the id of the case origin opened or joined, kept
// beside it by the script that opened it (PREFIX:{cases}:origin:ORIGIN).
func (s *Store) CaseOfOrigin(ctx context.Context, origin string) (string, error) {
	id, err := s.c.Get(ctx, s.caseKeys.prefix+"origin:"+origin).Result()
	if errors.Is(err, goredis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redis case of origin %s: %w", origin, err)
	}
	return id, nil
}

// KeepsCallsWithCases is store.CallsWithCases's: the open script keeps a
// case's Calls in its round trip, but for on a cluster, whose calls are in
// slots of their own ({call:KEY}): there the caller keeps them apart.
func (s *Store) KeepsCallsWithCases() bool { return !s.cluster }

// messageCaseKey is the key of the case opened for message (Case.Message),
// beside the cases: the open script writes it.
func (s *Store) messageCaseKey(message string) string {
	return s.caseKeys.prefix + "message:" + message
}

// legacyMessageCall is the record older vigies kept of the case opened for
// message, apart from the open script (a call of the handlers' "case" kind):
// read beside messageCaseKey while a rolling upgrade has both on one Redis,
// and for MessageCallKeep after it, until the last of them expires.
func (s *Store) legacyMessageCall(message string) string { return s.callKey("case " + message + " ") }

// CaseOfMessage is store.MessageCases's: the key the open script wrote, and
// the record an older vigie kept, in one round trip.
func (s *Store) CaseOfMessage(ctx context.Context, message string) (string, error) {
	p := s.c.Pipeline()
	now := p.Get(ctx, s.messageCaseKey(message))
	old := p.Get(ctx, s.legacyMessageCall(message))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return "", fmt.Errorf("redis case of message %s: %w", message, err)
	}
	if id := now.Val(); id != "" {
		return id, nil
	}
	if v := old.Val(); v != "" {
		r, err := readCall(v)
		if err != nil {
			return "", fmt.Errorf("redis case of message %s: %w", message, err)
		}
		return r.By, nil
	}
	return "", nil
}

// KeepCaseOfMessage is store.MessageCases's: one SET, where the open script
// writes it.
func (s *Store) KeepCaseOfMessage(ctx context.Context, message, id string, _ time.Time) error {
	p := s.c.Pipeline()
	p.Set(ctx, s.messageCaseKey(message), id, store.MessageCallKeep)
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("redis keep case of message %s: %w", message, err)
	}
	return nil
}

// OpenCase numbers the case (c-EPOCH-000001 onwards, shared by every process
// on this Redis; a new epoch once Redis lost its counter), stores it, indexes
// it as open and queues it for the desk.
func (s *Store) OpenCase(ctx context.Context, c store.Case) (store.Case, error) {
	opened, errs := s.openCases(ctx, []store.Case{c}, true)
	return opened[0], errs[0]
}

// openCases opens several cases in one round trip: one script each, in one
// pipeline. It answers for each case, in order: when Redis goes away in the
// middle, the first ones may be open and the others not.
//
// With lazyJSON, a case that may join an open one (its author group's hits
// found one lately) is sent without its JSON, which the script asks for
// only when it opens a new case: then it is encoded and sent in a second
// round trip. On a raid night nine hits in ten join a case, and the JSON of
// each, about a kilobyte, was most of what vigie spent on it and sent.
func (s *Store) openCases(ctx context.Context, cases []store.Case, lazyJSON bool) ([]store.Case, []error) {
	out := make([]store.Case, len(cases))
	errs := make([]error, len(cases))
	groups := make([]*group, 0, len(cases))
	var index []int
	flag := func(s string) string {
		if s == "" {
			return "0"
		}
		return "1"
	}
	// The case counter, index and stream are pushed to the cases' TTL and
	// an hour once a minute per process (keys Redis lost are made again
	// without an expiry for a minute at most).
	push := "0"
	// On the wall clock: the keys' TTLs run out in Redis in real time.
	if s.casesPushed.Take(time.Now(), casesPushEvery) {
		push = "1"
	}
	// Built in place in out: a copy of a case per iteration would be made
	// on the heap, as encodeCase takes its address.
	copy(out, cases)
	// The epoch the counter starts if Redis lost it (see openScript).
	epoch := store.NewCaseEpoch()
	for i := range out {
		c := &out[i]
		c.ID = ""
		c.Status = store.CaseOpen
		c.Outcome, c.DecidedBy, c.DeciderName, c.DecidedAt, c.Undeliverable = "", "", "", time.Time{}, ""
		c.Count = c.Hits()
		latest := ""
		if len(c.Latest) > 0 {
			b, _ := json.Marshal(c.Latest)
			latest = string(b)
		}
		c.Latest = nil // kept in the hash's own field
		carried, err := refLines(c.Refs)
		if err != nil {
			errs[i] = fmt.Errorf("case: %w", err)
			continue
		}
		ref, err := refLines([]store.MessageRef{store.RefOf(c.Event)})
		if err != nil {
			errs[i] = fmt.Errorf("case: %w", err)
			continue
		}
		c.Refs = nil // kept in a list of their own
		if c.Opened.IsZero() {
			c.Opened = c.Event.At
		}
		origin := c.Origin()
		author, place := c.Groups()
		message, calls := c.Message, c.Calls
		c.Message, c.Calls = "", nil // not kept in the case
		if s.cluster {
			calls = nil // kept apart by the caller (KeepsCallsWithCases)
		}
		var data []byte // none: the script asks for it if it opens the case
		if !lazyJSON || author == "" || !s.joining.has(author) {
			var err error
			if data, err = encodeCase(c); err != nil {
				errs[i] = fmt.Errorf("case: %w", err)
				continue
			}
		}
		k := s.caseKeys
		g := &group{
			keys: []string{k.seq, k.open, k.stream,
				k.prefix + "origin:" + origin, k.prefix + "group:" + author, k.prefix + "place:" + place, k.epoch},
			args: []any{k.prefix, data, k.ttl, k.streamCap, flag(origin), flag(author),
				c.Opened.UnixMilli(), k.groupWindow, k.groupAuthors, k.groupLatest, k.openCap, c.Event.ID, c.Count, latest,
				k.ttlHour, push, epoch, k.originTTL, store.GroupJoiners, ref, carried, store.GroupRefs},
		}
		// Only when asked: each argument costs the script's every call.
		if message != "" || len(calls) > 0 {
			keep := any("")
			if message != "" {
				g.keys = append(g.keys, s.messageCaseKey(message))
				keep = k.messageKeep
			}
			g.args = append(g.args, keep)
		}
		if len(calls) > 0 {
			for _, key := range calls {
				g.keys = append(g.keys, s.callKey(key))
			}
			g.args = append(g.args, callValue(store.CallRecord{At: c.Opened, Done: true}), k.messageKeep)
		}
		groups = append(groups, g)
		index = append(index, i)
	}
	if len(groups) == 0 {
		return out, errs
	}
	_ = s.runScripts(ctx, openScript, groups) // read per case below
	// The cases the script would open and needs the JSON of: sent again.
	var again []*group
	for j, g := range groups {
		if reply, err := g.cmd.Slice(); err == nil && len(reply) == 1 && reply[0] == "json" {
			i := index[j]
			data, err := encodeCase(&out[i])
			if err != nil {
				errs[i] = fmt.Errorf("case: %w", err)
				continue
			}
			g.args[1] = data
			again = append(again, g)
		}
	}
	if len(again) > 0 {
		_ = s.runScripts(ctx, openScript, again) // their answers replace the first
	}
	opened := false // a new case, which pushed the expiry if asked
	// The cases joined whose JSON is not known here: positions, fields, ids.
	var fetch []int
	var fetched []map[string]string
	var fetchIDs []string
	for j, g := range groups {
		i := index[j]
		if errs[i] != nil {
			continue
		}
		reply, err := g.cmd.Slice()
		if err == nil && len(reply) < 2 {
			err = fmt.Errorf("unexpected reply %v", reply)
		}
		if err != nil {
			errs[i] = fmt.Errorf("redis open case for %s: %w", out[i].Event.Key(), err)
			continue
		}
		kind, _ := reply[0].(string)
		id, _ := reply[1].(string)
		switch kind {
		case "ok":
			out[i].ID = id
			opened = true
			s.joining.add(out[i].AuthorGroup())
			if latest := groups[j].args[13].(string); latest != "" {
				out[i].Latest, _ = parseLatest(latest)
			}
			if refs := groups[j].args[20].(string); refs != "" {
				out[i].Refs, _ = parseRefs(refs)
			}
			if len(reply) > 2 {
				sid, _ := reply[2].(string)
				s.decoded.remember(id, sid, string(groups[j].args[1].([]byte)))
			}
		case "cap":
			out[i] = store.Case{}
			errs[i] = fmt.Errorf("case for %s: %s open: %w", cases[i].Event.Key(), id, store.ErrCaseCap)
		default: // dup, grouped: the case it is part of
			var flat []any
			if len(reply) > 2 {
				flat, _ = reply[2].([]any)
			}
			// Eight fields: one group of a map (nine made two); a case
			// whose JSON is then fetched, or that was amended (both rare),
			// grows it. An amendment not made is nil, so not set.
			h := make(map[string]string, len(caseFields)-1)
			for k, v := range flat {
				if v, ok := v.(string); ok && k < len(caseFields) {
					h[caseFields[k]] = v
				}
			}
			if h["status"] == "" {
				out[i], errs[i] = store.Case{}, fmt.Errorf("case %q: %w", id, store.ErrNotFound)
				continue
			}
			if kind == "grouped" {
				s.joining.add(out[i].AuthorGroup())
			}
			if c, ok := s.decoded.known(id, h["sid"]); ok {
				out[i], errs[i] = s.withFields(c, id, h)
				continue
			}
			fetch = append(fetch, i)
			fetched = append(fetched, h)
			fetchIDs = append(fetchIDs, id)
		}
	}
	if push == "1" && !opened {
		s.casesPushed.Forget() // the next case opened pushes it
	}
	if len(fetch) > 0 {
		// Cases this process did not open or read lately: their JSON, in one
		// more round trip.
		cmds := make([]goredis.Cmder, len(fetch))
		for k, id := range fetchIDs {
			cmds[k] = goredis.NewStringCmd(ctx, "hget", s.casesKey(id), "json")
		}
		err := s.runCmds(ctx, cmds)
		for k, i := range fetch {
			h := fetched[k]
			h["json"] = cmds[k].(*goredis.StringCmd).Val()
			switch {
			case errors.Is(cmds[k].Err(), goredis.Nil):
				out[i], errs[i] = store.Case{}, fmt.Errorf("case %q: %w", fetchIDs[k], store.ErrNotFound)
			case err != nil:
				errs[i] = fmt.Errorf("redis open case for %s: %w", out[i].Event.Key(), err)
			default:
				out[i], errs[i] = s.caseFrom(fetchIDs[k], h)
			}
		}
	}
	return out, errs
}

// groupSet is a set of author groups, in two generations of maxCachedCases
// (as caseCache): those seen again stay while a raid's thousands of authors
// come and go.
type groupSet struct {
	mu       sync.Mutex
	m, older map[string]bool
}

func (g *groupSet) has(k string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[k] || g.older[k]
}

func (g *groupSet) add(k string) {
	if k == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m[k] {
		return
	}
	if g.m == nil || len(g.m) >= maxCachedCases {
		g.older, g.m = g.m, make(map[string]bool)
	}
	g.m[k] = true
}

// caseFields are the fields of a case's hash that the open script answers for
// an open case, in its order: all but the JSON. The amendment (AmendCase) is
// near the end: a case opened again after it is answered as amended; the
// name of who decided (DecideCase) comes next, nil in the cases decided
// before vigie kept it, as in those not decided. The grouped messages'
// references (Case.Refs) are last: not a field of the hash but its list
// (PREFIX:{cases}:refs:ID), one JSON line each, empty in a case that groups
// none or was grouped by a vigie that did not keep them, and left out of
// the answer to a hit grouped into an open case (openScript): up to 100 of
// them, read when the case is. A reader of the hash puts them in "refs".
var caseFields = []string{"status", "outcome", "by", "undeliverable", "count", "latest", "dat", "sid", "amend", "byname", "refs"}

// caseFrom rebuilds a case from its hash: the JSON as opened, then the fields a
// decision changes.
func (s *Store) caseFrom(id string, h map[string]string) (store.Case, error) {
	c, err := s.decoded.get(id, h["json"], h["sid"])
	if err != nil {
		return store.Case{}, fmt.Errorf("case %s: %w", id, err)
	}
	return s.withFields(c, id, h)
}

// withFields completes a case decoded from its JSON with the fields of its
// hash that a decision or a hit changes.
func (s *Store) withFields(c store.Case, id string, h map[string]string) (store.Case, error) {
	var err error
	c.ID = id
	c.Status = store.CaseStatus(h["status"])
	c.Outcome, c.DecidedBy, c.DeciderName = h["outcome"], h["by"], h["byname"]
	c.Undeliverable = h["undeliverable"]
	if r := h["carried"]; r != "" {
		c.Carried, c.Carrying = r, false
	} else if m := h["carrying"]; m != "" {
		c.Carrying, c.CarryingMark = true, m
	}
	if a := h["amend"]; a != "" {
		var am store.CaseAmendment
		if err := json.Unmarshal([]byte(a), &am); err != nil {
			return store.Case{}, fmt.Errorf("case %s amendment: %w", id, err)
		}
		c = c.Amend(am)
	}
	if n, err := strconv.Atoi(h["count"]); err == nil {
		c.Count = n
	}
	if l := h["latest"]; l != "" {
		if c.Latest, err = parseLatest(l); err != nil {
			return store.Case{}, fmt.Errorf("case %s latest: %w", id, err)
		}
	}
	if r := h["refs"]; r != "" {
		if c.Refs, err = parseRefs(r); err != nil {
			return store.Case{}, fmt.Errorf("case %s refs: %w", id, err)
		}
	}
	if d := h["dat"]; d != "" {
		t, err := time.Parse(time.RFC3339Nano, d)
		if err != nil {
			return store.Case{}, fmt.Errorf("case %s decided at %q: %w", id, d, err)
		}
		c.DecidedAt = t
	}
	return c, nil
}

// refLines is refs as the case's hash keeps them: one JSON object a line.
func refLines(refs []store.MessageRef) (string, error) {
	var b []byte
	for i, r := range refs {
		if i > 0 {
			b = append(b, '\n')
		}
		j, err := json.Marshal(r)
		if err != nil {
			return "", fmt.Errorf("message %s: %w", r.ID, err)
		}
		b = append(b, j...)
	}
	return string(b), nil
}

// parseRefs reads refLines, the last store.GroupRefs of them, as Redis keeps
// them (a case written back from memory may carry more).
func parseRefs(s string) ([]store.MessageRef, error) {
	lines := strings.Split(s, "\n")
	if n := len(lines); n > store.GroupRefs {
		lines = lines[n-store.GroupRefs:]
	}
	refs := make([]store.MessageRef, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &refs[i]); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

// parseLatest reads a case's latest ids, a JSON list of strings. A list
// without backslashes, control characters or bytes outside UTF-8, as the
// open script writes most of them, is split at '","' (no id in it holds a
// quote); encoding/json reads the others, as it wrote them.
func parseLatest(l string) ([]string, error) {
	if len(l) >= 4 && strings.HasPrefix(l, `["`) && strings.HasSuffix(l, `"]`) && utf8.ValidString(l) &&
		!strings.ContainsFunc(l, func(r rune) bool { return r == '\\' || r < 0x20 }) {
		ids := strings.Split(l[2:len(l)-2], `","`)
		if !slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(id, `"`) }) {
			return ids, nil
		}
	}
	var ids []string
	err := json.Unmarshal([]byte(l), &ids)
	return ids, err
}

// caseCache keeps the cases as their JSON decodes, by id. A case's JSON is
// written once, when it is opened (what changes later has fields of its own),
// and ids are never given twice, so a case read again, above all the open case
// that every hit of a raid joins, is not decoded again: the JSON Redis answers
// is only compared with the one kept. It keeps two generations of
// maxCachedCases: when the newer is full it becomes the older, and a case
// found in the older moves to the newer, so that the cases read again and
// again stay while a raid's thousands of authors each join their own.
type caseCache struct {
	mu       sync.Mutex
	m, older map[string]cachedCase
}

type cachedCase struct {
	json string
	// sid is the case's entry in the cases stream, "" when not known: with
	// the id, it names the JSON (see openScript).
	sid     string
	c       store.Case
	decoded bool // c holds json decoded
}

// maxCachedCases bounds each generation of the cache.
const maxCachedCases = 4096

// get returns the case that raw decodes to, with slices of its own; sid is
// its stream entry's id, or "".
func (cc *caseCache) get(id, raw, sid string) (store.Case, error) {
	k, ok := cc.lookup(id, func(k cachedCase) bool { return k.json == raw })
	switch {
	case !ok || k.json != raw || !k.decoded:
		c, err := decodeCase(raw)
		if err != nil {
			return store.Case{}, err
		}
		k = cachedCase{json: raw, sid: sid, c: *c, decoded: true}
		cc.put(id, k)
	case sid != "" && k.sid != sid:
		k.sid = sid
		cc.put(id, k)
	}
	return k.clone(), nil
}

// lookup finds id's entry in the newer generation, or in the older one,
// where an entry that still holds (same) is moved up to the newer.
func (cc *caseCache) lookup(id string, same func(cachedCase) bool) (cachedCase, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	k, ok := cc.m[id]
	if !ok {
		if k, ok = cc.older[id]; ok && same(k) {
			cc.keep(id, k)
		}
	}
	return k, ok
}

// put keeps k as id's entry.
func (cc *caseCache) put(id string, k cachedCase) {
	cc.mu.Lock()
	cc.keep(id, k)
	cc.mu.Unlock()
}

// known returns the case whose JSON is kept for this id and stream entry.
func (cc *caseCache) known(id, sid string) (store.Case, bool) {
	if sid == "" {
		return store.Case{}, false
	}
	k, ok := cc.lookup(id, func(k cachedCase) bool { return k.sid == sid })
	if !ok || k.sid != sid {
		return store.Case{}, false
	}
	if !k.decoded {
		c, err := decodeCase(k.json)
		if err != nil {
			return store.Case{}, false // asked again, and decoded, by get
		}
		k.c, k.decoded = *c, true
		cc.put(id, k)
	}
	return k.clone(), true
}

// decodeCase decodes a case's JSON onto the heap. The callers' cachedCase
// stays on their stack: decoding into its field sent every cachedCase
// looked up (about a kilobyte, once or twice an event) to the heap, found in
// the cache or not.
func decodeCase(raw string) (*store.Case, error) {
	c := new(store.Case)
	if err := json.Unmarshal([]byte(raw), c); err != nil {
		return nil, err
	}
	return c, nil
}

// remember keeps the JSON of a case just opened, decoded when first joined.
func (cc *caseCache) remember(id, sid, raw string) {
	if sid == "" {
		return
	}
	cc.put(id, cachedCase{json: raw, sid: sid})
}

// clone returns the kept case with slices of its own.
func (k cachedCase) clone() store.Case {
	c := k.c
	c.Event.Author.Roles = slices.Clone(c.Event.Author.Roles)
	c.Suggested = slices.Clone(c.Suggested)
	c.NotDone = slices.Clone(c.NotDone)
	c.Latest = slices.Clone(c.Latest)
	c.Rules = slices.Clone(c.Rules)
	if c.Edited != nil {
		e := *c.Edited
		e.Rules = slices.Clone(e.Rules)
		c.Edited = &e
	}
	c.Refs = slices.Clone(c.Refs)
	return c
}

// keep adds a case to the newer generation; cc.mu is held.
func (cc *caseCache) keep(id string, k cachedCase) {
	if cc.m == nil || len(cc.m) >= maxCachedCases {
		cc.older, cc.m = cc.m, make(map[string]cachedCase)
	}
	cc.m[id] = k
}

// Case returns one case.
func (s *Store) Case(ctx context.Context, id string) (store.Case, error) {
	if err := s.settle(ctx); err != nil {
		return store.Case{}, fmt.Errorf("redis case %s: %w", id, err)
	}
	hs, err := s.caseHashes(ctx, []string{id})
	if err != nil {
		return store.Case{}, fmt.Errorf("redis case %s: %w", id, err)
	}
	if len(hs[0]) == 0 {
		return store.Case{}, fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	return s.caseFrom(id, hs[0])
}

// Cases lists the cases with the status, oldest first.
func (s *Store) Cases(ctx context.Context, status store.CaseStatus) ([]store.Case, error) {
	if err := s.settle(ctx); err != nil {
		return nil, fmt.Errorf("redis cases %s: %w", status, err)
	}
	index := s.casesKey(string(status))
	ids, err := s.c.ZRange(ctx, index, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redis cases %s: %w", status, err)
	}
	cases, gone, err := s.casesByID(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("redis cases %s: %w", status, err)
	}
	if len(gone) > 0 {
		// Their hashes expired: the index forgets them too.
		_ = s.c.ZRem(ctx, index, gone...).Err()
	}
	return cases, nil
}

// caseHashes fetches the hashes of cases in one pipeline, each with its
// references (withRefs); a case gone has an empty one.
func (s *Store) caseHashes(ctx context.Context, ids []string) ([]map[string]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.c.Pipeline()
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	refs := make([]*goredis.StringSliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.casesKey(id))
		refs[i] = pipe.LRange(ctx, s.casesKey("refs:"+id), 0, -1)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(ids))
	for i, cmd := range cmds {
		out[i] = withRefs(cmd.Val(), refs[i].Val())
	}
	return out, nil
}

// withRefs puts a case's references, its list as Redis keeps it, in its hash
// h as refLines: in "refs", where caseFrom reads them. A case gone (an empty
// h) stays empty.
func withRefs(h map[string]string, refs []string) map[string]string {
	if len(h) > 0 && len(refs) > 0 {
		h["refs"] = strings.Join(refs, "\n")
	}
	return h
}

// casesByID fetches cases in one round trip; it reports the ids whose hash is gone.
func (s *Store) casesByID(ctx context.Context, ids []string) ([]store.Case, []any, error) {
	hashes, err := s.caseHashes(ctx, ids)
	if err != nil {
		return nil, nil, err
	}
	var out []store.Case
	var gone []any
	for i, h := range hashes {
		if len(h) == 0 {
			gone = append(gone, ids[i])
			continue
		}
		c, err := s.caseFrom(ids[i], h)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, c)
	}
	return out, gone, nil
}

// DecideCase closes an open case once, atomically: of two CMs pressing at the
// same moment, the second gets the first one's decision and ErrDecided.
func (s *Store) DecideCase(ctx context.Context, id, outcome, by, byName string, at time.Time) (store.Case, error) {
	keys := []string{s.casesKey(id), s.casesKey("open"), s.casesKey("decided"), s.casesKey("seq"), s.casesKey("joined:" + id),
		s.casesKey("refs:" + id)}
	vals, err := s.script(ctx, decideScript, keys, id, outcome, by, at.Format(time.RFC3339Nano),
		DefaultCaseCap, ms(DefaultCaseTTL), byName).Slice()
	if err != nil {
		return store.Case{}, fmt.Errorf("redis decide case %s: %w", id, err)
	}
	verdict, _ := vals[0].(string)
	if verdict == "nf" {
		return store.Case{}, fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	flat, _ := vals[1].([]any)
	h := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		k, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		h[k] = v
	}
	var refs []string
	if len(vals) > 2 {
		list, _ := vals[2].([]any)
		for _, r := range list {
			r, _ := r.(string)
			refs = append(refs, r)
		}
	}
	c, err := s.caseFrom(id, withRefs(h, refs))
	if err != nil {
		return store.Case{}, err
	}
	if verdict == "dup" {
		return c, fmt.Errorf("case %s decided %s by %s: %w", id, c.Outcome, c.DecidedBy, store.ErrDecided)
	}
	return c, nil
}

// PendingCases returns the cases handed to this process and not acknowledged:
// those it was given before (a post that failed; under a name kept across
// restarts, a crash between opening and posting), those a silent process
// held for longer than ClaimIdle, and new ones.
func (s *Store) PendingCases(ctx context.Context) ([]store.Case, error) {
	stream := s.casesKey("stream")
	if err := s.settle(ctx); err != nil {
		return nil, fmt.Errorf("redis pending cases: %w", err)
	}
	if err := s.ensureGroup(ctx, stream); err != nil {
		return nil, err
	}
	pending, err := s.readPending(ctx, stream)
	if isNoGroup(err) {
		// The stream expired with its group: make them again.
		s.groupMu.Lock()
		s.grouped = false
		s.groupMu.Unlock()
		if err := s.ensureGroup(ctx, stream); err != nil {
			return nil, err
		}
		pending, err = s.readPending(ctx, stream)
	}
	if err != nil {
		return nil, fmt.Errorf("redis pending cases: %w", err)
	}
	var ids []string
	var stale []string // entries trimmed from the stream or cases expired
	for _, m := range pending {
		id, _ := m.Values["id"].(string)
		if id == "" {
			stale = append(stale, m.ID)
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.SortFunc(ids, func(a, b string) int { return caseOrder(a) - caseOrder(b) })
	hashes, err := s.caseHashes(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("redis pending cases: %w", err)
	}
	var cases []store.Case
	done := map[string]bool{}
	for i, h := range hashes {
		if len(h) == 0 || h["acked"] == "1" {
			done[ids[i]] = true // expired, or acknowledged before it was read
			continue
		}
		c, err := s.caseFrom(ids[i], h)
		if err != nil {
			return nil, fmt.Errorf("redis pending cases: %w", err)
		}
		cases = append(cases, c)
	}
	for _, m := range pending {
		if id, _ := m.Values["id"].(string); done[id] {
			stale = append(stale, m.ID)
		}
	}
	if len(stale) > 0 {
		_ = s.c.XAck(ctx, stream, DeskGroup, stale...).Err()
	}
	return cases, nil
}

func caseOrder(id string) int { return int(store.CaseNumber(id)) }

func (s *Store) readPending(ctx context.Context, stream string) ([]goredis.XMessage, error) {
	var out []goredis.XMessage
	// Take over what a silent process held too long.
	start := "0-0"
	for range 100 {
		msgs, next, err := s.c.XAutoClaim(ctx, &goredis.XAutoClaimArgs{
			Stream: stream, Group: DeskGroup, Consumer: s.cfg.consumer,
			MinIdle: s.cfg.claimIdle, Start: start, Count: 100,
		}).Result()
		if err != nil {
			return nil, err
		}
		_ = msgs // they are now ours: read below with the rest of our pending ones
		if next == "0-0" || next == "" {
			break
		}
		start = next
	}
	for _, from := range []string{"0", ">"} {
		res, err := s.c.XReadGroup(ctx, &goredis.XReadGroupArgs{
			Group: DeskGroup, Consumer: s.cfg.consumer, Streams: []string{stream, from},
			Count: 1000, Block: -1,
		}).Result()
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, err
		}
		for _, st := range res {
			out = append(out, st.Messages...)
		}
	}
	return out, nil
}

func isNoGroup(err error) bool { return err != nil && goredis.HasErrorPrefix(err, "NOGROUP") }

func (s *Store) ensureGroup(ctx context.Context, stream string) error {
	s.groupMu.Lock()
	defer s.groupMu.Unlock()
	if s.grouped {
		return nil
	}
	// From 0: cases opened before the group existed are delivered too.
	err := s.c.XGroupCreateMkStream(ctx, stream, DeskGroup, "0").Err()
	if err != nil && !goredis.HasErrorPrefix(err, "BUSYGROUP") {
		return fmt.Errorf("redis desk group: %w", err)
	}
	s.grouped = true
	return nil
}

// AckCase records that the desk accepted the case.
func (s *Store) AckCase(ctx context.Context, id string) error {
	return s.ack(ctx, id, "")
}

// MarkUndeliverable acknowledges a case the desk refused, and says why, in
// one script: a case marked is never posted again.
func (s *Store) MarkUndeliverable(ctx context.Context, id, why string) error {
	if why == "" {
		why = "refused by the desk"
	}
	return s.ack(ctx, id, why)
}

func (s *Store) ack(ctx context.Context, id, undeliverable string) error {
	n, err := s.script(ctx, ackScript, []string{s.casesKey(id), s.casesKey("stream")}, DeskGroup, undeliverable).Int64()
	if err != nil {
		return fmt.Errorf("redis ack case %s: %w", id, err)
	}
	if n < 0 {
		return fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// AmendCase records how the actions the case was trying ended, in the
// case's hash.
func (s *Store) AmendCase(ctx context.Context, id string, a store.CaseAmendment) error {
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("case %s amendment: %w", id, err)
	}
	n, err := s.script(ctx, amendScript, []string{s.casesKey(id)}, data).Int64()
	if err != nil {
		return fmt.Errorf("redis amend case %s: %w", id, err)
	}
	if n < 0 {
		return fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// cardField prefixes the fields of a case's hash that say where its cards
// are, one field a card: recorded twice, it is kept once.
const cardField = "card:"

// AddCard records where a desk posted the case's card, in the case's hash.
func (s *Store) AddCard(ctx context.Context, id string, card bot.CardRef) error {
	data, err := json.Marshal(card)
	if err != nil {
		return fmt.Errorf("case %s card: %w", id, err)
	}
	field := cardField + card.Platform + "|" + card.Chat + "|" + card.Message
	n, err := s.script(ctx, cardScript, []string{s.casesKey(id)}, field, data).Int64()
	if err != nil {
		return fmt.Errorf("redis case %s card: %w", id, err)
	}
	if n < 0 {
		return fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// MarkCarried records how the case's decision was carried out: a field of
// its hash, written only while the case is there.
func (s *Store) MarkCarried(ctx context.Context, id, result string) error {
	n, err := s.script(ctx, carriedScript, []string{s.casesKey(id)}, result).Int64()
	if err != nil {
		return fmt.Errorf("redis case %s carried: %w", id, err)
	}
	if n < 0 {
		return fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// MarkCarrying records that the carrying out of the case's decision
// begins: a field "carrying" of its hash, mark, until MarkCarried deletes
// it; only while the claim this process took of the case (ClaimCarrying)
// still holds in Redis, when it holds one.
func (s *Store) MarkCarrying(ctx context.Context, id, mark string) error {
	token := ""
	if v, ok := s.claimTokens.Load(id); ok {
		token = v.(string)
	}
	n, err := s.script(ctx, carryingScript, []string{s.casesKey(id), s.claimKey(id)}, cmp.Or(mark, "1"), token).Int64()
	if err != nil {
		return fmt.Errorf("redis case %s carrying: %w", id, err)
	}
	switch {
	case n == -1:
		return fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	case n == -2:
		return fmt.Errorf("case %s: the claim of its carrying out is no longer this holder's: %w", id, store.ErrClaimed)
	}
	return nil
}

// CaseCards reads where the case's cards are from its hash.
func (s *Store) CaseCards(ctx context.Context, id string) ([]bot.CardRef, error) {
	if err := s.settle(ctx); err != nil {
		return nil, fmt.Errorf("redis case %s cards: %w", id, err)
	}
	h, err := s.c.HGetAll(ctx, s.casesKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("redis case %s cards: %w", id, err)
	}
	var out []bot.CardRef
	for k, v := range h {
		if !strings.HasPrefix(k, cardField) {
			continue
		}
		var card bot.CardRef
		if err := json.Unmarshal([]byte(v), &card); err != nil {
			return nil, fmt.Errorf("case %s card %q: %w", id, k, err)
		}
		out = append(out, card)
	}
	store.SortCards(out)
	return out, nil
}

// pendingScore is the score of an id seen at seen (ms) and marked pending
// for hold: the milliseconds, and the hold's seconds (1 to 1023) in 1024ths,
// which the score holds exactly (a double has 12 bits under the point at
// this size until 2039, 11 after).
func pendingScore(seen int64, hold time.Duration) string {
	k := min(max((hold+time.Second-1)/time.Second, 1), 1023)
	frac := strconv.FormatFloat(float64(k)/1024, 'f', -1, 64)
	return strconv.FormatInt(seen, 10) + frac[1:]
}

// seenKey is the key of the ids an author was seen with.
func (s *Store) seenKey(m *store.SeenMark) string {
	var b strings.Builder
	s.writeTag(&b, m.Platform, m.Space, m.Author)
	b.WriteString(":seen")
	return b.String()
}

// settleCmd settles m: its score becomes the whole milliseconds it was
// seen at (ZADD XX: a mark gone is not written again).
func (s *Store) settleCmd(ctx context.Context, m *store.SeenMark) goredis.Cmder {
	return goredis.NewIntCmd(ctx, "zadd", s.seenKey(m), "xx", m.At.UnixMilli(), m.ID)
}

// Settle is store.Store's: one command, queued with WithAutoPipeline.
func (s *Store) Settle(ctx context.Context, m store.SeenMark) error {
	if m.ID == "" {
		return nil
	}
	if err := s.writeCmds(s.writeContext(ctx), lostWrite{settle: &m}, nil, s.settleCmd(s.writeContext(ctx), &m)); err != nil {
		return fmt.Errorf("redis settle %s: %w", m.ID, err)
	}
	return nil
}

// settleBackSrc writes a settled mark: KEYS seen; ARGV its whole
// milliseconds, the id, the ids' TTL in ms, given to the key when it has
// none (one made here).
const settleBackSrc = `
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 0
`

// settleAll writes marks settled, in one round trip, and waits for Redis
// to say so: a mark pending there is settled, and the id of an event judged
// from memory while Redis was away is known there as seen, so that its
// retry is a duplicate on every instance.
func (s *Store) settleAll(ctx context.Context, marks []store.SeenMark) error {
	if err := s.settle(ctx); err != nil {
		return err
	}
	pipe := s.c.Pipeline()
	for i := range marks {
		m := &marks[i]
		ttl := m.TTL
		if ttl <= 0 {
			ttl = store.DefaultDedupeTTL
		}
		_ = pipe.Eval(ctx, settleBackSrc, []string{s.seenKey(m)}, m.At.UnixMilli(), m.ID, ttl.Milliseconds())
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis settle %d marks: %w", len(marks), err)
	}
	return nil
}

// Renew is store.Store's: the mark's score is pending at now. Its answer
// is waited for, not queued as a write nobody needs: a renewal is rare (a
// judge slower than half the hold), and the caller counts one that failed
// and tries it again.
func (s *Store) Renew(ctx context.Context, m store.SeenMark, now time.Time, pending time.Duration) error {
	if m.ID == "" || pending <= 0 {
		return nil
	}
	if err := s.script(ctx, renewSeenScript, []string{s.seenKey(&m)}, pendingScore(s.onRedisClock(now), pending), m.ID).Err(); err != nil {
		return fmt.Errorf("redis renew %s: %w", m.ID, err)
	}
	return nil
}

// Begin writes a verdict in flight to the journal: its entry and its stamp,
// two plain commands, and e.Settle's settling, a third, in the same
// pipeline. They need no script: Unfinished (atomic) takes an entry
// by its stamp, written second, and Done removes both.
func (s *Store) Begin(ctx context.Context, e store.JournalEntry) error {
	var buf *[]byte // pooled with WithAutoPipeline, see entryBufs
	var data []byte
	var err error
	if s.b != nil {
		buf = entryBuf(1024 + len(e.Event.Text))
		data, err = appendJournal(*buf, &e)
		*buf = data
	} else {
		data, err = encodeJournal(&e)
	}
	if err != nil {
		return fmt.Errorf("journal entry %s: %w", e.Key, err)
	}
	keys := s.journalKeys()
	caller, wait := ctx, store.AnswerWanted(ctx)
	ctx = s.writeContext(ctx)
	cmds := []goredis.Cmder{
		goredis.NewIntCmd(ctx, "hset", keys[0], e.Key, data),
		goredis.NewIntCmd(ctx, "zadd", keys[1], s.onRedisClock(e.At), e.Key),
	}
	// The keys live DefaultJournalTTL after the last Begin: their expiry is
	// pushed to that and an hour once a minute, not on every entry (keys that
	// Redis lost, in a restart or a flush, are made again without one for a
	// minute at most).
	if e.Settle != nil && e.Settle.ID != "" {
		cmds = append(cmds, s.settleCmd(ctx, e.Settle))
	}
	var failed func()
	// On the wall clock: the keys' TTLs run out in Redis in real time.
	if s.journalPushed.Take(time.Now(), journalPushEvery) {
		for _, k := range keys {
			cmds = append(cmds, goredis.NewBoolCmd(ctx, "pexpire", k, ms(DefaultJournalTTL+time.Hour)))
		}
		failed = s.journalPushed.Forget // pushed by the next Begin
	}
	if s.b != nil {
		calls := s.writeCalls(lostWrite{begin: &e}, failed, cmds)
		calls[0].journal, calls[0].begin, calls[0].buf = e.Key, true, buf
		calls[1].journal, calls[1].begin = e.Key, true
		if e.Settle != nil && e.Settle.ID != "" {
			// Its own: the entry, finished in the same batch, is not
			// written (finishedBegins), and its loss not told, while the
			// settling is sent and may be lost.
			calls[2].lost = s.lostFunc(lostWrite{settle: e.Settle})
		}
		if wait {
			// Taken before the caller goes on (store.WithAnswer).
			if err := s.b.do(caller, calls...); err != nil {
				return fmt.Errorf("journal entry %s: %w", e.Key, err)
			}
			for _, c := range calls {
				if err := c.cmd.Err(); err != nil {
					return fmt.Errorf("journal entry %s: %w", e.Key, err)
				}
			}
			return nil
		}
		s.b.push(calls...)
		return nil
	}
	if err := s.writeCmds(ctx, lostWrite{begin: &e}, failed, cmds...); err != nil {
		return fmt.Errorf("redis journal begin %s: %w", e.Key, err)
	}
	return nil
}

// Done removes a verdict from the journal: its entry, stamp and takes.
func (s *Store) Done(ctx context.Context, key string) error {
	if s.b != nil {
		calls := s.writeCalls(lostWrite{done: key}, nil, s.doneCmds(s.b.ctx, key))
		calls[0].journal = key
		s.b.push(calls...)
		return nil
	}
	if err := s.writeCmds(ctx, lostWrite{done: key}, nil, s.doneCmds(ctx, key)...); err != nil {
		return fmt.Errorf("redis journal done %s: %w", key, err)
	}
	return nil
}

// done removes verdicts from the journal, in one round trip, and waits for
// Redis to say so.
func (s *Store) done(ctx context.Context, keys ...string) error {
	if err := s.settle(ctx); err != nil {
		return err
	}
	pipe := s.c.Pipeline()
	for _, key := range keys {
		for _, c := range s.doneCmds(ctx, key) {
			_ = pipe.Process(ctx, c)
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}

func (s *Store) doneCmds(ctx context.Context, key string) []goredis.Cmder {
	keys := s.journalKeys()
	return []goredis.Cmder{
		goredis.NewIntCmd(ctx, "hdel", keys[0], key),
		goredis.NewIntCmd(ctx, "zrem", keys[1], key),
		goredis.NewIntCmd(ctx, "hdel", keys[2], key),
	}
}

// Unfinished takes the journal's entries stamped before olderThan.
// The stamps are on Redis's clock (onRedisClock): the first look measures
// how far it is from this machine's, if nothing did yet.
func (s *Store) Unfinished(ctx context.Context, olderThan, now time.Time) ([]store.JournalEntry, error) {
	if !s.skewKnown.Load() && !s.timeRefused.Load() {
		_, _ = s.measureSkew(ctx) // unmeasured, the stamps are this machine's
	}
	skew := s.skew.Load()
	vals, err := s.script(ctx, unfinishedScript, s.journalKeys(),
		"("+strconv.FormatInt(olderThan.UnixMilli()+skew, 10), now.UnixMilli()+skew, journalTake).Slice()
	if err != nil {
		return nil, fmt.Errorf("redis journal: %w", err)
	}
	out := make([]store.JournalEntry, 0, len(vals)/3)
	for i := 0; i+2 < len(vals); i += 3 {
		raw, _ := vals[i].(string)
		var e store.JournalEntry
		if err := json.Unmarshal([]byte(raw), &e); err != nil {
			return nil, fmt.Errorf("redis journal entry: %w", err)
		}
		stamp, _ := vals[i+1].(string)
		if n, err := strconv.ParseFloat(stamp, 64); err == nil {
			e.At = time.UnixMilli(int64(n) - skew).UTC()
		}
		tries, _ := vals[i+2].(int64)
		e.Tries = int(tries)
		out = append(out, e)
	}
	return out, nil
}

func (s *Store) faqKey() string { return s.cfg.prefix + ":{faq}:learned" }

// LearnFAQ keeps a wording in one hash, field by Key, in one script that
// bounds it.
func (s *Store) LearnFAQ(ctx context.Context, w store.FAQWording) error {
	b, err := json.Marshal(w)
	if err != nil {
		return fmt.Errorf("redis learn faq wording: %w", err)
	}
	if err := s.script(ctx, learnScript, []string{s.faqKey()}, w.Key(), string(b), store.MaxFAQWordings).Err(); err != nil {
		return fmt.Errorf("redis learn faq wording: %w", err)
	}
	return nil
}

// FAQWordings reads the hash of wordings, oldest first.
func (s *Store) FAQWordings(ctx context.Context) ([]store.FAQWording, error) {
	m, err := s.c.HGetAll(ctx, s.faqKey()).Result()
	if err != nil {
		return nil, fmt.Errorf("redis faq wordings: %w", err)
	}
	out := make([]store.FAQWording, 0, len(m))
	for field, raw := range m {
		var w store.FAQWording
		if err := json.Unmarshal([]byte(raw), &w); err != nil {
			return nil, fmt.Errorf("redis faq wording %q: %w", field, err)
		}
		out = append(out, w)
	}
	store.SortFAQWordings(out)
	return out, nil
}
