// Package memory is the store vigie embeds when it runs alone: everything lives in
// the process, sharded by key so that concurrent events rarely wait on each other.
package memory

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"math"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Defaults of the options.
const (
	// DefaultShards is the number of independently locked shards.
	DefaultShards = 64
	// DefaultMaxPerKey bounds the timestamps one counter keeps: beyond it the
	// oldest are dropped, so a counter saturates at this value. Rules compare
	// counters with small numbers (more than 5 messages in 10s); a flood of a
	// hundred thousand events is still reported as at least this many.
	DefaultMaxPerKey = 10_000
	// DefaultMaxSeen bounds the event ids remembered for dedupe, over all shards.
	// When full, the oldest ids are forgotten before their TTL.
	DefaultMaxSeen = 1_000_000
	// DefaultMaxStrikes bounds the strikes kept per author; the oldest go first.
	DefaultMaxStrikes = 100
	// DefaultMaxStrikeAuthors bounds the authors (by platform and space) whose
	// strikes are kept, over all shards: strikes last 30 days, and a raid of
	// fresh accounts would otherwise grow them for as long. When a shard is
	// full, a new author's strike replaces the strikes of the author, among a
	// few, whose last strike is the oldest (StrikeAuthorsDropped counts them).
	DefaultMaxStrikeAuthors = 1_000_000
	// DefaultAuditCap is how many audit entries are kept (a ring).
	DefaultAuditCap = 10_000
	// DefaultCaseCap is how many decided cases are kept; open ones always are.
	DefaultCaseCap = 10_000
	// DefaultSweepEvery is how often, on the events' clock, a shard drops its
	// expired windows, ids and strikes.
	DefaultSweepEvery = time.Minute
)

// Option tunes a Store.
type Option func(*config)

type config struct {
	shards     int
	maxPerKey  int
	maxSeen    int
	maxAuthors int
	auditCap   int
	caseCap    int
	openCap    int
	noGroups   bool
	roomy      bool
	sweepEvery time.Duration
	casePrefix string
	caseEpoch  string
	clock      func() time.Time
	leaseClock func() time.Time
}

// WithShards sets the number of shards (rounded up to a power of two).
func WithShards(n int) Option { return func(c *config) { c.shards = n } }

// WithMaxPerKey sets how many timestamps one counter keeps (DefaultMaxPerKey).
func WithMaxPerKey(n int) Option { return func(c *config) { c.maxPerKey = n } }

// WithMaxSeen sets how many event ids are remembered for dedupe (DefaultMaxSeen).
func WithMaxSeen(n int) Option { return func(c *config) { c.maxSeen = n } }

// WithMaxStrikeAuthors sets how many authors' strikes are kept
// (DefaultMaxStrikeAuthors).
func WithMaxStrikeAuthors(n int) Option { return func(c *config) { c.maxAuthors = n } }

// WithAuditCap sets how many audit entries are kept (DefaultAuditCap).
func WithAuditCap(n int) Option { return func(c *config) { c.auditCap = n } }

// WithCaseCap sets how many decided cases are kept (DefaultCaseCap).
func WithCaseCap(n int) Option { return func(c *config) { c.caseCap = n } }

// WithOpenCaseCap sets how many cases may be open at once
// (store.DefaultOpenCaseCap); 0 or less keeps the default.
func WithOpenCaseCap(n int) Option { return func(c *config) { c.openCap = n } }

// WithoutCaseGroups opens every case on its own: a store standing in for
// another one leaves the grouping to it, when its cases are written back.
func WithoutCaseGroups() Option { return func(c *config) { c.noGroups = true } }

// WithRoomyTables sizes the tables of counters, ids and strikes for speed
// rather than memory: they grow at four fifths full, to twice their length,
// where by default they grow at nine tenths, by a quarter. Inserts and
// probes are shorter, and an entry is moved fewer times as its table grows
// from empty, for more memory in the tables; a replay's stores, which hold
// little but insert at every event, take it.
func WithRoomyTables() Option { return func(c *config) { c.roomy = true } }

// WithSweepEvery sets how often, on the events' clock, expired state is dropped.
func WithSweepEvery(d time.Duration) Option { return func(c *config) { c.sweepEvery = d } }

// WithCaseIDPrefix sets what case ids start with ("c-"), before the store's
// epoch; a store standing in for another one while it is away uses its own,
// so the two never collide.
func WithCaseIDPrefix(p string) Option { return func(c *config) { c.casePrefix = p } }

// WithCaseEpoch sets the epoch of the case ids (c-EPOCH-000001), drawn at
// random by default (store.NewCaseEpoch): for a test that names its cases.
func WithCaseEpoch(e string) Option { return func(c *config) { c.caseEpoch = e } }

// WithClock sets the clock the leases and the console's logouts run out on
// (time.Now): they are the things of the store that follow vigie's clock,
// not the events'.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithLeaseClock sets the clock the leases alone run out on, when it is not
// the logouts' (WithClock's): the clock their holders read their deadlines
// on.
func WithLeaseClock(now func() time.Time) Option { return func(c *config) { c.leaseClock = now } }

// Store keeps vigie's state in memory. It is safe for concurrent use. Time only
// comes from the observations and arguments, never from the wall clock (the
// leases and logouts aside, see WithClock and WithLeaseClock), so
// replays and tests run on the events' own clock.
type Store struct {
	cfg config
	// seed and seed2 hash keys to 128 bits: the shards' tables hold 77 bits
	// of the hashes, not the keys' strings (see keyOf, fpOf).
	seed   maphash.Seed
	seed2  maphash.Seed
	mask   uint64
	shards []shard

	faqMu      sync.Mutex
	faqWording map[string]store.FAQWording // by Key

	auditMu sync.Mutex
	// audit is a ring of cfg.auditCap entries once full, held in blocks of
	// auditBlock made as entries come: a store that keeps no audit (a
	// replay's, the FAQ's) does not hold cfg.auditCap empty entries of
	// some 600 bytes each, and filling the ring copies no entry: one slice
	// grown by append (by a quarter at a time, past 256 entries) copied them
	// all at each step, under auditMu, and made 28.8 MB of fresh memory for
	// the 6 MB of the first 10,000 entries.
	audit   [][]store.AuditEntry
	auditAt int // next write position, once the ring is full
	auditN  int

	// book holds the console's accounts (accounts.go).
	book accountBook
	// notes are the moderators' notes on members (notes.go).
	notes noteBook
	// topics are the names of the places' threads (store.TopicKeeper).
	topics topicBook
	locks  lockBook
	// members lets one ban, kick or lift of a member be decided at a time
	// (LockMember).
	members store.KeyedLock
	// bans are the timed bans to lift, and the bans for good, never due
	// (store.ForGoodUntil; bans.go).
	bans banBook
	// leases are the single-owner jobs' leases (leases.go).
	leases leaseBook
	// verify holds the pending verifications of new members (verify.go).
	verify verifyBook
	// causes are the desk's cause cards, calls the answers given and the
	// troubles told to the desk (shared.go).
	causes store.CauseBook
	calls  store.CallBook
	// deskMissed are the cases each desk was passed over for.
	deskMissed store.DeskMissedBook

	casesMu sync.Mutex
	cases   map[string]*caseRec
	origins map[string]string // Case.Origin() → id, for the cases kept
	// order holds the case ids, oldest first, those forgotten too until
	// they are orderDead of more than half of it.
	order     []string
	orderDead int
	// decidedQ holds the decided cases kept, a heap by seq: trimCases
	// forgets the oldest of them without reading order.
	decidedQ bySeq
	seq      int64
	decided  int
	open     int
	groups   map[string]*caseRec  // Case.AuthorGroup() → an open case
	places   map[string]*placeRec // Case.PlaceGroup() → the cases opened lately
	// openQ holds the open cases from openHead on, by Opened then id: what
	// the escalation reads without copying every case. A decided case stays
	// in it until it reaches the front or until openDead says a rebuild
	// pays; openBy counts the open ones by priority.
	openQ    []*caseRec
	openHead int
	openDead int
	openBy   map[string]int

	journalMu sync.Mutex
	journal   map[string]store.JournalEntry

	// claims are the cases whose decision is being carried out
	// (ClaimCarrying).
	claimsMu sync.Mutex
	claims   map[string]bool
}

var (
	_ store.Store         = (*Store)(nil)
	_ store.CaseIndex     = (*Store)(nil)
	_ store.DecisionMarks = (*Store)(nil)
	_ store.CarryClaims   = (*Store)(nil)
	_ store.SumKeyed      = (*Store)(nil)
)

// counterKey is a counter's key under its place's hash; each of the two
// hashes of a counter (hkey) takes the place's hash under the same seed.
type counterKey struct {
	place     uint64
	name, key string
}

type authorKey struct {
	platform, space, author string
}

// hkey is a key hashed with two seeds. The tables keep 77 bits of it and no
// string: a counter of one timestamp costs its 16-byte slot, where its four
// strings would cost more than the rest. Two keys of a shard are taken for
// one only by chance: a lookup reads a few slots, each another key's that
// matches with a chance of 2^-77 (at 21,000 lookups a second, once in 10^11
// years); and the seeds are the process's own, so no one can make two keys
// collide on purpose.
type hkey [2]uint64

// keyOf hashes the key of the strings a, b and c (a platform, a space and
// an author; or a platform and an id); its first word picks the shard. As
// counterOf does, a key that fits counterBuf is laid out in it (a's length,
// a, b's length, b, c) and hashed in one pass per seed; a longer one is
// hashed as a struct.
func keyOf(s *Store, a, b, c string) hkey {
	var buf [counterBuf]byte
	if 2*binary.MaxVarintLen64+len(a)+len(b)+len(c) > len(buf) {
		k := authorKey{a, b, c}
		return hkey{maphash.Comparable(s.seed, k), maphash.Comparable(s.seed2, k)}
	}
	k := binary.AppendUvarint(buf[:0], uint64(len(a)))
	k = append(k, a...)
	k = binary.AppendUvarint(k, uint64(len(b)))
	k = append(append(k, b...), c...)
	return hkey{maphash.Bytes(s.seed, k), maphash.Bytes(s.seed2, k)}
}

// placeOf hashes a platform and a space, the part an observation's counters
// share: its counters' keys are then hashed from that (counterOf) rather
// than each from the two strings again.
func placeOf(s *Store, platform, space string) hkey {
	return keyOf(s, platform, space, "")
}

// counterOf hashes the counter name with key in the place p (placeOf).
//
// A key that fits counterBuf is laid out in it (the place's word, the name's
// length, the name, the key) and hashed in one pass per seed: hashing the
// struct instead hashes each of its three fields apart, six calls for the
// two seeds where this makes two, and an event counts a dozen keys.
func counterOf(s *Store, p hkey, name, key string) hkey {
	var a [counterBuf]byte
	if 8+binary.MaxVarintLen64+len(name)+len(key) > len(a) {
		return hkey{maphash.Comparable(s.seed, counterKey{p[0], name, key}),
			maphash.Comparable(s.seed2, counterKey{p[1], name, key})}
	}
	b := binary.LittleEndian.AppendUint64(a[:0], p[0])
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(append(b, name...), key...)
	h := maphash.Bytes(s.seed, b)
	binary.LittleEndian.PutUint64(b, p[1])
	return hkey{h, maphash.Bytes(s.seed2, b)}
}

// counterBuf is the longest counter key counterOf lays out on the stack, in
// bytes with its place and name.
const counterBuf = 128

// seenItem is an id remembered for dedupe, as its slot holds it (fp, and
// its expiry in milliseconds with its tag).
type seenItem struct {
	fp, v uint64
}

type strike struct {
	at, exp int64
}

// shard is 1,024 bytes (TestShardLayout), so that in the shards' array, which
// is page-aligned, each begins a cache line: its lock, when the sweep is due
// and where the counters' table is, which every observation reads after
// taking the lock, are then in the lock's line, which taking the lock
// brings to the core that takes it. (At 928 bytes, every other shard began
// mid-line, and a space's counters, which both cores read at every event,
// cost them a second line, and the sweep's time a third.)
type shard struct {
	mu sync.Mutex
	// nextSweep is when the next sweep is due on the events' clock, in
	// milliseconds, its lowest bit set when an event came to the shard since
	// SweepIdle's last call (busy): one word, in the lock's line.
	nextSweep int64
	// windows are the counters (cell.pack).
	windows table
	// rings hold the counters of more than one timestamp (cell.ring).
	rings   ringPool
	seen    table // the ids' expiries
	seenQ   fifo  // insertion order, to expire and cap without scanning
	maxSeen int
	// strikes are the authors': one strike in the slot (its time, and its
	// TTL as an index into strikeLists.ttls), more in a list of strikeLists
	// (sideBit).
	strikes     table
	strikeLists strikePool
	maxAuthors  int
	// authorsDropped counts the authors whose strikes went for want of room.
	authorsDropped int64
	// strikesExp is no later than the first expiry of the shard's strikes: a
	// sweep before it has no strike to drop and does not visit them.
	strikesExp int64
	// low is the earliest time of the events that came to the shard since
	// its last sweep on their clock, which it sweeps at (lock).
	low int64
	_   [104]byte // to 1,024 bytes: the next shard's lock begins a line
}

type caseRec struct {
	c     store.Case
	seq   int64
	acked bool
	// groups are the keys of s.groups and s.places naming this case, its own
	// author's and place's first, then those of the authors who joined it
	// (joined, the last groupKeep of them), forgotten when it is decided;
	// origins those of the hits grouped into it (the last groupKeep),
	// forgotten with it. joined and origins drop their oldest by moving
	// their start, so that a raid's hits do not shift them each.
	groups, joined, origins []string
	// cards are where the desks posted the case.
	cards []bot.CardRef
	// qi is the case's place in decidedQ while it is there, so that
	// ForgetCase takes it out without a search.
	qi int
}

// placeRec counts the cases opened in a place since start, the last one last.
type placeRec struct {
	start time.Time
	n     int
	last  *caseRec
}

// New returns an empty store.
func New(opts ...Option) *Store {
	cfg := config{
		shards:     DefaultShards,
		maxPerKey:  DefaultMaxPerKey,
		maxSeen:    DefaultMaxSeen,
		maxAuthors: DefaultMaxStrikeAuthors,
		auditCap:   DefaultAuditCap,
		caseCap:    DefaultCaseCap,
		openCap:    store.DefaultOpenCaseCap,
		sweepEvery: DefaultSweepEvery,
		casePrefix: "c-",
	}
	for _, o := range opts {
		o(&cfg)
	}
	n := 1
	for n < cfg.shards {
		n <<= 1
	}
	cfg.shards = n
	cfg.maxPerKey = max(cfg.maxPerKey, 1)
	cfg.maxSeen = max(cfg.maxSeen, n)
	cfg.maxAuthors = max(cfg.maxAuthors, n)
	cfg.auditCap = max(cfg.auditCap, 1)
	cfg.caseCap = max(cfg.caseCap, 0)
	if cfg.openCap <= 0 {
		cfg.openCap = store.DefaultOpenCaseCap
	}
	if cfg.sweepEvery <= 0 {
		cfg.sweepEvery = DefaultSweepEvery
	}
	if cfg.clock == nil {
		cfg.clock = time.Now
	}
	if cfg.leaseClock == nil {
		cfg.leaseClock = cfg.clock
	}
	// Each store numbers its cases from 1 in an epoch of its own: a store
	// made again (vigie restarted) never gives an id a case had before.
	if cfg.caseEpoch == "" {
		cfg.caseEpoch = store.NewCaseEpoch()
	}
	cfg.casePrefix += cfg.caseEpoch + "-"
	s := &Store{
		cfg:     cfg,
		seed:    maphash.MakeSeed(),
		seed2:   maphash.MakeSeed(),
		mask:    uint64(n - 1),
		shards:  make([]shard, n),
		cases:   make(map[string]*caseRec),
		origins: make(map[string]string),
		groups:  make(map[string]*caseRec),
		places:  make(map[string]*placeRec),
		openBy:  make(map[string]int),
		journal: make(map[string]store.JournalEntry),
	}
	ar := newArena()
	runtime.AddCleanup(s, (*arena).release, ar)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.windows.arena, sh.seen.arena, sh.strikes.arena, sh.seenQ.arena, sh.strikeLists.arena, sh.rings.arena = ar, ar, ar, ar, ar, ar
		horizon := planHorizon + cfg.sweepEvery.Milliseconds() + clockSpread
		sh.windows.horizon, sh.seen.horizon, sh.strikes.horizon = horizon, horizon, horizon
		if cfg.roomy {
			for _, t := range []*table{&sh.windows, &sh.seen, &sh.strikes} {
				t.full, t.grow = roomyFull, roomyGrow
			}
		}
		sh.strikesExp = math.MaxInt64
		sh.low = math.MaxInt64
		sh.maxSeen = cfg.maxSeen / n
		sh.maxAuthors = cfg.maxAuthors / n
	}
	return s
}

func (s *Store) shardOf(k hkey) *shard { return &s.shards[k[0]&s.mask] }

// lock takes the shard and, when its next sweep is due on the events' clock,
// drops what expired in it first. at is wallClock for what happens on vigie's
// own clock (store.Observation.Wall): it neither sweeps the shard nor makes it
// busy, since the events may be late on it (a backlog), and a sweep at its
// time would drop counters their windows still hold.
func (s *Store) lock(sh *shard, at int64) {
	sh.mu.Lock()
	if at == wallClock {
		return
	}
	if sh.nextSweep&busy == 0 {
		sh.nextSweep |= busy
	}
	// Events from several sources come to a shard on clocks a little apart
	// (a connector's seconds, a relay's delay), or far apart (a backlog
	// beside live events): swept at the latest of them, a counter of an
	// author on an earlier clock lost what its next event still counts (the
	// memory store answered otherwise than Redis, whose counters expire on
	// their own). The shard sweeps at the earliest clock it saw since its
	// last sweep, less clockSpread: on one clock, the time of the event
	// after the last sweep, what expired lives a sweep period longer. low
	// is read only for an event behind the one that swept last: it is out
	// of the lock's line.
	every := s.cfg.sweepEvery.Milliseconds()
	next := sh.nextSweep &^ busy
	if at < next-every && at < sh.low {
		sh.low = at
	}
	if at >= next {
		sh.sweep(min(sh.low, at) - min(every, clockSpread))
		sh.low = at
		sh.nextSweep = (at+every)&^busy | busy
	}
}

// clockSpread is how far behind the clock of the events that sweep a shard
// another source's events may be and still find all that their windows
// count, however long ago that source's author last came to the shard.
const clockSpread = int64(time.Minute / time.Millisecond)

// busy is nextSweep's bit for a shard an event came to since SweepIdle's last
// call.
const busy = 1

// wallClock is the time lock is given for an observation on vigie's clock.
const wallClock = math.MinInt64

// nearAuthor is k, a counter's key of the author a (keyOf of the
// observation's platform, space and author), moved to the author's shard:
// an event's six counters of its author and its strikes are then read
// under one lock, taken once, rather than in seven shards. The bits that
// pick the shard are not among the 77 a table keeps (fpOf, tagOf), so two
// keys are told apart as before. (Their homes in the shard's table are
// left apart: six entries of one home, or of eight neighbouring ones,
// lengthen the runs of a Robin Hood table several times over, and the
// probes and inserts cost more than the cache lines save.)
func (s *Store) nearAuthor(k, a hkey) hkey {
	return hkey{k[0]&^s.mask | a[0]&s.mask, k[1]}
}

// hold makes sh the shard an observation holds locked (taking it as lock
// does), letting go of the one it held: an observation's counters that
// share a shard, an author's, take its lock once.
func (s *Store) hold(held **shard, sh *shard, at int64) {
	if *held != nil {
		(*held).mu.Unlock()
	}
	s.lock(sh, at)
	*held = sh
}

// count observes the counter op of an event at the time at (milliseconds)
// under the key k in sh, its shard, which the caller holds, and returns its
// count.
func (s *Store) count(sh *shard, op *store.CounterOp, k hkey, at int64) int64 {
	fp, tag := fpOf(k), tagOf(k)
	length := op.Window.Milliseconds()
	j := sh.windows.find(fp, tag)
	if j < 0 {
		if !op.Incr {
			return 0
		}
		c := cell{one: at, keep: keepCode(length)}
		// it lives its window, rounded up, and until the sweep after
		sh.windows.insert(fp, c.pack(tag), keepOfCode(c.keep)+s.cfg.sweepEvery.Milliseconds()+clockSpread)
		return 1
	}
	v := sh.windows.at(j).v
	c := unpackRing(v)
	n := sh.observe(&c, at, length, op.Incr, s.cfg.maxPerKey)
	if n == 0 {
		sh.windows.del(j)
	} else if nv := sh.rings.pack(c, tag); nv != v {
		// a counter only read is most often left as it was: the slot
		// is not written again
		sh.windows.at(j).v = nv
	}
	return n
}

// keptKeys is how many counters' keys Observe keeps on its stack; an
// observation of more takes them from the heap.
const keptKeys = 24

// Observe dedupes the event, counts it and returns its counters and the author's
// strikes. It holds one shard's lock at a time, from one part of the
// observation to the next that is in the same shard.
func (s *Store) Observe(_ context.Context, o store.Observation) (store.Result, error) {
	at := msOf(o.At)
	sweepAt := at // the time the shards this observation takes may sweep at
	if o.Wall {
		sweepAt = wallClock
	}
	var held *shard
	again := false
	if o.EventID != "" {
		ttl := o.DedupeTTL
		if ttl <= 0 {
			ttl = store.DefaultDedupeTTL
		}
		k := keyOf(s, o.Platform, o.EventID, "")
		sh := s.shardOf(k)
		s.hold(&held, sh, sweepAt)
		fp, tag := fpOf(k), tagOf(k)
		seen := at
		if !o.SeenAt.IsZero() {
			seen = msOf(o.SeenAt)
		}
		i := sh.seen.find(fp, tag)
		if i >= 0 {
			if old := sh.seen.at(i).v; int64(old&msMask) > seen {
				// Seen, and not expired: a duplicate, unless its mark is
				// pending and older than Pending (its judge stopped).
				stamp := int64(old&msMask) - ttl.Milliseconds()
				if old&pendingBit == 0 || o.Pending <= 0 || seen < stamp+o.Pending.Milliseconds() {
					sh.mu.Unlock()
					return store.Result{Duplicate: true}, nil
				}
				again = true
			}
		}
		v := tagged(tag, uint64(min(seen+ttl.Milliseconds(), int64(msMask))))
		if o.Pending > 0 {
			v |= pendingBit
		}
		if i >= 0 {
			sh.seen.at(i).v = v
		} else {
			sh.seen.insert(fp, v, ttl.Milliseconds())
		}
		sh.seenQ.push(seenItem{fp, v})
		for sh.seenQ.n > sh.maxSeen {
			sh.dropSeen(sh.seenQ.pop())
		}
	}
	// The counters' keys first. An author's counters (ByAuthor) are in
	// the author's shard, as its strikes are (nearAuthor).
	var author hkey
	haveAuthor := o.StrikeWindow > 0
	if haveAuthor {
		author = keyOf(s, o.Platform, o.Space, o.Author)
	}
	var kept [keptKeys]hkey
	keys := kept[:0]
	if len(o.Counters) > keptKeys {
		keys = make([]hkey, 0, len(o.Counters))
	}
	if len(o.Counters) > 0 {
		place := placeOf(s, o.Platform, o.Space)
		for i := range o.Counters {
			op := &o.Counters[i]
			var k hkey
			if op.Sum.IsZero() {
				k = counterOf(s, place, op.Name, op.Key)
			} else {
				// the place's hash under the store's seeds, then the
				// counter's name and key as the engine hashed them
				k = hkey(store.KeySum(place).Then(op.Sum))
				if op.ByAuthor {
					// a sum is of the key's parts: one key, one author
					// (a glued key's text could be of two)
					if !haveAuthor {
						author, haveAuthor = keyOf(s, o.Platform, o.Space, o.Author), true
					}
					k = s.nearAuthor(k, author)
				}
			}
			keys = append(keys, k)
		}
	}
	var res store.Result
	if o.StrikeWindow > 0 {
		k := author
		sh := s.shardOf(k)
		if sh != held {
			s.hold(&held, sh, sweepAt)
		}
		sh.touch(o.Counters, keys)
		from := at - o.StrikeWindow.Milliseconds()
		var one [1]strike
		var list []strike
		if j := sh.strikes.find(fpOf(k), tagOf(k)); j >= 0 {
			list = sh.strikesIn(sh.strikes.at(j).v, &one)
		}
		in := func(st strike) bool { return st.at > from && st.at <= at && st.exp > at }
		// counted first: a repeat offender's hundred strikes are one
		// allocation, not the doublings of append
		n := 0
		for _, st := range list {
			if in(st) {
				n++
			}
		}
		if n > 0 {
			if o.Into != nil && cap(o.Into.Strikes) >= n {
				res.Strikes = o.Into.Strikes[:0]
			} else {
				res.Strikes = make([]time.Time, 0, n)
			}
			for _, st := range list {
				if in(st) {
					res.Strikes = append(res.Strikes, time.UnixMilli(st.at).UTC())
				}
			}
		}
	}
	if len(o.Counters) > 0 {
		if o.Into != nil && cap(o.Into.Counts) >= len(o.Counters) {
			res.Counts = o.Into.Counts[:len(o.Counters)] // each set below
		} else {
			res.Counts = make([]int64, len(o.Counters))
		}
		for i, k := range keys {
			sh := s.shardOf(k)
			if sh != held {
				s.hold(&held, sh, sweepAt)
				if o.Counters[i].ByAuthor && o.StrikeWindow <= 0 {
					sh.touch(o.Counters[i:], keys[i:])
				}
			}
			if again {
				// counted by its first judging: read only
				op := o.Counters[i]
				op.Incr = false
				res.Counts[i] = s.count(sh, &op, k, at)
				continue
			}
			res.Counts[i] = s.count(sh, &o.Counters[i], k, at)
		}
	}
	if held != nil {
		held.mu.Unlock()
	}
	res.Again = again
	return res, nil
}

// Settle is store.Store's: the mark's pending bit is cleared.
func (s *Store) Settle(_ context.Context, m store.SeenMark) error {
	s.markSeen(m, func(v uint64) uint64 { return v &^ pendingBit })
	return nil
}

// Renew is store.Store's: a pending mark is stamped now.
func (s *Store) Renew(_ context.Context, m store.SeenMark, now time.Time, _ time.Duration) error {
	ttl := m.TTL
	if ttl <= 0 {
		ttl = store.DefaultDedupeTTL
	}
	s.markSeen(m, func(v uint64) uint64 {
		if v&pendingBit == 0 {
			return v
		}
		exp := uint64(min(msOf(now)+ttl.Milliseconds(), int64(msMask)))
		return v&^msMask | exp
	})
	return nil
}

// markSeen changes the value of m's mark, if the store holds it, with f.
// A renewed mark's expiry is queued again, as Observe queues it.
func (s *Store) markSeen(m store.SeenMark, f func(uint64) uint64) {
	if m.ID == "" {
		return
	}
	k := keyOf(s, m.Platform, m.ID, "")
	sh := s.shardOf(k)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	fp, tag := fpOf(k), tagOf(k)
	i := sh.seen.find(fp, tag)
	if i < 0 {
		return
	}
	old := sh.seen.at(i).v
	v := f(old)
	if v == old {
		return
	}
	sh.seen.at(i).v = v
	if v&msMask != old&msMask {
		sh.seenQ.push(seenItem{fp, v})
		for sh.seenQ.n > sh.maxSeen {
			sh.dropSeen(sh.seenQ.pop())
		}
	}
}

// touch reads the home slots of the author's counters among ops (keys
// their keys), in sh, the author's shard, held, before they are looked up
// one after the other: the reads do not wait on each other, so their cache
// misses overlap instead of adding up. (An author's six counters miss the
// cache in a busy store: its tables are far larger.)
func (sh *shard) touch(ops []store.CounterOp, keys []hkey) {
	p := &sh.windows.cur
	if len(p.slots) == 0 {
		return
	}
	var x uint64
	for i := range ops {
		if ops[i].ByAuthor && !ops[i].Sum.IsZero() {
			x += p.slots[p.home(fpOf(keys[i]))].fp
		}
	}
	runtime.KeepAlive(x) // the reads are made, and nothing shared is written
}

// AddStrike records a strike; a zero TTL means store.DefaultStrikeTTL.
func (s *Store) AddStrike(_ context.Context, st store.Strike) error {
	ttl := st.TTL
	if ttl <= 0 {
		ttl = store.DefaultStrikeTTL
	}
	at := msOf(st.At)
	exp := at + ttl.Milliseconds()
	k := keyOf(s, st.Platform, st.Space, st.Author)
	sh := s.shardOf(k)
	s.lock(sh, at)
	defer sh.mu.Unlock()
	fp, tag := fpOf(k), tagOf(k)
	j := sh.strikes.find(fp, tag)
	var v uint64
	var list []strike
	if j >= 0 {
		v = sh.strikes.at(j).v
		if v&sideBit != 0 {
			list = sh.strikeLists.list(uint32(v))
		} else {
			var one [1]strike
			list = append(make([]strike, 0, 2), sh.strikesIn(v, &one)...)
		}
	}
	// Drop what expired, keep the list sorted by time, then cap it.
	list = slices.DeleteFunc(list, func(x strike) bool { return x.exp <= at })
	i, _ := slices.BinarySearchFunc(list, at, func(x strike, t int64) int {
		if x.at <= t {
			return -1
		}
		return 1
	})
	list = slices.Insert(list, i, strike{at: at, exp: exp})
	sh.strikesExp = min(sh.strikesExp, exp)
	if over := len(list) - DefaultMaxStrikes; over > 0 {
		list = slices.Delete(list, 0, over)
	}
	if len(list) == 1 {
		if t, ok := sh.strikeLists.ttlIndex(exp - at); ok {
			if v&sideBit != 0 {
				sh.strikeLists.remove(uint32(v))
			}
			v = tagged(tag, t<<codeShift|uint64(at))
			if j >= 0 {
				sh.strikes.at(j).v = v
			} else {
				sh.insertAuthor(fp, v, ttl.Milliseconds())
			}
			return nil
		}
	}
	if j >= 0 && v&sideBit != 0 {
		sh.strikeLists.set(uint32(v), list)
		return nil
	}
	v = sideBit | tagged(tag, uint64(sh.strikeLists.add(list)))
	if j >= 0 {
		sh.strikes.at(j).v = v
	} else {
		sh.insertAuthor(fp, v, ttl.Milliseconds())
	}
	return nil
}

// strikesIn returns the strikes of a slot of the strikes' table: the one
// it holds, in one, or its list.
func (sh *shard) strikesIn(v uint64, one *[1]strike) []strike {
	if v&sideBit != 0 {
		return sh.strikeLists.list(uint32(v))
	}
	at := int64(v & msMask)
	one[0] = strike{at: at, exp: at + sh.strikeLists.ttls[v>>codeShift&0xff]}
	return one[:]
}

// newestStrike is the time of the last strike in a slot of the strikes' table.
func (sh *shard) newestStrike(v uint64) int64 {
	if v&sideBit != 0 {
		return sh.strikeLists.last(uint32(v))
	}
	return int64(v & msMask)
}

// dropAuthor forgets the strikes of slot j of the strikes' table.
func (sh *shard) dropAuthor(j int) {
	if v := sh.strikes.at(j).v; v&sideBit != 0 {
		sh.strikeLists.remove(uint32(v))
	}
	sh.strikes.del(j)
}

// insertAuthor adds an author's strikes; when the shard holds maxAuthors,
// the author among the eight from fp's place whose last strike is the oldest
// is forgotten first: a store full of strikes keeps the recent offenders.
func (sh *shard) insertAuthor(fp, v uint64, ttl int64) {
	if sh.strikes.len() >= sh.maxAuthors {
		victim, oldest := -1, int64(math.MaxInt64)
		sh.strikes.neighbours(fp, 8, func(i int, s slot) {
			if at := sh.newestStrike(s.v); at < oldest {
				victim, oldest = i, at
			}
		})
		sh.dropAuthor(victim)
		sh.authorsDropped++
	}
	sh.strikes.insert(fp, v, ttl)
}

// StrikeAuthorsDropped counts the authors whose strikes were forgotten
// before they expired, to make room (WithMaxStrikeAuthors).
func (s *Store) StrikeAuthorsDropped() int64 {
	var n int64
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.authorsDropped
		sh.mu.Unlock()
	}
	return n
}

// Sweep drops everything that expired at now, in every shard. Shards also sweep
// themselves as events pass; this is for a process that wants memory back
// during a quiet spell.
func (s *Store) Sweep(now time.Time) {
	at := msOf(now)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		sh.sweep(at)
		sh.mu.Unlock()
	}
}

// SweepIdle sweeps at now the shards no event came to since its last call:
// shards sweep on the events' clock, so a process on the wall clock calls it
// now and then (a minute apart) to free what a quiet spell leaves behind. A
// shard events keep coming to is left to them, however late their clock is
// behind now: a backlog of events an hour old still counts in windows that
// are open on its clock.
func (s *Store) SweepIdle(now time.Time) {
	at := msOf(now)
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		if sh.nextSweep&busy != 0 {
			sh.nextSweep &^= busy
		} else if at >= sh.nextSweep {
			sh.sweep(at)
			sh.nextSweep = (at + s.cfg.sweepEvery.Milliseconds()) &^ busy
		}
		sh.mu.Unlock()
	}
}

func (sh *shard) sweep(at int64) {
	sh.windows.plan(at, math.MaxInt)
	sh.seen.plan(at, sh.maxSeen)
	sh.strikes.plan(at, sh.maxAuthors)
	for sh.seenQ.n > 0 && int64(sh.seenQ.peek().v&msMask) <= at {
		sh.dropSeen(sh.seenQ.pop())
	}
	sh.seen.shrink()
	sh.windows.deleteFunc(func(s slot) bool {
		if sh.liveAt(s.v, at) {
			return false
		}
		c := sh.unpack(s.v)
		if c.expiry() > at {
			return false
		}
		if c.ring != 0 {
			sh.freeRing(&c)
		}
		return true
	})
	if at < sh.strikesExp {
		return
	}
	first := int64(math.MaxInt64)
	sh.strikes.deleteFunc(func(s slot) bool {
		if s.v&sideBit == 0 {
			exp := int64(s.v&msMask) + sh.strikeLists.ttls[s.v>>codeShift&0xff]
			if exp <= at {
				return true
			}
			first = min(first, exp)
			return false
		}
		i := uint32(s.v)
		if f := sh.strikeLists.first(i); f > at {
			first = min(first, f)
			return false
		}
		list := slices.DeleteFunc(sh.strikeLists.list(i), func(x strike) bool { return x.exp <= at })
		if len(list) == 0 {
			sh.strikeLists.remove(i)
			return true
		}
		sh.strikeLists.set(i, list)
		first = min(first, sh.strikeLists.first(i))
		return false
	})
	sh.strikesExp = first
}

// dropSeen forgets an id unless it was seen again since it was queued.
func (sh *shard) dropSeen(it seenItem) {
	if i := sh.seen.find(it.fp, it.v>>tagShift&tagMask); i >= 0 && sh.seen.at(i).v&^pendingBit == it.v&^pendingBit {
		sh.seen.del(i)
	}
}

// AppendAudit records a verdict in the ring; the oldest entry goes when full.
func (s *Store) AppendAudit(_ context.Context, e store.AuditEntry) error {
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	if s.auditN < s.cfg.auditCap {
		// not full yet: the entries are in order from 0, auditAt stays 0
		b := s.auditN / auditBlock
		if b == len(s.audit) {
			s.audit = append(s.audit, make([]store.AuditEntry, 0, min(auditBlock, s.cfg.auditCap-s.auditN)))
		}
		s.audit[b] = append(s.audit[b], e)
		s.auditN++
		return nil
	}
	*s.auditEntry(s.auditAt) = e
	s.auditAt = (s.auditAt + 1) % s.auditN
	return nil
}

// auditBlock is how many audit entries a block of the ring holds: a few
// hundred kilobytes.
const auditBlock = 256

// auditEntry is the ring's i-th entry, in the order they were first written.
func (s *Store) auditEntry(i int) *store.AuditEntry {
	return &s.audit[i/auditBlock][i%auditBlock]
}

// Audit returns the kept entries at or after since, in the order they were
// recorded.
func (s *Store) Audit(_ context.Context, since time.Time) ([]store.AuditEntry, error) {
	s.auditMu.Lock()
	defer s.auditMu.Unlock()
	var out []store.AuditEntry
	if s.auditN == 0 {
		return out, nil
	}
	// auditAt is 0 until the ring is full, then the oldest entry.
	for i := range s.auditN {
		e := s.auditEntry((s.auditAt + i) % s.auditN)
		if !e.At.Before(since) {
			out = append(out, *e)
		}
	}
	return out, nil
}

var _ store.CaseOrigins = (*Store)(nil)

// CaseOfOrigin returns the id of the case origin opened or joined, while
// that case is kept.
func (s *Store) CaseOfOrigin(_ context.Context, origin string) (string, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	if r := s.cases[s.origins[origin]]; r != nil {
		return r.c.ID, nil
	}
	return "", nil
}

// OpenCase stores a case with the next id, c-EPOCH-000001 onwards, the
// epoch drawn when the store was made (see WithCaseIDPrefix), or groups it
// into an open one (see store.Store). A zero Opened takes the event's time.
func (s *Store) OpenCase(ctx context.Context, c store.Case) (store.Case, error) {
	calls := c.Calls
	c.Calls = nil // not kept in the case
	out, err := s.openCase(c, !s.cfg.noGroups)
	if err == nil {
		at := c.Opened
		if at.IsZero() {
			at = c.Event.At
		}
		for _, key := range calls {
			_ = s.calls.KeepCall(ctx, key, store.CallRecord{At: at, Done: true}, store.MessageCallKeep)
		}
	}
	return out, err
}

// OpenCaseAlone opens c as OpenCase does, but on its own: it joins no open
// case, and none joins it. A case opened again as it stood (taken back
// from a spool) keeps its id, its cards and its hits.
func (s *Store) OpenCaseAlone(_ context.Context, c store.Case) (store.Case, error) {
	return s.openCase(c, false)
}

// Ungroup takes open case id out of its groups and returns it as it
// stands: it stays open, and the hits that come after open a case of their
// own, or join another. A store standing in for another one ungroups a case
// as it copies it there: a hit added after the copy would never reach it.
func (s *Store) Ungroup(_ context.Context, id string) (store.Case, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	r, ok := s.cases[id]
	if !ok {
		return store.Case{}, fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	s.leaveGroups(r)
	return r.c, nil
}

// PlaceGrouped tells the store that another one grouped place (a
// store.Case.PlaceGroup) from start: its raid's case is there, not here.
// Within store.GroupWindow of start, the next case of the place opens here
// as the place's, and the hits of further authors join it, rather than the
// place counting its cases again from none. A place grouped here already is
// left as it is.
func (s *Store) PlaceGrouped(place string, start time.Time) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	if s.cfg.noGroups || s.places[place] != nil {
		return
	}
	s.places[place] = &placeRec{start: start, n: store.GroupAuthors}
}

func (s *Store) openCase(c store.Case, grouped bool) (store.Case, error) {
	origin := c.Origin()
	group, place := c.Groups()
	if !grouped {
		group = ""
	}
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	if origin != "" {
		// A grouped hit's origin outlives its case when the case is forgotten.
		if r := s.cases[s.origins[origin]]; r != nil {
			if c.Hits() <= 1 {
				return r.c, nil
			}
			// A copy carrying hits beyond its own gives them to the case,
			// or is grouped or opened as any case once that one is decided.
			if r.c.Status == store.CaseOpen {
				s.addHits(r, c, false)
				return r.c, nil
			}
		}
	}
	if c.Opened.IsZero() {
		c.Opened = c.Event.At
	}
	if group != "" {
		// s.groups names open cases only: DecideCase forgets a case's groups.
		r := s.groups[group]
		if r == nil || r.c.Status != store.CaseOpen {
			r = nil
			if p := s.places[place]; p != nil && c.Opened.Sub(p.start) < store.GroupWindow && p.n >= store.GroupAuthors {
				r = p.last
			}
		}
		if r != nil && r.c.Status == store.CaseOpen {
			s.addHits(r, c, true)
			if s.groups[group] != r {
				s.groups[group] = r
				r.joined = append(r.joined, group)
			}
			if origin != "" {
				s.origins[origin] = r.c.ID
				r.origins = append(r.origins, origin)
			}
			s.trimGroups(r)
			return r.c, nil
		}
	}
	if s.open >= s.cfg.openCap {
		return store.Case{}, &capError{platform: c.Event.Platform, id: c.Event.ID, open: s.open}
	}
	s.seq++
	c.ID = caseID(s.cfg.casePrefix, s.seq)
	c.Status = store.CaseOpen
	c.Outcome, c.DecidedBy, c.DeciderName, c.DecidedAt, c.Undeliverable = "", "", "", time.Time{}, ""
	c.Count = c.Hits()
	if c.Message != "" {
		_ = s.KeepCaseOfMessage(context.Background(), c.Message, c.ID, c.Opened)
		c.Message = ""
	}
	r := &caseRec{c: c, seq: s.seq}
	s.cases[c.ID] = r
	s.order = append(s.order, c.ID)
	s.open++
	s.enqueueOpen(r)
	if origin != "" {
		s.origins[origin] = c.ID
	}
	if group != "" {
		s.groups[group] = r
		p := s.places[place]
		if p == nil || c.Opened.Sub(p.start) >= store.GroupWindow {
			p = &placeRec{start: c.Opened}
			s.places[place] = p
		}
		p.n++
		p.last = r
		r.groups = append(r.groups, group, place)
	}
	return c, nil
}

// addHits adds c's hits to r: its own (with own) and those it carries.
// A copy that carries hits (written back from a store that stood in for
// this one) is merged by message id: a message r names already (its own,
// in Latest or Refs) is not counted again, as this store ran that hit and
// its answer was lost before the copy added it too.
func (s *Store) addHits(r *caseRec, c store.Case, own bool) {
	n := c.Hits()
	if !own {
		n--
	}
	var known map[string]bool
	if c.Hits() > 1 || len(c.Latest) > 0 || len(c.Refs) > 0 {
		known = make(map[string]bool, 1+len(r.c.Latest)+len(r.c.Refs))
		known[r.c.Event.ID] = true
		for _, id := range r.c.Latest {
			known[id] = true
		}
		for _, ref := range r.c.Refs {
			known[ref.ID] = true
		}
		twice := map[string]bool{}
		if own && known[c.Event.ID] {
			twice[c.Event.ID], own = true, false
		}
		latest, refs := c.Latest[:0:0], c.Refs[:0:0]
		for _, id := range c.Latest {
			if known[id] {
				twice[id] = true
			} else {
				latest = append(latest, id)
			}
		}
		for _, ref := range c.Refs {
			if known[ref.ID] {
				twice[ref.ID] = true
			} else {
				refs = append(refs, ref)
			}
		}
		c.Latest, c.Refs = latest, refs
		n = max(n-len(twice), 0)
	}
	// Latest only grows at its end and drops from its start, so that the
	// copies of the case returned before keep what they read: append moves
	// it to a new array when it is full. And so do the messages' references.
	if own {
		r.c.Latest = append(r.c.Latest, c.Event.ID)
		r.c.Refs = append(r.c.Refs, store.RefOf(c.Event))
	}
	r.c.Count = r.c.Hits() + n
	r.c.Latest = append(r.c.Latest, c.Latest...)
	if n := len(r.c.Latest); n > store.GroupLatest {
		r.c.Latest = r.c.Latest[n-store.GroupLatest:]
	}
	r.c.Refs = append(r.c.Refs, c.Refs...)
	if n := len(r.c.Refs); n > store.GroupRefs {
		r.c.Refs = r.c.Refs[n-store.GroupRefs:]
	}
}

// caseID is fmt.Sprintf("%s%06d", prefix, seq), in one allocation.
func caseID(prefix string, seq int64) string {
	var d [20]byte
	n := strconv.AppendInt(d[:0], seq, 10)
	b := make([]byte, 0, len(prefix)+max(len(n), 6))
	b = append(b, prefix...)
	for range 6 - len(n) {
		b = append(b, '0')
	}
	return string(append(b, n...))
}

// capError is OpenCase's error at the cap. Its text is written only when it
// is read: a raid that fills the desk has every further forward refused, and
// the moderator reads the text of one a minute at most.
type capError struct {
	platform, id string
	open         int
}

func (e *capError) Error() string {
	return fmt.Sprintf("case for %s: %d open: %v", bot.Event{Platform: e.platform, ID: e.id}.Key(), e.open, store.ErrCaseCap)
}

func (e *capError) Unwrap() error { return store.ErrCaseCap }

// Case returns one case.
func (s *Store) Case(_ context.Context, id string) (store.Case, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	r, ok := s.cases[id]
	if !ok {
		return store.Case{}, fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	return r.c, nil
}

// Cases returns the cases with the status, oldest first.
func (s *Store) Cases(_ context.Context, status store.CaseStatus) ([]store.Case, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	var out []store.Case
	for _, id := range s.order {
		if r := s.cases[id]; r != nil && r.c.Status == status {
			out = append(out, r.c)
		}
	}
	return out, nil
}

// DecideCase closes a case once.
func (s *Store) DecideCase(_ context.Context, id, outcome, by, byName string, at time.Time) (store.Case, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	r, ok := s.cases[id]
	if !ok {
		return store.Case{}, fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	if r.c.Status == store.CaseDecided {
		return r.c, fmt.Errorf("case %s decided %s by %s: %w", id, r.c.Outcome, r.c.DecidedBy, store.ErrDecided)
	}
	r.c.Status = store.CaseDecided
	r.c.Outcome, r.c.DecidedBy, r.c.DeciderName, r.c.DecidedAt = outcome, by, byName, at
	s.decided++
	s.pushDecided(r)
	s.closeOpen(r)
	s.trimCases()
	return r.c, nil
}

// ForgetCase forgets a case, open or decided, as if it had never been
// opened: a store standing in for another one while it was away drops its
// copy once the other holds the case, rather than keep it open for good. A
// case it does not hold is store.ErrNotFound.
func (s *Store) ForgetCase(_ context.Context, id string) error {
	return s.changeCase(id, func(r *caseRec) {
		if r.c.Status == store.CaseDecided {
			heap.Remove(&s.decidedQ, r.qi)
			s.decided--
		} else {
			// Not open any more for openQ, which still holds it: the copies
			// returned before are values, and keep their status.
			r.c.Status = store.CaseDecided
			s.closeOpen(r)
		}
		s.forget(r)
		s.compactOrder()
	})
}

// closeOpen counts r, just closed, out of the open cases and their groups.
func (s *Store) closeOpen(r *caseRec) {
	s.open--
	s.dequeueOpen(r)
	s.leaveGroups(r)
}

// leaveGroups forgets r's groups: no hit joins it any more.
func (s *Store) leaveGroups(r *caseRec) {
	for _, gs := range [2][]string{r.groups, r.joined} {
		for _, g := range gs {
			if s.groups[g] == r {
				delete(s.groups, g)
			}
			if p := s.places[g]; p != nil && p.last == r {
				delete(s.places, g)
			}
		}
	}
	r.groups, r.joined = nil, nil
}

// groupKeep bounds the author groups and the origins of hits a case
// remembers beyond its own: a place's case in a raid gathers hits from
// thousands of authors for as long as it is open. An author forgotten here
// whose hit comes again opens a case of their own, or joins the place's;
// a retry of a forgotten hit is counted again.
const groupKeep = store.GroupJoiners

// trimGroups forgets r's oldest grouped authors and hits beyond groupKeep.
func (s *Store) trimGroups(r *caseRec) {
	if over := len(r.joined) - groupKeep; over > 0 {
		for _, g := range r.joined[:over] {
			if s.groups[g] == r {
				delete(s.groups, g)
			}
		}
		clear(r.joined[:over])
		r.joined = r.joined[over:]
	}
	if over := len(r.origins) - groupKeep; over > 0 {
		for _, o := range r.origins[:over] {
			if s.origins[o] == r.c.ID {
				delete(s.origins, o)
			}
		}
		clear(r.origins[:over])
		r.origins = r.origins[over:]
	}
}

// caseBefore orders the open cases: by Opened, then by id.
func caseBefore(a, b *caseRec) bool {
	if c := a.c.Opened.Compare(b.c.Opened); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}

// enqueueOpen adds a new open case to openQ, at the end unless its clock
// is behind the last one's.
func (s *Store) enqueueOpen(r *caseRec) {
	s.openBy[r.c.Priority]++
	q := s.openQ
	if len(q) == s.openHead || !caseBefore(r, q[len(q)-1]) {
		s.openQ = append(q, r)
		return
	}
	i := s.openHead + sort.Search(len(q)-s.openHead, func(i int) bool { return caseBefore(r, q[s.openHead+i]) })
	s.openQ = slices.Insert(q, i, r)
}

// dequeueOpen counts a case decided: the front of openQ moves past it when
// it is there, and the queue is rebuilt once most of it is decided cases.
func (s *Store) dequeueOpen(r *caseRec) {
	if s.openBy[r.c.Priority]--; s.openBy[r.c.Priority] <= 0 {
		delete(s.openBy, r.c.Priority)
	}
	s.openDead++
	q := s.openQ
	for s.openHead < len(q) && q[s.openHead].c.Status != store.CaseOpen {
		q[s.openHead] = nil
		s.openHead++
		s.openDead--
	}
	live := len(q) - s.openHead - s.openDead
	switch {
	case s.openHead == len(q):
		s.openQ, s.openHead = q[:0], 0
	case s.openDead > 1024 && s.openDead > live:
		kept := make([]*caseRec, 0, 2*live)
		for _, r := range q[s.openHead:] {
			if r.c.Status == store.CaseOpen {
				kept = append(kept, r)
			}
		}
		s.openQ, s.openHead, s.openDead = kept, 0, 0
	case s.openHead > 1024 && s.openHead > len(q)/2:
		n := copy(q, q[s.openHead:])
		clear(q[n:])
		s.openQ, s.openHead = q[:n], 0
	}
}

// OpenCounts counts the open cases by priority, without reading them.
func (s *Store) OpenCounts(_ context.Context) (store.OpenCounts, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	out := store.OpenCounts{ByPriority: make(map[string]int, len(s.openBy))}
	for p, n := range s.openBy {
		out.ByPriority[p] = n
	}
	if s.openHead < len(s.openQ) {
		out.Oldest = s.openQ[s.openHead].c.Opened
	}
	return out, nil
}

// OpenedWithin returns the open cases opened in [from, to), oldest first: a
// binary search into openQ, then only those.
func (s *Store) OpenedWithin(_ context.Context, from, to time.Time) ([]store.Case, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	q := s.openQ[s.openHead:]
	i := sort.Search(len(q), func(i int) bool { return !q[i].c.Opened.Before(from) })
	var out []store.Case
	for _, r := range q[i:] {
		if !r.c.Opened.Before(to) {
			break
		}
		if r.c.Status == store.CaseOpen {
			out = append(out, r.c)
		}
	}
	return out, nil
}

// trimCases forgets the oldest decided cases beyond the cap. Their ids
// stay in order until they are most of it: a case expired or decided once
// the cap is reached forgets one case, and read the whole order to find it.
func (s *Store) trimCases() {
	for s.decided > s.cfg.caseCap {
		s.forget(s.popDecided())
		s.decided--
	}
	s.compactOrder()
}

// forget drops r from the cases and the origins; its id stays in order
// (compactOrder).
func (s *Store) forget(r *caseRec) {
	delete(s.cases, r.c.ID)
	delete(s.origins, r.c.Origin())
	for _, o := range r.origins {
		delete(s.origins, o)
	}
	s.orderDead++
}

// compactOrder drops the forgotten ids from order once they are most of it.
func (s *Store) compactOrder() {
	if s.orderDead > 1024 && s.orderDead > len(s.order)/2 {
		kept := s.order[:0]
		for _, id := range s.order {
			if s.cases[id] != nil {
				kept = append(kept, id)
			}
		}
		clear(s.order[len(kept):])
		s.order, s.orderDead = kept, 0
	}
}

// pushDecided adds a decided case to decidedQ.
func (s *Store) pushDecided(r *caseRec) { heap.Push(&s.decidedQ, r) }

// popDecided takes the oldest decided case out of decidedQ.
func (s *Store) popDecided() *caseRec { return heap.Pop(&s.decidedQ).(*caseRec) }

// bySeq is a heap of cases, the oldest (least seq) first.
type bySeq []*caseRec

func (q bySeq) Len() int           { return len(q) }
func (q bySeq) Less(i, j int) bool { return q[i].seq < q[j].seq }
func (q bySeq) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].qi, q[j].qi = i, j
}
func (q *bySeq) Push(x any) {
	r := x.(*caseRec)
	r.qi = len(*q)
	*q = append(*q, r)
}
func (q *bySeq) Pop() any {
	old := *q
	n := len(old) - 1
	r := old[n]
	old[n] = nil
	r.qi = -1
	*q = old[:n]
	return r
}

// PendingCases returns the cases not acknowledged yet, oldest first.
func (s *Store) PendingCases(_ context.Context) ([]store.Case, error) {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	var out []store.Case
	for _, id := range s.order {
		if r := s.cases[id]; r != nil && !r.acked {
			out = append(out, r.c)
		}
	}
	return out, nil
}

// changeCase changes the case id under the cases' lock; a case the store
// does not hold is store.ErrNotFound.
func (s *Store) changeCase(id string, change func(r *caseRec)) error {
	s.casesMu.Lock()
	defer s.casesMu.Unlock()
	r, ok := s.cases[id]
	if !ok {
		return fmt.Errorf("case %q: %w", id, store.ErrNotFound)
	}
	change(r)
	return nil
}

// MarkCarried records how the case's decision was carried out.
func (s *Store) MarkCarried(_ context.Context, id, result string) error {
	return s.changeCase(id, func(r *caseRec) { r.c.Carried, r.c.Carrying, r.c.CarryingMark = result, false, "" })
}

// MarkCarrying records that the carrying out of the case's decision begins.
func (s *Store) MarkCarrying(_ context.Context, id, mark string) error {
	return s.changeCase(id, func(r *caseRec) { r.c.Carrying, r.c.CarryingMark = true, mark })
}

// ClaimCarrying claims the carrying out of case id's decision in this
// store, which one process has: held until released, never lost.
func (s *Store) ClaimCarrying(_ context.Context, id string) (release func(), lost func() bool, err error) {
	s.claimsMu.Lock()
	defer s.claimsMu.Unlock()
	if s.claims[id] {
		return nil, nil, fmt.Errorf("case %s: %w", id, store.ErrClaimed)
	}
	if s.claims == nil {
		s.claims = map[string]bool{}
	}
	s.claims[id] = true
	return sync.OnceFunc(func() {
		s.claimsMu.Lock()
		delete(s.claims, id)
		s.claimsMu.Unlock()
	}), func() bool { return false }, nil
}

// AckCase marks a case as accepted by the desk.
func (s *Store) AckCase(_ context.Context, id string) error {
	return s.changeCase(id, func(r *caseRec) { r.acked = true })
}

// MarkUndeliverable acknowledges a case the desk refused, and says why.
func (s *Store) MarkUndeliverable(_ context.Context, id, why string) error {
	if why == "" {
		why = "refused by the desk"
	}
	return s.changeCase(id, func(r *caseRec) {
		r.acked = true
		r.c.Undeliverable = why
	})
}

// AddCard records where a desk posted a case's card, once.
func (s *Store) AddCard(_ context.Context, id string, card bot.CardRef) error {
	return s.changeCase(id, func(r *caseRec) {
		if !slices.Contains(r.cards, card) {
			r.cards = append(r.cards, card)
		}
	})
}

// AmendCase records how the actions the case was trying ended. The case's
// slices are replaced, not written into: copies returned before keep what
// they read.
func (s *Store) AmendCase(_ context.Context, id string, a store.CaseAmendment) error {
	return s.changeCase(id, func(r *caseRec) { r.c = r.c.Amend(a) })
}

// CaseCards returns where the case's cards were posted.
func (s *Store) CaseCards(_ context.Context, id string) ([]bot.CardRef, error) {
	s.casesMu.Lock()
	var out []bot.CardRef
	if r, ok := s.cases[id]; ok {
		out = slices.Clone(r.cards)
	}
	s.casesMu.Unlock()
	store.SortCards(out)
	return out, nil
}

// Begin writes a journal entry; it lives until Done (the process's life).
// It settles e.Settle first.
func (s *Store) Begin(ctx context.Context, e store.JournalEntry) error {
	if e.Settle != nil {
		_ = s.Settle(ctx, *e.Settle)
		e.Settle = nil
	}
	s.journalMu.Lock()
	defer s.journalMu.Unlock()
	s.journal[e.Key] = e
	return nil
}

// Done removes a journal entry.
func (s *Store) Done(_ context.Context, key string) error {
	s.journalMu.Lock()
	defer s.journalMu.Unlock()
	delete(s.journal, key)
	return nil
}

// Unfinished takes the entries stamped before olderThan, oldest first.
func (s *Store) Unfinished(_ context.Context, olderThan, now time.Time) ([]store.JournalEntry, error) {
	s.journalMu.Lock()
	defer s.journalMu.Unlock()
	var out []store.JournalEntry
	for k, e := range s.journal {
		if !e.At.Before(olderThan) {
			continue
		}
		e.Tries++
		out = append(out, e)
		e.At = now
		s.journal[k] = e
	}
	slices.SortFunc(out, func(a, b store.JournalEntry) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// Close does nothing: memory is released with the store.
func (s *Store) Close() error { return nil }

// Local marks the memory store as one whose calls never wait on anything
// outside the process (store.Local).
func (*Store) Local() {}

// SumKeyed marks the memory store as one that reads a counter's Sum in
// place of its name and key (store.SumKeyed): its tables keep hashes only.
func (*Store) SumKeyed() {}

var _ store.Local = (*Store)(nil)

// Len returns how many counters, remembered ids and authors with strikes the
// store holds, for tests and a gauge.
func (s *Store) Len() int {
	n := 0
	for i := range s.shards {
		sh := &s.shards[i]
		sh.mu.Lock()
		n += sh.windows.len() + sh.seen.len() + sh.strikes.len()
		sh.mu.Unlock()
	}
	return n
}

// LearnFAQ keeps a wording once, up to store.MaxFAQWordings.
func (s *Store) LearnFAQ(_ context.Context, w store.FAQWording) error {
	s.faqMu.Lock()
	defer s.faqMu.Unlock()
	if s.faqWording == nil {
		s.faqWording = map[string]store.FAQWording{}
	}
	if _, ok := s.faqWording[w.Key()]; ok || len(s.faqWording) >= store.MaxFAQWordings {
		return nil
	}
	s.faqWording[w.Key()] = w
	return nil
}

// FAQWordings returns the wordings learned, oldest first.
func (s *Store) FAQWordings(context.Context) ([]store.FAQWording, error) {
	s.faqMu.Lock()
	out := make([]store.FAQWording, 0, len(s.faqWording))
	for _, w := range s.faqWording {
		out = append(out, w)
	}
	s.faqMu.Unlock()
	store.SortFAQWordings(out)
	return out, nil
}
