package storetest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
)

// The model test drives a store and a plain model of it (a map of key →
// times) with one seeded random history, and compares every answer: each
// counter's count at the event's time, the dedupe of an id seen before,
// the author's strikes in their window.
//
// What the stores promise, and the model checks:
//
//   - An event judged at or after every time the store was given before
//     (the events' clock, G) is answered exactly: its counters count every
//     event of their key newer than At-Window, those stamped after At
//     included; its strikes are those in (At-StrikeWindow, At] whose TTL
//     has not run out at At.
//   - An event judged earlier than G (the engine takes events up to
//     rules.DefaultMaxAge old, and stamped up to rules.DefaultSkew ahead of
//     its clock, so a later-stamped one may come first) is counted in the
//     state the store kept. Its count is at most the exact one, and at
//     least the events newer than the window of the latest time the
//     counter was read or counted at (a store drops those out of it then),
//     none of the older ones once the counter's newest was out of the
//     window of G (a sweep drops the counter), and itself. Its strikes are
//     among the exact ones and include those not expired at G.
//   - An id is a duplicate while it was last seen (SeenAt) less than
//     DedupeTTL ago. An id whose memory ran out before G may be forgotten
//     a little early by a store that sweeps on the events' clock: either
//     answer is taken there, and the model follows the store's.
//   - An id forgotten and seen again at the same At is counted again by a
//     store that keeps times (memory), not by one that names its entries
//     by id and time (Redis): either count is taken.
//
// The history keeps within the stores' bounds (10,000 events per counter,
// 100 strikes and 1,000 ids per author) but for a counter's cap, which
// ModelWith checks when told it: their other caps are checked elsewhere.

// EnvModelSeeds sets how many seeds the model test runs per store (2 when
// unset); EnvModelSeed the first of them (a seed printed by a failure);
// EnvModelSteps the steps of each history (one history's length for the
// store: longer in memory than over the network).
const (
	EnvModelSeeds = "VIGIE_MODEL_SEEDS"
	EnvModelSeed  = "VIGIE_MODEL_SEED"
	EnvModelSteps = "VIGIE_MODEL_STEPS"
)

// modelRuns counts the model tests of this process: with go test -count=N,
// each run takes new seeds.
var modelRuns atomic.Uint64

func testModel(t *testing.T, newStore func(*testing.T) store.Store) {
	seeds := envInt(t, EnvModelSeeds, 2)
	first := uint64(envInt(t, EnvModelSeed, 0))
	if os.Getenv(EnvModelSeed) == "" {
		first = 1 + (modelRuns.Add(1)-1)*uint64(seeds)
	}
	for i := range seeds {
		seed := first + uint64(i)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			st := newStore(t)
			steps := 2_000
			if store.IsLocal(st) {
				steps = 20_000
			}
			steps = envInt(t, EnvModelSteps, steps)
			Model(t, st, seed, steps)
		})
	}
}

func envInt(t testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, v)
	}
	return n
}

// modelCounter is a counter of the history: its name, window and key.
type modelCounter struct {
	name   string
	window time.Duration
	// key is the counter's key for an event; parts are the key's parts,
	// for its sum (nil: the counter has no sum, the store reads Name and
	// Key).
	key      func(e *modelEvent) (key string, parts []store.KeySum)
	byAuthor bool
}

// modelEvent is what a counter's key is made of.
type modelEvent struct {
	platform, space, author, channel string
	text                             uint64
}

// The history's counters: several windows, one key under several of them
// (the author's), keys of the author glued to more, of the space and of a
// channel, with and without a sum.
var modelCounters = []modelCounter{
	{name: "burst", window: time.Second, byAuthor: true, key: authorKey},
	{name: "rate", window: 1500 * time.Millisecond, byAuthor: true, key: authorKey},
	{name: "msgs", window: 10 * time.Second, byAuthor: true, key: authorKey},
	{name: "slow", window: 90 * time.Second, byAuthor: true, key: authorKey},
	{name: "links", window: time.Hour, byAuthor: true, key: authorKey},
	{name: "day", window: 24 * time.Hour, key: func(e *modelEvent) (string, []store.KeySum) { return e.author, nil }},
	{name: "same_text", window: 10 * time.Minute, byAuthor: true, key: func(e *modelEvent) (string, []store.KeySum) {
		return e.author + "|" + strconv.FormatUint(e.text, 16), []store.KeySum{store.SumText(e.author), store.SumNumber(e.text)}
	}},
	{name: "raid", window: time.Minute, key: func(e *modelEvent) (string, []store.KeySum) {
		return e.space, []store.KeySum{store.SumText(e.space)}
	}},
	{name: "channel", window: 5 * time.Minute, key: func(e *modelEvent) (string, []store.KeySum) { return e.channel, nil }},
	{name: "seven", window: 7 * time.Second, key: func(e *modelEvent) (string, []store.KeySum) {
		return e.channel + "|" + e.author, []store.KeySum{store.SumText(e.channel), store.SumText(e.author)}
	}},
}

func authorKey(e *modelEvent) (string, []store.KeySum) {
	return e.author, []store.KeySum{store.SumText(e.author)}
}

// modelStrike is a strike as the model keeps it, in milliseconds.
type modelStrike struct{ at, exp int64 }

// modelSeen is an id as the model remembers it.
type modelSeen struct {
	platform, space, author string
	at, seen, ttl           int64
	// what the event asked the first time, which its retries ask again
	counters     []store.CounterOp
	strikeWindow time.Duration
}

// modelState is the plain model: every event of every counter, every id,
// every strike.
type modelState struct {
	counts map[string][]int64 // counter's key → times, ascending
	// floor is, for each counter, the time at or before which a store may
	// have dropped its events: those out of the window of an event that
	// read or counted it, and all of them once they were out of the
	// window of the events' clock (a sweep may have dropped the counter).
	floor map[string]int64
	// counted names, for each counter, the events with an id it counted
	// (id and time), and again the times of those counted twice: an id
	// forgotten (its DedupeTTL ran out) and seen again at the same time
	// counts again in a store that keeps times (memory), not in one that
	// names its entries by id and time (Redis).
	counted map[string]map[string]bool
	again   map[string][]int64
	seen    map[string]*modelSeen
	ids     []string // the ids seen, for retries
	strikes map[string][]modelStrike
	// clock is the events' clock: the latest time the store was given.
	clock int64
	// maxPerKey is the store's cap on a counter's events, 0 for none.
	maxPerKey int64
	// what the history went through, for the log
	dups, late, maxCount, reads, loose, strikesRead int64
}

func counterID(name, platform, space, key string) string {
	return name + "\x00" + platform + "\x00" + space + "\x00" + key
}

func authorID(platform, space, author string) string {
	return platform + "\x00" + space + "\x00" + author
}

// Model runs a history of steps observations and strikes, drawn from seed,
// on st and on the model, and fails t at the first answer the model does
// not allow, with the seed and the step. st must be empty. It returns the
// events' clock at the end of the history.
func Model(t testing.TB, st store.Store, seed uint64, steps int) time.Time {
	t.Helper()
	return ModelWith(t, st, seed, steps, ModelOptions{})
}

// ModelOptions tells Model what a store was set up with.
type ModelOptions struct {
	// MaxPerKey is the store's cap on one counter's events (memory's and
	// Redis's WithMaxPerKey); 0 when the history stays within it (the
	// default cap, 10,000).
	MaxPerKey int
}

// ModelWith is Model on a store set up as opts says.
func ModelWith(t testing.TB, st store.Store, seed uint64, steps int, opts ModelOptions) time.Time {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	m := &modelState{maxPerKey: int64(opts.MaxPerKey), counts: map[string][]int64{}, floor: map[string]int64{}, counted: map[string]map[string]bool{}, again: map[string][]int64{}, seen: map[string]*modelSeen{}, strikes: map[string][]modelStrike{}}
	fail := func(step int, what string, args ...any) {
		t.Helper()
		t.Fatalf("model seed=%d steps=%d: step %d: %s", seed, steps, step, fmt.Sprintf(what, args...))
	}
	// The history's people and places: a few busy authors among many
	// (thousands for a long history: the stores' tables grow while it
	// counts), a few spaces and channels.
	authors := max(steps/8, 50)
	platforms := []string{"discord", "telegram"}
	dedupeTTL := []time.Duration{0, 10 * time.Minute, time.Hour}[rng.IntN(3)]
	ttl := dedupeTTL
	if ttl == 0 {
		ttl = store.DefaultDedupeTTL
	}
	clock := t0.UnixMilli()
	nextID := 0
	// A burst is a flood: one author, events a few milliseconds apart.
	burst, burstAuthor := 0, ""
	for step := range steps {
		// The clock moves by irregular steps: mostly within a second,
		// sometimes minutes or an hour, now and then idle for longer than
		// every window, the dedupe TTL and the sweeps' period.
		switch r := rng.IntN(1000); {
		case burst > 0:
			burst--
			clock += rng.Int64N(200)
		case r < 10:
			burst, burstAuthor = 20+rng.IntN(300), "u"+strconv.Itoa(rng.IntN(authors))
		case r < 700:
			clock += rng.Int64N(300)
		case r < 900:
			clock += rng.Int64N(5_000)
		case r < 980:
			clock += rng.Int64N(2 * 60_000)
		case r < 998:
			clock += rng.Int64N(3_600_000)
		default:
			clock += 25*3_600_000 + rng.Int64N(55*3_600_000)
		}
		// When the event is judged: its own time, bounded as the engine
		// bounds it (at most a minute ahead of the clock, 72 hours behind).
		at := clock
		switch r := rng.IntN(100); {
		case r < 85:
			at += rng.Int64N(41) - 20 // two workers read the clock in one order, reach the store in the other
		case r < 90:
			at += rng.Int64N(60_001)
		case r < 97:
			at -= rng.Int64N(10 * 60_000)
		case r < 98:
			at -= rng.Int64N(72 * 3_600_000)
		default:
			at -= 72 * 3_600_000 // older: judged as if 72 hours old
		}
		platform := platforms[rng.IntN(len(platforms))]
		space := "g" + strconv.Itoa(rng.IntN(3))
		author := "u" + strconv.Itoa(rng.IntN(authors))
		switch r := rng.IntN(10); {
		case burst > 0 && r < 8:
			author = burstAuthor
		case r < 4:
			author = "u" + strconv.Itoa(rng.IntN(5)) // the busy ones
		}
		ev := modelEvent{platform: platform, space: space, author: author,
			channel: "c" + strconv.Itoa(rng.IntN(5)), text: uint64(rng.IntN(4))}
		o := store.Observation{At: time.UnixMilli(at).UTC(), Platform: platform, Space: space, Author: author}
		kind := rng.IntN(100)
		retry := false
		switch {
		case kind < 4:
			// A strike, given at the event's time.
			if len(m.strikes[authorID(platform, space, author)]) >= 90 {
				continue // within the cap of 100
			}
			sttl := []time.Duration{0, time.Hour, 24 * time.Hour}[rng.IntN(3)]
			if err := st.AddStrike(ctx, store.Strike{Platform: platform, Space: space, Author: author,
				At: o.At, Rule: "r" + strconv.Itoa(rng.IntN(3)), TTL: sttl}); err != nil {
				fail(step, "AddStrike: %v", err)
			}
			m.addStrike(authorID(platform, space, author), at, sttl)
			m.clock = max(m.clock, at)
			continue
		case kind < 12 && len(m.ids) > 0:
			// A retry of an event seen before: its id, author and place,
			// its own time unless the engine moves it (72 hours behind the
			// clock at most); seen now.
			id := m.ids[rng.IntN(len(m.ids))]
			if recent := min(len(m.ids), 200); rng.IntN(4) != 0 {
				id = m.ids[len(m.ids)-1-rng.IntN(recent)]
			}
			s := m.seen[id]
			o.Platform, o.Space, o.Author = s.platform, s.space, s.author
			ev.platform, ev.space, ev.author = s.platform, s.space, s.author
			o.At = time.UnixMilli(max(s.at, clock-72*3_600_000)).UTC()
			o.EventID = strings.TrimPrefix(id, s.platform+"\x00")
			o.Counters, o.StrikeWindow = slices.Clone(s.counters), s.strikeWindow
			o.DedupeTTL, o.SeenAt = dedupeTTL, time.UnixMilli(clock).UTC()
			retry = true
		case kind < 75:
			nextID++
			o.EventID = "e-" + strconv.Itoa(nextID)
		}
		// Counters without an id nor strikes take another way in a store
		// (Redis: plain commands, no script).
		if retry {
			// the same event: the same counters and strikes asked
		} else if o.EventID != "" || rng.IntN(4) == 0 {
			o.StrikeWindow = []time.Duration{0, time.Hour, 24 * time.Hour, 30 * 24 * time.Hour}[rng.IntN(4)]
		}
		if o.EventID != "" && !retry {
			o.DedupeTTL = dedupeTTL
			o.SeenAt = time.UnixMilli(clock).UTC()
		}
		// The event's counters: most of them, some only read (their when:
		// was false), and now and then one no event was ever counted in.
		onlyRead := rng.IntN(10) == 0
		for _, c := range modelCounters {
			if retry || rng.IntN(10) < 3 {
				continue
			}
			key, parts := c.key(&ev)
			op := store.CounterOp{Name: c.name, Key: key, Window: c.window, Incr: !onlyRead && rng.IntN(5) != 0}
			if parts != nil {
				op.Sum = store.SumName(c.name)
				for _, p := range parts {
					op.Sum = op.Sum.Then(p)
				}
				op.ByAuthor = c.byAuthor
			}
			o.Counters = append(o.Counters, op)
		}
		if !retry && rng.IntN(10) == 0 {
			o.Counters = append(o.Counters, store.CounterOp{Name: "ghost", Key: "nobody-" + strconv.Itoa(rng.IntN(1000)), Window: time.Minute})
		}
		if !retry && rng.IntN(20) == 0 {
			o.Counters = nil
		}
		rng.Shuffle(len(o.Counters), func(i, j int) { o.Counters[i], o.Counters[j] = o.Counters[j], o.Counters[i] })

		res, err := st.Observe(ctx, o)
		if err != nil {
			fail(step, "Observe %s: %v", describe(o), err)
		}
		if msg := m.observe(o, res, ttl); msg != "" {
			fail(step, "%s: %s", describe(o), msg)
		}
		if step%1024 == 0 {
			m.forget(clock)
		}
	}
	t.Logf("model seed=%d: %d steps over %s of the events' clock: %d counts read (the largest %d; %d of them where a store may have forgotten some), %d observations behind the clock, %d duplicates, %d strikes read",
		seed, steps, time.Duration(m.clock-t0.UnixMilli())*time.Millisecond, m.reads, m.maxCount, m.loose, m.late, m.dups, m.strikesRead)
	return time.UnixMilli(m.clock).UTC()
}

// observe checks a store's answer to o and takes it into the model; it
// returns what is wrong with the answer, "" when nothing is.
func (m *modelState) observe(o store.Observation, res store.Result, ttl time.Duration) string {
	at := o.At.UnixMilli()
	clock := m.clock // the events' clock before this event
	m.clock = max(m.clock, at)
	late := at < clock
	if late {
		m.late++
	}
	if o.EventID != "" {
		seen := at
		if !o.SeenAt.IsZero() {
			seen = o.SeenAt.UnixMilli()
		}
		id := o.Platform + "\x00" + o.EventID
		s := m.seen[id]
		dup := s != nil && s.seen+s.ttl > seen
		// An id whose memory ran out on the events' clock may be
		// forgotten early by a store that sweeps on it.
		fuzzy := dup && s.seen+s.ttl <= max(clock, at)
		switch {
		case res.Duplicate && !dup:
			return "a duplicate, but the id was never seen or seen longer than its TTL ago"
		case !res.Duplicate && dup && !fuzzy:
			return fmt.Sprintf("not a duplicate, but the id was seen %s before, within its TTL of %s",
				time.Duration(seen-s.seen)*time.Millisecond, time.Duration(s.ttl)*time.Millisecond)
		}
		if res.Duplicate {
			m.dups++
			return ""
		}
		if s == nil {
			m.ids = append(m.ids, id)
			s = &modelSeen{platform: o.Platform, space: o.Space, author: o.Author, at: at,
				counters: slices.Clone(o.Counters), strikeWindow: o.StrikeWindow}
			m.seen[id] = s
		}
		s.seen, s.ttl = seen, ttl.Milliseconds()
	} else if res.Duplicate {
		return "a duplicate without an id"
	}
	if len(res.Counts) != len(o.Counters) {
		return fmt.Sprintf("%d counts for %d counters", len(res.Counts), len(o.Counters))
	}
	for i, op := range o.Counters {
		k := counterID(op.Name, o.Platform, o.Space, op.Key)
		times := m.counts[k]
		w := op.Window.Milliseconds()
		exact := int64(len(times) - upper(times, at-w))
		floor, ok := m.floor[k]
		if !ok {
			floor = math.MinInt64
		}
		if n := len(times); n > 0 && times[n-1]+w <= max(clock, at) {
			floor = max(floor, times[n-1])
		}
		cut := max(floor, at-w)
		again := m.again[k]
		least := int64(len(times) - upper(times, cut) - (len(again) - upper(again, cut)))
		m.floor[k] = cut
		if op.Incr {
			exact++
			m.counts[k] = slices.Insert(times, upper(times, at), at)
			member := o.EventID + "@" + strconv.FormatInt(at, 10)
			switch {
			case o.EventID == "":
				least++
			case m.counted[k][member]:
				m.again[k] = slices.Insert(again, upper(again, at), at)
			default:
				least++
				if m.counted[k] == nil {
					m.counted[k] = map[string]bool{}
				}
				m.counted[k][member] = true
			}
		}
		inOrder := least == exact
		if !inOrder {
			m.loose++
		}
		if m.maxPerKey > 0 {
			// A counter keeps its newest events up to the cap: it
			// saturates there. One only read may count more of those
			// older than the newest's window (Redis cuts a counter down to
			// the cap only when it counts past it in an event's window).
			least = min(least, m.maxPerKey)
			if op.Incr || inOrder {
				exact = min(exact, m.maxPerKey)
			}
		}
		got := res.Counts[i]
		m.reads++
		m.maxCount = max(m.maxCount, got)
		switch {
		case inOrder && got != exact:
			return fmt.Sprintf("counter %s %q (window %s, incr %v): count %d, want %d%s", op.Name, op.Key, op.Window, op.Incr, got, exact, history(times, at))
		case got < least || got > exact:
			return fmt.Sprintf("counter %s %q (window %s, incr %v), %s behind the events' clock: count %d, want %d to %d%s",
				op.Name, op.Key, op.Window, op.Incr, time.Duration(clock-at)*time.Millisecond, got, least, exact, history(times, at))
		}
	}
	if o.StrikeWindow <= 0 {
		if len(res.Strikes) != 0 {
			return fmt.Sprintf("strikes %v, none asked", res.Strikes)
		}
		return ""
	}
	from := at - o.StrikeWindow.Milliseconds()
	var all, kept []int64
	for _, s := range m.strikes[authorID(o.Platform, o.Space, o.Author)] {
		if s.at > from && s.at <= at && s.exp > at {
			all = append(all, s.at)
			if s.exp > clock {
				kept = append(kept, s.at)
			}
		}
	}
	m.strikesRead += int64(len(res.Strikes))
	got := make([]int64, len(res.Strikes))
	for i, s := range res.Strikes {
		got[i] = s.UnixMilli()
	}
	if !slices.IsSorted(got) || !late && !slices.Equal(got, all) || late && !(subset(kept, got) && subset(got, all)) {
		return fmt.Sprintf("strikes in %s: %v, want %v (at least %v)", o.StrikeWindow, got, all, kept)
	}
	return ""
}

// addStrike keeps a strike, by time.
func (m *modelState) addStrike(author string, at int64, ttl time.Duration) {
	if ttl <= 0 {
		ttl = store.DefaultStrikeTTL
	}
	list := m.strikes[author]
	i := upper(modelStrikeTimes(list), at)
	m.strikes[author] = slices.Insert(list, i, modelStrike{at: at, exp: at + ttl.Milliseconds()})
}

func modelStrikeTimes(list []modelStrike) []int64 {
	out := make([]int64, len(list))
	for i, s := range list {
		out[i] = s.at
	}
	return out
}

// forget drops what no event can read any more: an event is judged 72
// hours behind the clock at most, and reads 24 hours back at most.
func (m *modelState) forget(clock int64) {
	horizon := clock - 97*3_600_000
	for k, times := range m.counts {
		if n := upper(times, horizon); n == len(times) {
			delete(m.counts, k)
			delete(m.floor, k)
			delete(m.counted, k)
			delete(m.again, k)
		} else if n > 0 {
			m.counts[k] = slices.Delete(times, 0, n)
			if again := m.again[k]; len(again) > 0 {
				m.again[k] = slices.Delete(again, 0, upper(again, horizon))
			}
		}
	}
	for k, list := range m.strikes {
		list = slices.DeleteFunc(list, func(s modelStrike) bool { return s.exp <= horizon })
		if len(list) == 0 {
			delete(m.strikes, k)
		} else {
			m.strikes[k] = list
		}
	}
}

// upper is how many of the ascending times are at or before t.
func upper(times []int64, t int64) int {
	i, found := slices.BinarySearch(times, t+1)
	_ = found
	return i
}

// subset reports whether every time of a (ascending) is in b (ascending),
// as many times.
func subset(a, b []int64) bool {
	j := 0
	for _, x := range a {
		for j < len(b) && b[j] < x {
			j++
		}
		if j == len(b) || b[j] != x {
			return false
		}
		j++
	}
	return true
}

func describe(o store.Observation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "observation at %s of %s/%s/%s", o.At.Format("2006-01-02T15:04:05.000"), o.Platform, o.Space, o.Author)
	if o.EventID != "" {
		fmt.Fprintf(&b, ", id %s seen %s", o.EventID, o.SeenAt.Format("2006-01-02T15:04:05.000"))
	}
	if o.StrikeWindow > 0 {
		fmt.Fprintf(&b, ", strikes in %s", o.StrikeWindow)
	}
	return b.String()
}

// history describes a counter's events before at, the latest ten, for a
// failure's message.
func history(times []int64, at int64) string {
	var b strings.Builder
	b.WriteString("; its events before, from the event:")
	for _, x := range times[max(len(times)-10, 0):] {
		fmt.Fprintf(&b, " %+dms", x-at)
	}
	return b.String()
}
