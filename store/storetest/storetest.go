// Package storetest is the contract every store.Store passes: the memory store
// and the Redis store run the same suite, so the engine cannot tell them apart.
package storetest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// T0 is the suite's epoch: the events' clock, not the wall clock.
var t0 = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

// Run runs the contract suite. newStore is called once per subtest and must
// return an empty store; closing it is newStore's business (t.Cleanup).
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	t.Run("SlidingWindow", func(t *testing.T) { testSlidingWindow(t, newStore) })
	t.Run("ReadOnly", func(t *testing.T) { testReadOnly(t, newStore) })
	t.Run("Independent", func(t *testing.T) { testIndependent(t, newStore) })
	t.Run("ClocksApart", func(t *testing.T) { testClocksApart(t, newStore) })
	t.Run("Dedupe", func(t *testing.T) { testDedupe(t, newStore) })
	t.Run("SeenPending", func(t *testing.T) { testSeenPending(t, newStore) })
	t.Run("Strikes", func(t *testing.T) { testStrikes(t, newStore) })
	t.Run("Audit", func(t *testing.T) { testAudit(t, newStore) })
	t.Run("Cases", func(t *testing.T) { testCases(t, newStore) })
	t.Run("CaseOrigin", func(t *testing.T) { testCaseOrigin(t, newStore) })
	t.Run("CaseOriginCarried", func(t *testing.T) { testCaseOriginCarried(t, newStore) })
	t.Run("CaseGroups", func(t *testing.T) { testCaseGroups(t, newStore) })
	t.Run("CaseCards", func(t *testing.T) { testCaseCards(t, newStore) })
	t.Run("CaseAmended", func(t *testing.T) { testCaseAmended(t, newStore) })
	t.Run("CaseEdited", func(t *testing.T) { testCaseEdited(t, newStore) })
	t.Run("DecisionCarried", func(t *testing.T) { testDecisionCarried(t, newStore) })
	t.Run("CarryClaims", func(t *testing.T) { testCarryClaims(t, newStore) })
	t.Run("Pending", func(t *testing.T) { testPending(t, newStore) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newStore) })
	t.Run("Journal", func(t *testing.T) { testJournal(t, newStore) })
	t.Run("JournalTakenOnce", func(t *testing.T) { testJournalTakenOnce(t, newStore) })
	t.Run("Accounts", func(t *testing.T) { testAccounts(t, newStore) })
	t.Run("LoginLimits", func(t *testing.T) { testLoginLimits(t, newStore) })
	t.Run("LoginTry", func(t *testing.T) { testLoginTry(t, newStore) })
	t.Run("StrikesLifted", func(t *testing.T) { testStrikesLifted(t, newStore) })
	t.Run("EventHistory", func(t *testing.T) { testEventHistory(t, newStore) })
	t.Run("FAQWordings", func(t *testing.T) { testFAQWordings(t, newStore) })
	t.Run("Notes", func(t *testing.T) { testNotes(t, newStore) })
	t.Run("TopicNames", func(t *testing.T) { testTopicNames(t, newStore) })
	t.Run("Locks", func(t *testing.T) { testLocks(t, newStore) })
	t.Run("TimedBans", func(t *testing.T) { testTimedBans(t, newStore) })
	t.Run("DropBans", func(t *testing.T) { testDropBans(t, newStore) })
	t.Run("RemoveKeptBan", func(t *testing.T) { testRemoveKeptBan(t, newStore) })
	t.Run("BansThePlatformEnds", func(t *testing.T) { testBansThePlatformEnds(t, newStore) })
	t.Run("BansOn", func(t *testing.T) { testBansOn(t, newStore) })
	t.Run("MemberLock", func(t *testing.T) { testMemberLock(t, newStore) })
	t.Run("Verifications", func(t *testing.T) { testVerifications(t, newStore) })
	t.Run("Leases", func(t *testing.T) { testLeases(t, newStore) })
	t.Run("LeasesConcurrent", func(t *testing.T) { testLeasesConcurrent(t, newStore) })
	t.Run("CauseCards", func(t *testing.T) { testCauseCards(t, newStore) })
	t.Run("CauseCardsConcurrent", func(t *testing.T) { testCauseCardsConcurrent(t, newStore) })
	t.Run("Calls", func(t *testing.T) { testCalls(t, newStore) })
	t.Run("MessageCases", func(t *testing.T) { testMessageCases(t, newStore) })
	t.Run("CallsWithCases", func(t *testing.T) { testCallsWithCases(t, newStore) })
	t.Run("Told", func(t *testing.T) { testTold(t, newStore) })
	t.Run("DeskMissed", func(t *testing.T) { testDeskMissed(t, newStore) })
	t.Run("Model", func(t *testing.T) { testModel(t, newStore) })
}

// obs builds an observation of one event by author u-1 in guild-1 on discord.
func obs(id string, at time.Duration, ops ...store.CounterOp) store.Observation {
	return store.Observation{
		At: t0.Add(at), Platform: "discord", Space: "guild-1", Author: "u-1",
		EventID: id, Counters: ops,
	}
}

func incr(name, key string, window time.Duration) store.CounterOp {
	return store.CounterOp{Name: name, Key: key, Window: window, Incr: true}
}

func read(name, key string, window time.Duration) store.CounterOp {
	return store.CounterOp{Name: name, Key: key, Window: window}
}

// step is one Observe and the result it must give.
type step struct {
	o    store.Observation
	want []int64
	dup  bool
}

func runSteps(t *testing.T, st store.Store, steps []step) {
	t.Helper()
	for i, s := range steps {
		res, err := st.Observe(context.Background(), s.o)
		if err != nil {
			t.Fatalf("step %d (%s at %s): %v", i, s.o.EventID, s.o.At.Sub(t0), err)
		}
		if res.Duplicate != s.dup {
			t.Errorf("step %d (%s at %s): duplicate = %v, want %v", i, s.o.EventID, s.o.At.Sub(t0), res.Duplicate, s.dup)
		}
		if s.dup {
			continue
		}
		if !slices.Equal(res.Counts, s.want) {
			t.Errorf("step %d (%s at %s): counts = %v, want %v", i, s.o.EventID, s.o.At.Sub(t0), res.Counts, s.want)
		}
	}
}

func testSlidingWindow(t *testing.T, newStore func(*testing.T) store.Store) {
	const w = 10 * time.Second
	tests := []struct {
		name  string
		steps []step
	}{
		{"slides, does not reset", []step{
			{o: obs("a", 0, incr("msgs", "u-1", w)), want: []int64{1}},
			{o: obs("b", 5*time.Second, incr("msgs", "u-1", w)), want: []int64{2}},
			{o: obs("c", 11*time.Second, incr("msgs", "u-1", w)), want: []int64{2}},
			{o: obs("d", 14*time.Second, incr("msgs", "u-1", w)), want: []int64{3}},
			{o: obs("e", 30*time.Second, incr("msgs", "u-1", w)), want: []int64{1}},
		}},
		{"window is newer than at-w", []step{
			{o: obs("a", 0, incr("msgs", "u-1", w)), want: []int64{1}},
			{o: obs("b", 10*time.Second, incr("msgs", "u-1", w)), want: []int64{1}},
			{o: obs("c", 10*time.Second+time.Millisecond, incr("msgs", "u-1", w)), want: []int64{2}},
			{o: obs("d", 20*time.Second, incr("msgs", "u-1", w)), want: []int64{2}},
		}},
		// Live, two events of one author evaluated at once may reach the
		// store in the other order than they read the clock: the
		// later-stamped one must still count for the other, or a burst of
		// three never reaches 3.
		{"counts events stamped after the one asking", []step{
			{o: obs("m1", 0, incr("msgs", "u-1", time.Hour)), want: []int64{1}},
			{o: obs("m3", 2*time.Millisecond, incr("msgs", "u-1", time.Hour)), want: []int64{2}},
			{o: obs("m2", time.Millisecond, incr("msgs", "u-1", time.Hour)), want: []int64{3}}, // stamped before m3, stored after it
			{o: obs("r", time.Millisecond, read("msgs", "u-1", time.Hour)), want: []int64{3}},
			{o: obs("m4", time.Hour+time.Millisecond, incr("msgs", "u-1", time.Hour)), want: []int64{2}}, // m1 and m2 have left
		}},
		{"same instant counts twice", []step{
			{o: obs("a", 0, incr("msgs", "u-1", w)), want: []int64{1}},
			{o: obs("b", 0, incr("msgs", "u-1", w)), want: []int64{2}},
		}},
		{"no id still counts", []step{
			{o: obs("", 0, incr("msgs", "u-1", w)), want: []int64{1}},
			{o: obs("", time.Second, incr("msgs", "u-1", w)), want: []int64{2}},
		}},
		// A store may count an event without an id otherwise than one
		// with (Redis: plain commands, not a script): the counts are the
		// same, on one counter, as the window slides.
		{"with and without ids, sliding", []step{
			{o: obs("", 0, incr("msgs", "u-1", w), read("raid", "guild-1", w)), want: []int64{1, 0}},
			{o: obs("a", 4*time.Second, incr("msgs", "u-1", w), incr("raid", "guild-1", w)), want: []int64{2, 1}},
			{o: obs("", 4*time.Second, incr("msgs", "u-1", w), incr("raid", "guild-1", w)), want: []int64{3, 2}},
			{o: obs("", 10*time.Second, incr("msgs", "u-1", w)), want: []int64{3}},
			{o: obs("b", 15*time.Second, incr("msgs", "u-1", w), read("raid", "guild-1", w)), want: []int64{2, 0}},
			{o: obs("", 15*time.Second+time.Millisecond, read("msgs", "u-1", w)), want: []int64{2}},
			{o: obs("", 40*time.Second, incr("msgs", "u-1", w), incr("raid", "guild-1", w)), want: []int64{1, 1}},
			// Counters only read, some there and some not, then none there.
			{o: obs("c", 41*time.Second, read("raid", "guild-1", w), read("none", "u-1", w)), want: []int64{1, 0}},
			{o: obs("d", 42*time.Second, incr("msgs", "u-1", w), read("none", "u-1", w), read("none2", "guild-1", w)), want: []int64{2, 0, 0}},
		}},
		{"two windows on one event", []step{
			{o: obs("a", 0, incr("short", "u-1", w), incr("long", "u-1", time.Hour)), want: []int64{1, 1}},
			{o: obs("b", 30*time.Second, incr("short", "u-1", w), incr("long", "u-1", time.Hour)), want: []int64{1, 2}},
			{o: obs("c", 35*time.Second, incr("short", "u-1", w), incr("long", "u-1", time.Hour)), want: []int64{2, 3}},
		}},
		{"a day-long window", []step{
			{o: obs("a", 0, incr("links", "u-1", 24*time.Hour)), want: []int64{1}},
			{o: obs("b", 23*time.Hour, incr("links", "u-1", 24*time.Hour)), want: []int64{2}},
			{o: obs("c", 25*time.Hour, incr("links", "u-1", 24*time.Hour)), want: []int64{2}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, newStore(t), tt.steps) })
	}
}

func testReadOnly(t *testing.T, newStore func(*testing.T) store.Store) {
	const w = time.Minute
	runSteps(t, newStore(t), []step{
		{o: obs("a", 0, read("links", "u-1", w)), want: []int64{0}},
		{o: obs("b", time.Second, incr("links", "u-1", w)), want: []int64{1}},
		{o: obs("c", 2*time.Second, read("links", "u-1", w)), want: []int64{1}},
		{o: obs("d", 3*time.Second, read("links", "u-1", w)), want: []int64{1}},
		{o: obs("e", 4*time.Second, incr("links", "u-1", w)), want: []int64{2}},
		{o: obs("f", 2*time.Minute, read("links", "u-1", w)), want: []int64{0}},
	})
	// Without an event id or strikes, an observation that only reads gets the
	// same counts (a store may answer it a shorter way): keyed by the author
	// or not, events stamped after it included.
	runSteps(t, newStore(t), []step{
		{o: obs("a", 0, incr("links", "u-1", w), incr("raid", "guild-1", w)), want: []int64{1, 1}},
		{o: obs("", time.Second, read("links", "u-1", w), read("raid", "guild-1", w), read("links", "u-2", w)), want: []int64{1, 1, 0}},
		{o: obs("b", 2*time.Second, incr("links", "u-1", w)), want: []int64{2}},
		{o: obs("", time.Second, read("links", "u-1", w)), want: []int64{2}},
		{o: obs("", 2*time.Minute, read("links", "u-1", w), read("raid", "guild-1", w)), want: []int64{0, 0}},
	})
}

func testIndependent(t *testing.T, newStore func(*testing.T) store.Store) {
	const w = time.Minute
	base := obs("", 0, incr("msgs", "u-1", w))
	with := func(id string, f func(*store.Observation)) store.Observation {
		o := base
		o.EventID = id
		o.Counters = slices.Clone(base.Counters)
		f(&o)
		return o
	}
	tests := []struct {
		name  string
		other store.Observation
	}{
		{"key", with("b", func(o *store.Observation) { o.Counters[0].Key = "u-2"; o.Author = "u-2" })},
		{"name", with("b", func(o *store.Observation) { o.Counters[0].Name = "links" })},
		{"space", with("b", func(o *store.Observation) { o.Space = "guild-2" })},
		{"platform", with("b", func(o *store.Observation) { o.Platform = "telegram" })},
		{"window does not split a name", with("b", func(o *store.Observation) { o.Counters[0].Window = 2 * w })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			same := tt.name == "window does not split a name"
			want := int64(1)
			if same {
				want = 2
			}
			runSteps(t, newStore(t), []step{
				{o: with("a", func(*store.Observation) {}), want: []int64{1}},
				{o: tt.other, want: []int64{want}},
				{o: with("c", func(o *store.Observation) { o.At = o.At.Add(time.Second) }), want: []int64{want + 1}},
			})
		})
	}
}

// testClocksApart: events of two sources come on clocks apart, a second (a
// connector's dates in whole seconds beside a relay's), or an hour (a backlog
// beside live events). An author's counter on the later clock counts what its
// window holds, whatever the events of the other source, ahead, came to the
// store meanwhile: the counts are those of the author's events alone.
func testClocksApart(t *testing.T, newStore func(*testing.T) store.Store) {
	const w = 10 * time.Second
	// ahead are events of many authors of the other source at, so that
	// every part of a store holding its keys apart sees one.
	ahead := func(at time.Duration) []step {
		var out []step
		for i := range 64 {
			o := obs("", at, incr("msgs", fmt.Sprintf("v-%d", i), w))
			o.Author, o.Space = fmt.Sprintf("v-%d", i), "guild-2"
			out = append(out, step{o: o, want: []int64{1}})
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		steps []step
	}{
		{"a second apart", slices.Concat(
			[]step{{o: obs("", 0, incr("msgs", "u-1", w)), want: []int64{1}},
				{o: obs("", 51*time.Second, incr("msgs", "u-1", w)), want: []int64{1}}},
			ahead(61500*time.Millisecond),
			[]step{{o: obs("", 60500*time.Millisecond, incr("msgs", "u-1", w)), want: []int64{2}}})},
		{"a backlog an hour behind", slices.Concat(
			[]step{{o: obs("", 0, incr("msgs", "u-1", w)), want: []int64{1}},
				{o: obs("", 3*time.Second, incr("msgs", "u-1", w)), want: []int64{2}}},
			ahead(time.Hour),
			[]step{{o: obs("", 6*time.Second, incr("msgs", "u-1", w)), want: []int64{3}}},
			ahead(time.Hour+90*time.Second),
			[]step{{o: obs("", 9*time.Second, incr("msgs", "u-1", w)), want: []int64{4}}})},
	} {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, newStore(t), tt.steps) })
	}
}

func testDedupe(t *testing.T, newStore func(*testing.T) store.Store) {
	const w = time.Hour
	c := incr("msgs", "u-1", w)
	other := func(id string, at time.Duration, platform string) store.Observation {
		o := obs(id, at, c)
		o.Platform = platform
		return o
	}
	ttl := func(o store.Observation, d time.Duration) store.Observation {
		o.DedupeTTL = d
		return o
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"retry is a duplicate and counts nothing", []step{
			{o: obs("m-1", 0, c), want: []int64{1}},
			{o: obs("m-1", time.Second, c), dup: true},
			{o: obs("m-1", 0, c), dup: true},
			{o: obs("m-2", 2*time.Second, c), want: []int64{2}},
		}},
		{"same id on another platform is another event", []step{
			{o: obs("m-1", 0, c), want: []int64{1}},
			{o: other("m-1", time.Second, "telegram"), want: []int64{1}},
			{o: other("m-1", 2*time.Second, "telegram"), dup: true},
		}},
		{"remembered for DedupeTTL", []step{
			{o: ttl(obs("m-1", 0, c), time.Minute), want: []int64{1}},
			{o: ttl(obs("m-1", 59*time.Second, c), time.Minute), dup: true},
			{o: ttl(obs("m-1", 61*time.Second, c), time.Minute), want: []int64{2}},
		}},
		{"zero TTL means a day", []step{
			{o: obs("m-1", 0, c), want: []int64{1}},
			{o: obs("m-1", 23*time.Hour, c), dup: true},
		}},
		{"duplicate without counters", []step{
			{o: obs("m-1", 0), want: nil},
			{o: obs("m-1", 0), dup: true},
		}},
		// an event dated long ago is judged at the oldest time the engine
		// takes (At), its id remembered from when it was seen (SeenAt)
		{"remembered for DedupeTTL from SeenAt", []step{
			{o: seenAt(ttl(obs("m-1", -time.Hour, c), time.Minute), 0), want: []int64{1}},
			{o: seenAt(ttl(obs("m-1", 59*time.Second-time.Hour, c), time.Minute), 59*time.Second), dup: true},
			{o: seenAt(ttl(obs("m-1", 61*time.Second-time.Hour, c), time.Minute), 61*time.Second), want: []int64{2}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { runSteps(t, newStore(t), tt.steps) })
	}
	// The author's later events, on the clock of the day, must not make the
	// store forget the old event's id: the memory store sweeps its shards and
	// the Redis store prunes the author's ids on the events' clock.
	t.Run("old event among live ones", func(t *testing.T) {
		const age = 72 * time.Hour
		steps := []step{{o: seenAt(obs("old", -age, c), 0), want: []int64{1}}}
		for i := range 1000 {
			at := time.Duration(i+1) * time.Millisecond
			steps = append(steps, step{o: seenAt(obs(fmt.Sprintf("live-%d", i), at, c), at), want: []int64{int64(i + 1)}})
		}
		// the old event again, five minutes later: judged at the oldest time
		// again, which has moved on by five minutes
		steps = append(steps, step{o: seenAt(obs("old", 5*time.Minute-age, c), 5*time.Minute), dup: true})
		runSteps(t, newStore(t), steps)
	})
}

// seenAt has o seen at t0+d.
// testSeenPending: an id marked pending (Observation.Pending) is a
// duplicate while its judge may still be at work, within Pending of the
// mark or of its renewal; later, never settled, it is Again, counted once;
// settled (Settle, or a journal entry's Settle), it is a duplicate for good.
func testSeenPending(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	const hold = 10 * time.Second
	c := incr("msgs", "u-1", time.Hour)
	pend := func(id string, at time.Duration) store.Observation {
		o := seenAt(obs(id, at, c), at)
		o.Pending = hold
		return o
	}
	mark := func(id string, at time.Duration) store.SeenMark {
		return store.SeenMark{Platform: "discord", Space: "guild-1", Author: "u-1", ID: id, At: t0.Add(at)}
	}
	check := func(o store.Observation, dup, again bool, count int64) {
		t.Helper()
		res, err := st.Observe(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicate != dup || res.Again != again {
			t.Fatalf("%s at %s: duplicate %v, again %v; want %v, %v", o.EventID, o.SeenAt.Sub(t0), res.Duplicate, res.Again, dup, again)
		}
		if !dup && (len(res.Counts) != 1 || res.Counts[0] != count) {
			t.Fatalf("%s at %s: counts %v, want [%d]", o.EventID, o.SeenAt.Sub(t0), res.Counts, count)
		}
	}
	// The judge stopped: a retry within the hold is a duplicate, one
	// after it is judged again, not counted again, and marked pending for
	// its own judge.
	check(pend("m-1", 0), false, false, 1)
	check(pend("m-1", 5*time.Second), true, false, 0)
	check(pend("m-1", 11*time.Second), false, true, 1)
	check(pend("m-1", 12*time.Second), true, false, 0)
	if err := st.Settle(ctx, mark("m-1", 11*time.Second)); err != nil {
		t.Fatal(err)
	}
	check(pend("m-1", time.Minute), true, false, 0)
	// Renewed, the mark holds for the hold from its renewal.
	check(pend("m-2", 20*time.Second), false, false, 2)
	if err := st.Renew(ctx, mark("m-2", 20*time.Second), t0.Add(28*time.Second), hold); err != nil {
		t.Fatal(err)
	}
	check(pend("m-2", 35*time.Second), true, false, 0)
	check(pend("m-2", 39*time.Second), false, true, 2)
	// Settled with its journal entry, in the same write.
	check(pend("m-3", 40*time.Second), false, false, 3)
	m := mark("m-3", 40*time.Second)
	e := store.JournalEntry{Key: "discord:m-3", Event: bot.Event{ID: "m-3", Platform: "discord"}, At: t0, Begun: t0, Settle: &m}
	if err := st.Begin(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := st.Done(ctx, e.Key); err != nil {
		t.Fatal(err)
	}
	check(pend("m-3", time.Hour), true, false, 0)
	// An observation without Pending settles at once, as before.
	o := obs("m-4", time.Hour, c)
	o.SeenAt = o.At
	check(o, false, false, 3) // m-2, m-3 and m-4 in the hour
	check(pend("m-4", 2*time.Hour), true, false, 0)
	// A settled mark is not renewed back to pending.
	if err := st.Renew(ctx, mark("m-4", time.Hour), t0.Add(3*time.Hour), hold); err != nil {
		t.Fatal(err)
	}
	check(pend("m-4", 4*time.Hour), true, false, 0)
}

func seenAt(o store.Observation, d time.Duration) store.Observation {
	o.SeenAt = t0.Add(d)
	return o
}

func testStrikes(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	add := func(author string, at, ttl time.Duration) {
		t.Helper()
		err := st.AddStrike(ctx, store.Strike{Platform: "discord", Space: "guild-1", Author: author,
			At: t0.Add(at), Rule: "insult", TTL: ttl})
		if err != nil {
			t.Fatalf("AddStrike: %v", err)
		}
	}
	add("u-1", 0, time.Hour)
	add("u-1", 10*time.Minute, time.Hour)
	add("u-1", 20*time.Minute, 0) // default TTL: 30 days
	add("u-2", 10*time.Minute, time.Hour)
	t.Run("other space and platform", func(t *testing.T) {
		for _, o := range []store.Observation{
			{At: t0.Add(25 * time.Minute), Platform: "discord", Space: "guild-2", Author: "u-1", StrikeWindow: time.Hour},
			{At: t0.Add(25 * time.Minute), Platform: "telegram", Space: "guild-1", Author: "u-1", StrikeWindow: time.Hour},
		} {
			res, err := st.Observe(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Strikes) != 0 {
				t.Errorf("%s/%s: strikes = %v, want none", o.Platform, o.Space, res.Strikes)
			}
		}
	})
	tests := []struct {
		name   string
		author string
		at     time.Duration
		window time.Duration
		want   []time.Duration
	}{
		// In the events' order: a store may forget what expired before the latest event.
		{"not before it was given", "u-1", 5 * time.Minute, time.Hour, []time.Duration{0}},
		{"within window", "u-1", 25 * time.Minute, 20 * time.Minute, []time.Duration{10 * time.Minute, 20 * time.Minute}},
		{"all, oldest first", "u-1", 25 * time.Minute, time.Hour, []time.Duration{0, 10 * time.Minute, 20 * time.Minute}},
		{"zero window asks none", "u-1", 25 * time.Minute, 0, nil},
		{"another author", "u-2", 25 * time.Minute, time.Hour, []time.Duration{10 * time.Minute}},
		{"nobody", "u-3", 25 * time.Minute, time.Hour, nil},
		{"with counters and dedupe", "u-1", 25 * time.Minute, time.Hour, []time.Duration{0, 10 * time.Minute, 20 * time.Minute}},
		{"at the edge", "u-1", 30 * time.Minute, 20 * time.Minute, []time.Duration{20 * time.Minute}},
		{"expired by TTL", "u-1", 65 * time.Minute, 24 * time.Hour, []time.Duration{10 * time.Minute, 20 * time.Minute}},
		{"all TTLs run out but the default", "u-1", 2 * time.Hour, 24 * time.Hour, []time.Duration{20 * time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := obs("", tt.at)
			if tt.name == "with counters and dedupe" {
				o = obs("s-1", tt.at, incr("msgs", "u-1", time.Minute))
			}
			o.Author = tt.author
			o.StrikeWindow = tt.window
			res, err := st.Observe(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if o.EventID != "" && !slices.Equal(res.Counts, []int64{1}) {
				t.Errorf("counts = %v, want [1]", res.Counts)
			}
			var got []time.Duration
			for _, s := range res.Strikes {
				got = append(got, s.Sub(t0))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("strikes = %v, want %v", got, tt.want)
			}
		})
	}
}

func entry(id string, at time.Duration, rule string) store.AuditEntry {
	when := t0.Add(at)
	return store.AuditEntry{
		At: when,
		Event: bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
			Channel: "general", Author: bot.Author{ID: "u-1", Name: "Bob", Roles: []string{"member"}},
			Text: "buy cheap followers", At: when},
		Verdict: bot.Verdict{EventID: id, Platform: "discord", At: when,
			Matches: []bot.Match{{Rule: rule, Category: "spam", Reason: "a link to a banned domain",
				Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: 10 * time.Minute}}}},
			Counters: map[string]int64{"msgs": 3}},
		Mode: "enforce",
	}
}

// sameJSON compares values through their JSON form, as a networked store keeps them.
func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := json.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testAudit(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	all := []store.AuditEntry{entry("m-1", 0, "spam"), entry("m-2", time.Minute, "flood"), entry("m-3", 2*time.Minute, "insult")}
	got, err := st.Audit(ctx, time.Time{})
	if err != nil || len(got) != 0 {
		t.Fatalf("empty audit = %v, %v; want nothing", got, err)
	}
	for _, e := range all {
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	tests := []struct {
		name  string
		since time.Time
		want  []store.AuditEntry
	}{
		{"everything", time.Time{}, all},
		{"since is inclusive", t0.Add(time.Minute), all[1:]},
		{"since between", t0.Add(90 * time.Second), all[2:]},
		{"after the last", t0.Add(time.Hour), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := st.Audit(ctx, tt.since)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "audit", got, tt.want)
		})
	}
}

// newCase is a case of its own: its author and channel are named after the
// event, so that it is grouped with no other.
func newCase(id string, at time.Duration) store.Case {
	e := entry(id, at, "insult")
	e.Event.Author.ID, e.Event.Channel = "u-"+id, "c-"+id
	return store.Case{Event: e.Event, Rule: "insult", Category: "abuse", Reason: "an insult after hours",
		Suggested: []bot.Action{{Kind: bot.ActHide}, {Kind: bot.ActBan, Duration: 24 * time.Hour}},
		NotDone:   []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}}}
}

// testCaseOrigin: the same event, rule and reason sent again (a reply lost, a
// write-back after an outage) is the first case, not a second one.
func testCaseOrigin(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	first, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	again, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	if again.ID != first.ID {
		t.Errorf("the same case again got id %q, want the first %q", again.ID, first.ID)
	}
	if again.Hits() != 1 {
		t.Errorf("the same case again counts %d hits, want 1", again.Count)
	}
	// Another reason is another hit, grouped with the first (same author,
	// place and rule), and counted once however often it is sent.
	other := newCase("m-1", 0)
	other.Reason = "another reason"
	for range 2 {
		c, err := st.OpenCase(ctx, other)
		if err != nil {
			t.Fatalf("OpenCase: %v", err)
		}
		if c.ID != first.ID || c.Count != 2 {
			t.Errorf("a case with another reason: %s count %d, want %s count 2", c.ID, c.Count, first.ID)
		}
	}
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatalf("Cases: %v", err)
	}
	if len(open) != 1 {
		t.Errorf("%d open cases, want 1", len(open))
	}
}

// testCaseOriginCarried: a case written again that carries hits beyond its
// own (a copy that grouped them while the store was away) gives them to the
// first case, their messages with them; once the first is decided, it is a
// case again rather than lost. A copy of one hit is still the first case.
func testCaseOriginCarried(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	first, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	carrying := func(ids ...string) store.Case {
		c := newCase("m-1", 0)
		c.Count = 1 + len(ids)
		for _, id := range ids {
			c.Latest = append(c.Latest, id)
			c.Refs = append(c.Refs, store.RefOf(newCase(id, time.Second).Event))
		}
		return c
	}
	grouped := func(c store.Case) []string {
		msgs, unkept := c.Grouped()
		ids := []string{c.Event.ID}
		for _, m := range msgs {
			ids = append(ids, m.ID)
		}
		return append(ids, fmt.Sprint(unkept))
	}
	if _, err := st.OpenCase(ctx, carrying("m-2", "m-3")); err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	c, err := st.Case(ctx, first.ID)
	if err != nil {
		t.Fatalf("Case: %v", err)
	}
	if want := []string{"m-1", "m-2", "m-3", "0"}; c.Hits() != 3 || !slices.Equal(grouped(c), want) {
		t.Errorf("the first case with a copy carrying 2 hits: %d hits, messages %v; want 3, %v", c.Hits(), grouped(c), want)
	}
	if again, err := st.OpenCase(ctx, newCase("m-1", 0)); err != nil || again.ID != first.ID || again.Hits() != 3 {
		t.Errorf("the first hit again: %s, %d hits, %v; want %s, 3", again.ID, again.Hits(), err, first.ID)
	}
	// A copy carrying a hit the first case has already (the store ran it,
	// its answer lost, and the copy added it too) counts that one once: by
	// its origin, and by its message when grouped into the case.
	if _, err := st.OpenCase(ctx, carrying("m-3", "m-4")); err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	joining := carrying("m-4", "m-6")
	joining.Event.ID = "m-5" // the first case's author: grouped into it
	if c, err := st.OpenCase(ctx, joining); err != nil || c.ID != first.ID {
		t.Fatalf("a copy of the same author: %s, %v; want grouped into %s", c.ID, err, first.ID)
	}
	if c, err = st.Case(ctx, first.ID); err != nil {
		t.Fatalf("Case: %v", err)
	}
	if want := []string{"m-1", "m-2", "m-3", "m-4", "m-5", "m-6", "0"}; c.Hits() != 6 || !slices.Equal(grouped(c), want) {
		t.Errorf("the first case with copies carrying hits it had: %d hits, messages %v; want 6, %v", c.Hits(), grouped(c), want)
	}
	if _, err := st.DecideCase(ctx, first.ID, "keep", "cm", "", t0.Add(time.Hour)); err != nil {
		t.Fatalf("DecideCase: %v", err)
	}
	late, err := st.OpenCase(ctx, carrying("m-4"))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	late, err = st.Case(ctx, late.ID)
	if err != nil {
		t.Fatalf("Case: %v", err)
	}
	if want := []string{"m-1", "m-4", "0"}; late.ID == first.ID || late.Status != store.CaseOpen || !slices.Equal(grouped(late), want) {
		t.Errorf("a copy carrying a hit once the first is decided: %s (%s), messages %v; want a case open with %v", late.ID, late.Status,
			grouped(late), want)
	}
}

func testCases(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	a, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	b, err := st.OpenCase(ctx, newCase("m-2", time.Minute))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	decidedAt := t0.Add(time.Hour)

	t.Run("open", func(t *testing.T) {
		if a.ID == "" || b.ID == "" || a.ID == b.ID {
			t.Fatalf("ids %q and %q: want two distinct non-empty ids", a.ID, b.ID)
		}
		if a.ID >= b.ID {
			t.Errorf("ids %q then %q do not sort in opening order", a.ID, b.ID)
		}
		if a.Status != store.CaseOpen {
			t.Errorf("status = %q, want open", a.Status)
		}
		if !a.Opened.Equal(t0) {
			t.Errorf("opened = %v, want the event's time %v", a.Opened, t0)
		}
		want := newCase("m-1", 0)
		want.ID, want.Status, want.Opened, want.Count = a.ID, store.CaseOpen, t0, 1
		sameJSON(t, "opened case", a, want)
	})
	t.Run("get", func(t *testing.T) {
		got, err := st.Case(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "case", got, a)
	})
	t.Run("not found", func(t *testing.T) {
		if _, err := st.Case(ctx, "c-999999"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Case(unknown) error = %v, want ErrNotFound", err)
		}
		if _, err := st.DecideCase(ctx, "c-999999", "keep", "telegram:1", "", decidedAt); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DecideCase(unknown) error = %v, want ErrNotFound", err)
		}
	})
	t.Run("list open", func(t *testing.T) {
		got, err := st.Cases(ctx, store.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "open cases", got, []store.Case{a, b})
	})
	t.Run("decide", func(t *testing.T) {
		// The CM's name is kept with their id: the other desks name them by it.
		got, err := st.DecideCase(ctx, a.ID, "ban", "telegram:123", "Ann <b>", decidedAt)
		if err != nil {
			t.Fatal(err)
		}
		want := a
		want.Status, want.Outcome, want.DecidedBy, want.DecidedAt = store.CaseDecided, "ban", "telegram:123", decidedAt
		want.DeciderName = "Ann <b>"
		sameJSON(t, "decided case", got, want)
		again, err := st.Case(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "decided case read back", again, want)
	})
	t.Run("decide twice", func(t *testing.T) {
		got, err := st.DecideCase(ctx, a.ID, "keep", "discord:9", "Eve", decidedAt.Add(time.Minute))
		if !errors.Is(err, store.ErrDecided) {
			t.Fatalf("second decision error = %v, want ErrDecided", err)
		}
		if got.Outcome != "ban" || got.DecidedBy != "telegram:123" || got.DeciderName != "Ann <b>" || !got.DecidedAt.Equal(decidedAt) {
			t.Errorf("second decision returned %q by %q (%q) at %v, want the first: ban by telegram:123 (Ann <b>)", got.Outcome, got.DecidedBy, got.DeciderName, got.DecidedAt)
		}
	})
	t.Run("lists after decision", func(t *testing.T) {
		open, err := st.Cases(ctx, store.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		decided, err := st.Cases(ctx, store.CaseDecided)
		if err != nil {
			t.Fatal(err)
		}
		if len(open) != 1 || open[0].ID != b.ID {
			t.Errorf("open = %v, want only %s", ids(open), b.ID)
		}
		if len(decided) != 1 || decided[0].ID != a.ID || decided[0].Outcome != "ban" {
			t.Errorf("decided = %v, want only %s (ban)", ids(decided), a.ID)
		}
	})
}

// testCaseCards: where the desks posted a case's cards is kept with the case,
// for any process to read, once per card, whatever becomes of the case.
func testCaseCards(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	a, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	b, err := st.OpenCase(ctx, newCase("m-2", time.Minute))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	tg := bot.CardRef{Platform: "telegram", Chat: "-100123", Message: "42"}
	queue := bot.CardRef{Platform: "telegram", Chat: "777", Message: "5"}
	dc := bot.CardRef{Platform: "discord", Chat: "chan-9", Message: "1300000000000000001"}
	for _, card := range []bot.CardRef{tg, dc, queue, tg} {
		if err := st.AddCard(ctx, a.ID, card); err != nil {
			t.Fatalf("AddCard(%s, %v): %v", a.ID, card, err)
		}
	}
	if err := st.AddCard(ctx, "c-999999", tg); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCard(unknown case) error = %v, want ErrNotFound", err)
	}
	want := []bot.CardRef{dc, tg, queue}
	cards := func(id string) []bot.CardRef {
		t.Helper()
		got, err := st.CaseCards(ctx, id)
		if err != nil {
			t.Fatalf("CaseCards(%s): %v", id, err)
		}
		return got
	}
	if got := cards(a.ID); !slices.Equal(got, want) {
		t.Errorf("cards of %s = %v, want %v (each once, by platform, chat, message)", a.ID, got, want)
	}
	if got := cards(b.ID); len(got) != 0 {
		t.Errorf("cards of %s, never posted = %v, want none", b.ID, got)
	}
	if got := cards("c-999999"); len(got) != 0 {
		t.Errorf("cards of an unknown case = %v, want none", got)
	}
	// The cards are no part of the case as it is read.
	got, err := st.Case(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "case with cards", got, a)
	if _, err := st.DecideCase(ctx, a.ID, "keep", "http:ann", "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := cards(a.ID); !slices.Equal(got, want) {
		t.Errorf("cards of %s once decided = %v, want %v", a.ID, got, want)
	}
	// A card posted after the decision (a /queue read just before) is kept too.
	late := bot.CardRef{Platform: "discord", Chat: "chan-9", Message: "1300000000000000002"}
	if err := st.AddCard(ctx, a.ID, late); err != nil {
		t.Fatal(err)
	}
	if got := cards(a.ID); !slices.Equal(got, []bot.CardRef{dc, late, tg, queue}) {
		t.Errorf("cards of %s with a late one = %v", a.ID, got)
	}
}

// testCarryClaims: a store that claims decisions' carrying out
// (store.CarryClaims) gives a case's claim to one holder at a time, the
// others told ErrClaimed, until it is released; a release called twice lets
// go once; claims of two cases are apart.
func testCarryClaims(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	cl, ok := st.(store.CarryClaims)
	if !ok {
		t.Skip("the store claims no decisions")
	}
	c, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	d, err := st.OpenCase(ctx, newCase("m-2", 0))
	if err != nil {
		t.Fatal(err)
	}
	release, lost, err := cl.ClaimCarrying(ctx, c.ID)
	if err != nil {
		t.Fatalf("first claim: %v", err)
	}
	if lost() {
		t.Error("a claim just taken says it was lost")
	}
	if _, _, err := cl.ClaimCarrying(ctx, c.ID); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("second claim of a held case: %v, want ErrClaimed", err)
	}
	other, _, err := cl.ClaimCarrying(ctx, d.ID)
	if err != nil {
		t.Fatalf("claim of another case: %v", err)
	}
	release()
	release()
	again, lost, err := cl.ClaimCarrying(ctx, c.ID)
	if err != nil {
		t.Fatalf("claim after the release: %v", err)
	}
	if lost() {
		t.Error("a claim taken again says it was lost")
	}
	release() // the first holder's, again: not the second's
	if _, _, err := cl.ClaimCarrying(ctx, c.ID); !errors.Is(err, store.ErrClaimed) {
		t.Errorf("claim while the second holder holds it: %v, want ErrClaimed", err)
	}
	again()
	other()
}

// testDecisionCarried: a store that marks decisions (store.DecisionMarks)
// keeps how a case's decision was carried out with the case, wherever it is
// read, the last mark standing; an unknown case is ErrNotFound.
func testDecisionCarried(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	mk, ok := st.(store.DecisionMarks)
	if !ok {
		t.Skip("the store marks no decisions")
	}
	c, err := st.OpenCase(ctx, newCase("m-1", 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideCase(ctx, c.ID, "ban", "telegram:42", "", t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := st.Case(ctx, c.ID)
	if err != nil || got.Carried != "" || got.Carrying {
		t.Fatalf("decided case carried %q (carrying %v), %v; want nothing yet", got.Carried, got.Carrying, err)
	}
	if err := mk.MarkCarrying(ctx, c.ID, "m-1"); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Case(ctx, c.ID); err != nil || !got.Carrying || got.CarryingMark != "m-1" || got.Carried != "" {
		t.Errorf("case carrying %v (mark %q), carried %q, %v; want being carried out by m-1, no end", got.Carrying, got.CarryingMark, got.Carried, err)
	}
	for _, result := range []string{"telegram refused: not enough rights", store.CarriedDone} {
		if err := mk.MarkCarried(ctx, c.ID, result); err != nil {
			t.Fatal(err)
		}
		got, err := st.Case(ctx, c.ID)
		if err != nil || got.Carried != result || got.Outcome != "ban" || got.Carrying {
			t.Errorf("case carried %q (outcome %q, carrying %v), %v; want %q (ban), its end recorded", got.Carried, got.Outcome, got.Carrying, err, result)
		}
	}
	decided, err := st.Cases(ctx, store.CaseDecided)
	if err != nil || len(decided) != 1 || decided[0].Carried != store.CarriedDone {
		t.Errorf("decided cases %+v, %v; want the case, carried out", decided, err)
	}
	if err := mk.MarkCarried(ctx, "c-999999", store.CarriedDone); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkCarried(unknown case) error = %v, want ErrNotFound", err)
	}
	if err := mk.MarkCarrying(ctx, "c-999999", "m-2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkCarrying(unknown case) error = %v, want ErrNotFound", err)
	}
}

// testCaseAmended: a case opened while its actions were still being tried
// is amended with how they ended, wherever it is read, open or decided.
func testCaseAmended(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	c := newCase("m-1", 0)
	del, ban := bot.Action{Kind: bot.ActDelete}, bot.Action{Kind: bot.ActBan, Duration: 24 * time.Hour}
	c.Reason, c.Suggested, c.NotDone, c.Trying, c.Holds = "forwarded by rule insult", []bot.Action{del, ban}, []bot.Action{del, ban}, []bot.Action{del, ban}, true
	a, err := st.OpenCase(ctx, c)
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	other, err := st.OpenCase(ctx, newCase("m-2", time.Minute))
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	if len(a.Trying) != 2 {
		t.Fatalf("opened case tries %v, want %v", a.Trying, c.Trying)
	}
	am := store.CaseAmendment{Reason: "forwarded by rule insult; insult: action failed: ban: 500", Suggested: []bot.Action{del, ban}, NotDone: []bot.Action{ban}}
	if err := st.AmendCase(ctx, a.ID, am); err != nil {
		t.Fatalf("AmendCase: %v", err)
	}
	if err := st.AmendCase(ctx, "c-999999", am); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AmendCase(unknown case) error = %v, want ErrNotFound", err)
	}
	want := a
	want.Reason, want.NotDone, want.Trying = am.Reason, am.NotDone, nil
	got, err := st.Case(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "amended case", got, want)
	if got.CarriedOut(bot.ActBan) || !got.CarriedOut(bot.ActDelete) {
		t.Errorf("amended case: ban carried out %v, delete %v; want false, true", got.CarriedOut(bot.ActBan), got.CarriedOut(bot.ActDelete))
	}
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 2 {
		t.Fatalf("open cases = %v, %v; want 2", ids(open), err)
	}
	sameJSON(t, "amended case, listed", open[0], want)
	sameJSON(t, "other case, listed", open[1], other)
	pending, err := st.PendingCases(ctx)
	if err != nil || len(pending) != 2 {
		t.Fatalf("pending cases = %v, %v; want 2", ids(pending), err)
	}
	sameJSON(t, "amended case, pending", pending[0], want)
	// Opened again (the reply to the first OpenCase lost, or the verdict
	// carried out again): the case as it is stored, amended.
	again, err := st.OpenCase(ctx, c)
	if err != nil {
		t.Fatalf("OpenCase again: %v", err)
	}
	sameJSON(t, "amended case, opened again", again, want)
	// Decided, then amended: an action that ended after the CM's decision
	// is recorded, and the decision stays.
	decided, err := st.DecideCase(ctx, other.ID, "keep", "http:ann", "", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	am2 := store.CaseAmendment{Reason: "done late", Suggested: other.Suggested}
	if err := st.AmendCase(ctx, other.ID, am2); err != nil {
		t.Fatalf("AmendCase(decided): %v", err)
	}
	want2 := decided
	want2.Reason, want2.NotDone = am2.Reason, nil
	if got, err = st.Case(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "decided case amended", got, want2)
	if got, err = st.OpenCase(ctx, newCase("m-2", time.Minute)); err != nil {
		t.Fatalf("OpenCase again: %v", err)
	}
	sameJSON(t, "decided case amended, opened again", got, want2)
}

func ids(cs []store.Case) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testPending(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	pending := func(want ...string) {
		t.Helper()
		got, err := st.PendingCases(ctx)
		if err != nil {
			t.Fatalf("PendingCases: %v", err)
		}
		if !slices.Equal(ids(got), want) {
			t.Errorf("pending = %v, want %v", ids(got), want)
		}
	}
	pending()
	var opened []string
	for i := range 3 {
		c, err := st.OpenCase(ctx, newCase(fmt.Sprintf("m-%d", i), time.Duration(i)*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		opened = append(opened, c.ID)
	}
	pending(opened...)
	pending(opened...) // not acknowledged: delivered again
	if err := st.AckCase(ctx, opened[1]); err != nil {
		t.Fatalf("AckCase: %v", err)
	}
	pending(opened[0], opened[2])
	if _, err := st.DecideCase(ctx, opened[0], "keep", "telegram:1", "", t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	got, err := st.PendingCases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Status != store.CaseDecided {
		t.Errorf("pending after a decision = %v, want %s first and decided", ids(got), opened[0])
	}
	for _, id := range []string{opened[0], opened[2]} {
		if err := st.AckCase(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	pending()
	// Acknowledged before the desk ever read it (posted straight after opening).
	early, err := st.OpenCase(ctx, newCase("m-9", time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AckCase(ctx, early.ID); err != nil {
		t.Fatal(err)
	}
	pending()
	if err := st.AckCase(ctx, "c-999999"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AckCase(unknown) error = %v, want ErrNotFound", err)
	}

	// A card the desk refused for good: not delivered again, still open, and
	// saying why; a decision keeps the reason.
	refused, err := st.OpenCase(ctx, newCase("m-10", 2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pending(refused.ID)
	const why = "telegram sendMessage: Bad Request: message is too long (400)"
	if err := st.MarkUndeliverable(ctx, refused.ID, why); err != nil {
		t.Fatalf("MarkUndeliverable: %v", err)
	}
	pending()
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if i := slices.IndexFunc(open, func(c store.Case) bool { return c.ID == refused.ID }); i < 0 || open[i].Undeliverable != why {
		t.Errorf("open cases = %+v, want %s with undeliverable %q", open, refused.ID, why)
	}
	decided, err := st.DecideCase(ctx, refused.ID, "keep", "telegram:1", "", t0.Add(3*time.Hour))
	if err != nil || decided.Undeliverable != why || decided.Status != store.CaseDecided {
		t.Errorf("DecideCase = %+v, %v; want decided, undeliverable %q", decided, err, why)
	}
	// Opening a case never makes it undeliverable.
	fresh := newCase("m-11", 3*time.Hour)
	fresh.Undeliverable = "copied from elsewhere"
	if c, err := st.OpenCase(ctx, fresh); err != nil || c.Undeliverable != "" {
		t.Errorf("OpenCase = %+v, %v; want no undeliverable", c, err)
	}
	if err := st.MarkUndeliverable(ctx, "c-999999", why); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkUndeliverable(unknown) error = %v, want ErrNotFound", err)
	}
}

func testConcurrent(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	const workers, each = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	dups := make(chan bool, workers*each)
	for g := range workers {
		wg.Go(func() {
			for i := range each {
				author := fmt.Sprintf("u-%d", g)
				o := store.Observation{
					At: t0.Add(time.Duration(i) * time.Millisecond), Platform: "discord", Space: "guild-1",
					Author: author, EventID: fmt.Sprintf("m-%d-%d", g, i),
					Counters: []store.CounterOp{
						incr("raid", "guild-1", time.Hour), incr("msgs", author, time.Hour),
					},
				}
				if _, err := st.Observe(ctx, o); err != nil {
					errs <- err
					return
				}
				// Every worker also sends the same retried event (a webhook delivered
				// to several processes): one of them wins.
				o.Author = "u-0"
				o.EventID = fmt.Sprintf("retry-%d", i)
				o.Counters = []store.CounterOp{incr("retries", "guild-1", time.Hour)}
				res, err := st.Observe(ctx, o)
				if err != nil {
					errs <- err
					return
				}
				dups <- res.Duplicate
			}
		})
	}
	wg.Wait()
	close(errs)
	close(dups)
	for err := range errs {
		t.Fatal(err)
	}
	fresh := 0
	for d := range dups {
		if !d {
			fresh++
		}
	}
	if fresh != each {
		t.Errorf("%d retried ids seen as new %d times, want once each", each, fresh)
	}
	res, err := st.Observe(ctx, store.Observation{
		At: t0.Add(time.Second), Platform: "discord", Space: "guild-1", Author: "u-3",
		Counters: []store.CounterOp{read("raid", "guild-1", time.Hour), read("msgs", "u-3", time.Hour),
			read("retries", "guild-1", time.Hour)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{workers * each, each, each}; !slices.Equal(res.Counts, want) {
		t.Errorf("counts after concurrent observes = %v, want %v", res.Counts, want)
	}
}

func journalEntry(id string, at time.Duration) store.JournalEntry {
	ev := bot.Event{ID: id, Platform: "discord", Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-1", Name: "Bob"}, Text: "free nitro", At: t0.Add(at)}
	v := bot.Verdict{EventID: id, Platform: "discord", At: t0.Add(at), Matches: []bot.Match{{
		Rule: "scam", Category: "scam", Reason: "link to a scam",
		Actions: []bot.Action{{Kind: bot.ActDelete}, {Kind: bot.ActTimeout, Duration: time.Hour}},
	}}}
	return store.JournalEntry{Key: ev.Key(), Event: ev, Verdict: v, At: t0.Add(at), Begun: t0.Add(at)}
}

func keys(es []store.JournalEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Key)
	}
	return out
}

func testJournal(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	unfinished := func(olderThan, now time.Duration) []store.JournalEntry {
		t.Helper()
		got, err := st.Unfinished(ctx, t0.Add(olderThan), t0.Add(now))
		if err != nil {
			t.Fatalf("Unfinished: %v", err)
		}
		return got
	}
	if got := unfinished(time.Hour, time.Hour); len(got) != 0 {
		t.Fatalf("empty journal: unfinished = %v", keys(got))
	}
	for i, id := range []string{"m-2", "m-1", "m-3"} {
		if err := st.Begin(ctx, journalEntry(id, time.Duration(2-i)*time.Minute)); err != nil {
			t.Fatalf("Begin: %v", err)
		}
	}
	if err := st.Done(ctx, "discord:m-3"); err != nil {
		t.Fatalf("Done: %v", err)
	}
	if err := st.Done(ctx, "discord:unknown"); err != nil {
		t.Errorf("Done(unknown) = %v, want nil", err)
	}
	// m-1 at 1m, m-2 at 2m: only those stamped before olderThan are taken.
	if got := unfinished(90*time.Second, 10*time.Minute); !slices.Equal(keys(got), []string{"discord:m-1"}) {
		t.Errorf("unfinished before 1m30 = %v, want discord:m-1", keys(got))
	}
	got := unfinished(5*time.Minute, 10*time.Minute)
	if !slices.Equal(keys(got), []string{"discord:m-2"}) {
		t.Fatalf("unfinished before 5m = %v, want discord:m-2 (m-1 was taken at 10m)", keys(got))
	}
	want := journalEntry("m-2", 2*time.Minute)
	want.Tries = 1
	sameJSON(t, "entry", got[0], want)
	// Taken entries come back once their new stamp is old enough, oldest first.
	got = unfinished(11*time.Minute, 20*time.Minute)
	if !slices.Equal(keys(got), []string{"discord:m-1", "discord:m-2"}) {
		t.Fatalf("unfinished before 11m = %v, want both again", keys(got))
	}
	for _, e := range got {
		if e.Tries != 2 || !e.At.Equal(t0.Add(10*time.Minute)) {
			t.Errorf("%s: tries %d, stamp %s; want 2 and 10m", e.Key, e.Tries, e.At.Sub(t0))
		}
	}
	// Begin again renews the stamp, and names the case opened for the
	// verdict meanwhile; Done removes it for good.
	renewed := journalEntry("m-1", time.Minute)
	renewed.At = t0.Add(30 * time.Minute)
	renewed.Case = "c-7"
	if err := st.Begin(ctx, renewed); err != nil {
		t.Fatal(err)
	}
	if err := st.Done(ctx, "discord:m-2"); err != nil {
		t.Fatal(err)
	}
	if got := unfinished(25*time.Minute, 40*time.Minute); len(got) != 0 {
		t.Errorf("after a renewal and a Done: unfinished = %v, want none", keys(got))
	}
	got = unfinished(31*time.Minute, 40*time.Minute)
	if !slices.Equal(keys(got), []string{"discord:m-1"}) {
		t.Fatalf("unfinished = %v, want the renewed discord:m-1", keys(got))
	}
	if got[0].Case != "c-7" {
		t.Errorf("the renewed entry's case = %q, want c-7", got[0].Case)
	}
}

// testJournalTakenOnce: processes that start together and look for the
// verdicts a stopped one left take each of them once.
func testJournalTakenOnce(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	const n, takers = 50, 8
	for i := range n {
		if err := st.Begin(ctx, journalEntry(fmt.Sprintf("m-%d", i), 0)); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	taken := map[string]int{}
	var wg sync.WaitGroup
	for range takers {
		wg.Go(func() {
			got, err := st.Unfinished(ctx, t0.Add(time.Minute), t0.Add(time.Hour))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range got {
				taken[e.Key]++
			}
		})
	}
	wg.Wait()
	if len(taken) != n {
		t.Errorf("%d entries taken, want %d", len(taken), n)
	}
	for k, c := range taken {
		if c != 1 {
			t.Errorf("%s taken %d times, want once", k, c)
		}
	}
}

// hit is a case for rule by author in channel, at t0+at.
func hit(id, author, channel, rule string, at time.Duration) store.Case {
	c := newCase(id, at)
	c.Event.Author.ID, c.Event.Channel, c.Rule = author, channel, rule
	c.Opened = c.Event.At
	return c
}

// testCaseGroups: under a raid, hits join the open case of their author in that
// place and rule, or the place's when many authors hit it at once.
func testCaseGroups(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	open := func(t *testing.T, st store.Store, c store.Case) store.Case {
		t.Helper()
		got, err := st.OpenCase(ctx, c)
		if err != nil {
			t.Fatalf("OpenCase %s: %v", c.Event.ID, err)
		}
		return got
	}
	t.Run("one author", func(t *testing.T) {
		st := newStore(t)
		first := open(t, st, hit("m-0", "u-1", "general", "flood", 0))
		var last store.Case
		for i := 1; i < 30; i++ {
			last = open(t, st, hit(fmt.Sprintf("m-%d", i), "u-1", "general", "flood", time.Duration(i)*time.Second))
		}
		if last.ID != first.ID || last.Count != 30 {
			t.Errorf("30th hit: case %s count %d, want %s count 30", last.ID, last.Count, first.ID)
		}
		var want []string
		for i := 10; i < 30; i++ {
			want = append(want, fmt.Sprintf("m-%d", i))
		}
		if !slices.Equal(last.Latest, want) {
			t.Errorf("latest = %v, want the last %d: %v", last.Latest, store.GroupLatest, want)
		}
		// A retry of a grouped hit is not counted twice.
		if again := open(t, st, hit("m-29", "u-1", "general", "flood", 29*time.Second)); again.Count != 30 {
			t.Errorf("a grouped hit sent again: count %d, want 30", again.Count)
		}
		got, err := st.Case(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The case read keeps where its 29 later messages are; a grouped
		// hit's answer may leave them out (OpenCase).
		var ids []string
		for _, r := range got.Refs {
			ids = append(ids, r.ID)
		}
		if len(ids) != 29 || ids[0] != "m-1" || ids[28] != "m-29" {
			t.Errorf("case read back refers to %v, want m-1 to m-29", ids)
		}
		if last.Refs == nil {
			last.Refs = got.Refs
		}
		sameJSON(t, "grouped case", got, last)
		cs, err := st.Cases(ctx, store.CaseOpen)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 1 {
			t.Errorf("%d open cases, want 1", len(cs))
		}
		// A case that holds actions is about its own message.
		held := hit("h-1", "u-1", "general", "flood", 40*time.Second)
		held.Holds = true
		if got := open(t, st, held); got.ID == first.ID || got.Hits() != 1 {
			t.Errorf("a case holding actions joined %s (count %d)", got.ID, got.Count)
		}
		// Other rule or author: cases of their own.
		for _, c := range []store.Case{
			hit("x-1", "u-1", "general", "insult", time.Minute),
			hit("x-3", "u-2", "general", "flood", time.Minute),
		} {
			if got := open(t, st, c); got.ID == first.ID {
				t.Errorf("%s joined case %s", c.Event.ID, got.ID)
			}
		}
		// The author's hit in another channel of the space joins their
		// case, which says where its message is.
		if got := open(t, st, hit("x-2", "u-1", "other", "flood", time.Minute)); got.ID != first.ID || got.Count != 31 {
			t.Errorf("a hit in another channel: case %s count %d; want %s counting 31", got.ID, got.Count, first.ID)
		}
		if got, err := st.Case(ctx, first.ID); err != nil || len(got.Refs) == 0 ||
			got.Refs[len(got.Refs)-1].Channel != "other" || got.Places() != 2 {
			t.Errorf("case %s read back: refs %v, %v; want the last in other, 2 channels", first.ID, got.Refs, err)
		}
		// Once decided, the author's next hit opens a new case.
		if _, err := st.DecideCase(ctx, first.ID, "ban", "telegram:1", "", t0.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if next := open(t, st, hit("m-99", "u-1", "general", "flood", time.Hour)); next.ID == first.ID || next.Hits() != 1 {
			t.Errorf("after the decision: case %s count %d, want a new case", next.ID, next.Count)
		}
	})
	t.Run("many authors", func(t *testing.T) {
		st := newStore(t)
		var ids []string
		for i := range 10 {
			c := open(t, st, hit(fmt.Sprintf("m-%d", i), fmt.Sprintf("u-%d", i), "general", "raid", time.Duration(i)*time.Second))
			ids = append(ids, c.ID)
		}
		distinct := slices.Compact(slices.Clone(ids))
		if len(distinct) != store.GroupAuthors {
			t.Errorf("cases %v: want %d, then the others in the last", ids, store.GroupAuthors)
		}
		last, err := st.Case(ctx, ids[9])
		if err != nil {
			t.Fatal(err)
		}
		if want := 10 - store.GroupAuthors + 1; last.Count != want {
			t.Errorf("the place's case counts %d, want %d", last.Count, want)
		}
		// An author who joined it stays in it.
		if c := open(t, st, hit("m-again", "u-7", "general", "raid", 11*time.Second)); c.ID != ids[9] {
			t.Errorf("u-7 again: case %s, want %s", c.ID, ids[9])
		}
		// Past the window, a new author opens a case again.
		if c := open(t, st, hit("m-late", "u-new", "general", "raid", 10*time.Minute)); slices.Contains(ids, c.ID) {
			t.Errorf("a new author 10 minutes later joined %s", c.ID)
		}
	})
	t.Run("a raid's members", func(t *testing.T) {
		// A place's case remembers its last GroupJoiners members: once the
		// place's window is over, the last of them joins it again, one it
		// forgot opens a case of their own; once it is decided, none joins
		// it again.
		st := newStore(t)
		var place store.Case
		for i := range store.GroupAuthors {
			place = open(t, st, hit(fmt.Sprintf("m-%d", i), fmt.Sprintf("u-%d", i), "general", "raid", 0))
		}
		n := store.GroupJoiners + 6
		for i := range n {
			c := open(t, st, hit(fmt.Sprintf("r-%d", i), fmt.Sprintf("r-%d", i), "general", "raid", time.Second))
			if c.ID != place.ID {
				t.Fatalf("raider %d: case %s, want the place's %s", i, c.ID, place.ID)
			}
		}
		last := fmt.Sprintf("r-%d", n-1)
		if c := open(t, st, hit("again-last", last, "general", "raid", 10*time.Minute)); c.ID != place.ID || c.Count != n+2 {
			t.Errorf("the last raider again: case %s count %d, want %s count %d", c.ID, c.Count, place.ID, n+2)
		}
		if c := open(t, st, hit("again-first", "r-0", "general", "raid", 10*time.Minute)); c.ID == place.ID || c.Hits() != 1 {
			t.Errorf("the first raider again, %d members later: case %s count %d, want a case of their own",
				n-1, c.ID, c.Count)
		}
		if _, err := st.DecideCase(ctx, place.ID, "ban", "telegram:1", "", t0.Add(11*time.Minute)); err != nil {
			t.Fatal(err)
		}
		for _, author := range []string{last, fmt.Sprintf("u-%d", store.GroupAuthors-1)} {
			if c := open(t, st, hit("after-"+author, author, "general", "raid", 12*time.Minute)); c.ID == place.ID || c.Hits() != 1 {
				t.Errorf("%s after the decision: case %s count %d, want a new case", author, c.ID, c.Count)
			}
		}
	})
}

// RunOpenCap checks the bound on open cases; newStore makes a store that
// keeps at most openCap of them open.
func RunOpenCap(t *testing.T, newStore func(t *testing.T, openCap int) store.Store) {
	ctx := context.Background()
	st := newStore(t, 3)
	var opened []store.Case
	for i := range 3 {
		c, err := st.OpenCase(ctx, newCase(fmt.Sprintf("m-%d", i), time.Duration(i)*time.Hour))
		if err != nil {
			t.Fatalf("OpenCase %d: %v", i, err)
		}
		opened = append(opened, c)
	}
	refused := newCase("m-3", 3*time.Hour)
	refused.Calls = []string{"cased discord|g|m-3 insult"}
	if _, err := st.OpenCase(ctx, refused); !errors.Is(err, store.ErrCaseCap) {
		t.Errorf("a fourth case: err %v, want ErrCaseCap", err)
	}
	// Its calls are not kept: its message's edits go to the desk.
	if ck, ok := st.(store.CallKeeper); ok {
		if r, ok, err := ck.Call(ctx, refused.Calls[0]); ok || err != nil {
			t.Errorf("the refused case's call kept: %+v, %v", r, err)
		}
	}
	// A hit grouped into an open case is no new case.
	c := newCase("m-0b", 4*time.Hour)
	c.Event.Author, c.Event.Channel = opened[0].Event.Author, opened[0].Event.Channel
	if got, err := st.OpenCase(ctx, c); err != nil || got.ID != opened[0].ID || got.Count != 2 {
		t.Errorf("a grouped hit at the cap: %s count %d, %v; want %s count 2", got.ID, got.Count, err, opened[0].ID)
	}
	if _, err := st.DecideCase(ctx, opened[1].ID, "keep", "telegram:1", "", t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OpenCase(ctx, newCase("m-4", 6*time.Hour)); err != nil {
		t.Errorf("a case once one was decided: %v", err)
	}
	cs, err := st.Cases(ctx, store.CaseOpen)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 3 {
		t.Errorf("%d open cases, want 3", len(cs))
	}
}

// testAccounts: the console's accounts are kept, listed by name, replaced,
// deleted; the session key is made once and the same for everyone after.
func testAccounts(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, ok := newStore(t).(store.Accounts)
	if !ok {
		t.Fatal("the store keeps no accounts (store.Accounts)")
	}
	if _, err := st.Account(ctx, "ann"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Account of nobody: %v, want ErrNotFound", err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, a := range []store.Account{
		{Name: "zoe", Role: "viewer", Hash: "$h1", Created: at},
		{Name: "ann", Role: "moderator", Hash: "$h2", Created: at},
		{Name: "ann", Role: "admin", Hash: "$h3", Created: at},
	} {
		if err := st.PutAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	a, err := st.Account(ctx, "ann")
	if err != nil || a.Role != "admin" || a.Hash != "$h3" || !a.Created.Equal(at) {
		t.Errorf("Account(ann) = %+v, %v; want the admin one", a, err)
	}
	list, err := st.AccountList(ctx)
	if err != nil || len(list) != 2 || list[0].Name != "ann" || list[1].Name != "zoe" {
		t.Errorf("AccountList = %+v, %v; want ann, zoe", list, err)
	}
	if err := st.DeleteAccount(ctx, "zoe"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteAccount(ctx, "zoe"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("deleting twice: %v, want ErrNotFound", err)
	}
	k1, err := st.SessionKey(ctx)
	if err != nil || len(k1) < 32 {
		t.Fatalf("SessionKey = %x, %v; want 32 bytes or more", k1, err)
	}
	k2, err := st.SessionKey(ctx)
	if err != nil || string(k1) != string(k2) {
		t.Errorf("SessionKey changed: %x then %x (%v)", k1, k2, err)
	}
	// A revoked session stays revoked for its time; another is not.
	if err := st.RevokeSession(ctx, "s1", time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeSession(ctx, "s0", 0); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]bool{"s1": true, "s0": false, "s2": false} {
		if got, err := st.SessionRevoked(ctx, id); err != nil || got != want {
			t.Errorf("SessionRevoked(%s) = %v, %v; want %v", id, got, err, want)
		}
	}
}

// testStrikesLifted: an author's strikes are listed until they expire, and
// lifted all at once; another author's stay.
func testStrikesLifted(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	sk, ok := s.(store.StrikeKeeper)
	if !ok {
		t.Fatal("the store cannot show or lift strikes (store.StrikeKeeper)")
	}
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	for _, st := range []store.Strike{
		{Platform: "discord", Space: "g", Author: "u1", Rule: "insult", At: at, TTL: time.Hour},
		{Platform: "discord", Space: "g", Author: "u1", Rule: "insult", At: at.Add(time.Minute), TTL: 24 * time.Hour},
		{Platform: "discord", Space: "g", Author: "u2", Rule: "insult", At: at, TTL: 24 * time.Hour},
	} {
		if err := s.AddStrike(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	got, err := sk.Strikes(ctx, "discord", "g", "u1", at.Add(2*time.Minute))
	if err != nil || len(got) != 2 || !got[0].Equal(at) || !got[1].Equal(at.Add(time.Minute)) {
		t.Errorf("strikes of u1 = %v, %v; want both", got, err)
	}
	if got, _ := sk.Strikes(ctx, "discord", "g", "u1", at.Add(2*time.Hour)); len(got) != 1 {
		t.Errorf("strikes of u1 once the first expired = %v, want one", got)
	}
	if n, err := sk.ClearStrikes(ctx, "discord", "g", "u1"); err != nil || n != 2 {
		t.Errorf("ClearStrikes = %d, %v; want 2", n, err)
	}
	if got, _ := sk.Strikes(ctx, "discord", "g", "u1", at.Add(2*time.Minute)); len(got) != 0 {
		t.Errorf("strikes of u1 after lifting = %v", got)
	}
	res, err := s.Observe(ctx, store.Observation{Platform: "discord", Space: "g", Author: "u1", At: at.Add(3 * time.Minute), StrikeWindow: 24 * time.Hour})
	if err != nil || len(res.Strikes) != 0 {
		t.Errorf("Observe after lifting: strikes %v, %v", res.Strikes, err)
	}
	if got, _ := sk.Strikes(ctx, "discord", "g", "u2", at.Add(2*time.Minute)); len(got) != 1 {
		t.Errorf("strikes of u2 = %v, want hers kept", got)
	}
}

// The wordings a CM answered from the desk are kept once each, oldest first:
// the same text for another entry is another wording.
func testFAQWordings(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	ctx := context.Background()
	if ws, err := s.FAQWordings(ctx); err != nil || len(ws) != 0 {
		t.Fatalf("new store: %v, %v; want none", ws, err)
	}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	learn := []store.FAQWording{
		{Entry: "hours", Text: "c'est ouvert lundi ?", By: "telegram:1", At: at.Add(2 * time.Minute)},
		{Entry: "delivery", Text: "vous livrez en Suisse ?", By: "telegram:2", At: at},
		{Entry: "hours", Text: "c'est ouvert lundi ?", By: "telegram:3", At: at.Add(3 * time.Minute)},
		{Entry: "contact", Text: "c'est ouvert lundi ?", By: "discord:4", At: at.Add(time.Minute)},
	}
	for _, w := range learn {
		if err := s.LearnFAQ(ctx, w); err != nil {
			t.Fatalf("learn %+v: %v", w, err)
		}
	}
	ws, err := s.FAQWordings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.FAQWording{learn[1], learn[3], learn[0]}
	if len(ws) != len(want) {
		t.Fatalf("wordings %+v, want %+v", ws, want)
	}
	for i := range want {
		if ws[i].Entry != want[i].Entry || ws[i].Text != want[i].Text || ws[i].By != want[i].By || !ws[i].At.Equal(want[i].At) {
			t.Errorf("wording %d: %+v, want %+v", i, ws[i], want[i])
		}
	}
}

// testEventHistory: a store that keeps the recent events returns them in
// order, from a time on, about as many as asked for. The memory store keeps
// none (each process keeps its own), which this skips.
func testEventHistory(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	h, ok := newStore(t).(store.EventHistory)
	if !ok {
		t.Skip("the store keeps no shared history; the process does")
	}
	at := time.Date(2026, 4, 5, 20, 0, 0, 0, time.UTC)
	var evs []bot.Event
	for i := range 5 {
		evs = append(evs, bot.Event{ID: fmt.Sprintf("e%d", i), Platform: "discord", Kind: bot.KindMessage,
			Author: bot.Author{ID: "u"}, Text: fmt.Sprintf("message %d", i), At: at.Add(time.Duration(i) * time.Minute)})
	}
	if err := h.RememberEvents(ctx, evs[:2], 1000); err != nil {
		t.Fatal(err)
	}
	if err := h.RememberEvents(ctx, evs[2:], 1000); err != nil {
		t.Fatal(err)
	}
	got, err := h.RecentEvents(ctx, at.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, ev := range got {
		ids = append(ids, ev.ID)
	}
	if !slices.Equal(ids, []string{"e1", "e2", "e3", "e4"}) || got[0].Text != "message 1" {
		t.Errorf("RecentEvents = %v, want e1 to e4", ids)
	}
}

// A topic's name is its last one, kept apart from the other spaces' and
// topics'; past MaxTopicNames in a space, the last one written is kept.
func testTopicNames(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	tk, ok := newStore(t).(store.TopicKeeper)
	if !ok {
		t.Fatal("the store keeps no topic names (store.TopicKeeper)")
	}
	for _, p := range [][3]string{{"-100", "5", "Off-topic"}, {"-100", "5", "Support"}, {"-100", "6", "News"}, {"-200", "5", "Other"}} {
		if err := tk.PutTopicName(ctx, "telegram", p[0], p[1], p[2]); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range [][3]string{{"-100", "5", "Support"}, {"-100", "6", "News"}, {"-200", "5", "Other"}, {"-100", "7", ""}} {
		if got, err := tk.TopicName(ctx, "telegram", c[0], c[1]); err != nil || got != c[2] {
			t.Errorf("TopicName(%s, %s) = %q, %v, want %q", c[0], c[1], got, err, c[2])
		}
	}
	for i := range store.MaxTopicNames + 1 {
		if err := tk.PutTopicName(ctx, "telegram", "-300", fmt.Sprint(i), fmt.Sprint("t", i)); err != nil {
			t.Fatal(err)
		}
	}
	last := fmt.Sprint(store.MaxTopicNames)
	if got, err := tk.TopicName(ctx, "telegram", "-300", last); err != nil || got != "t"+last {
		t.Errorf("the last topic past the bound = %q, %v", got, err)
	}
}

// A member's notes come back oldest first, the newest MaxNotes of them, and
// only theirs.
func testNotes(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	s := newStore(t)
	nk, ok := s.(store.NoteKeeper)
	if !ok {
		t.Fatal("the store keeps no notes (store.NoteKeeper)")
	}
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	for i := range store.MaxNotes + 2 {
		n := store.Note{Platform: "telegram", Space: "-100", Author: "7", Text: fmt.Sprintf("note %d", i), By: "telegram:1", At: at.Add(time.Duration(i) * time.Minute)}
		if err := nk.AddNote(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if err := nk.AddNote(ctx, store.Note{Platform: "telegram", Space: "-100", Author: "8", Text: "other", At: at}); err != nil {
		t.Fatal(err)
	}
	got, err := nk.Notes(ctx, "telegram", "-100", "7")
	if err != nil || len(got) != store.MaxNotes {
		t.Fatalf("notes of 7 = %d, %v; want %d", len(got), err, store.MaxNotes)
	}
	if got[0].Text != "note 2" || got[len(got)-1].Text != fmt.Sprintf("note %d", store.MaxNotes+1) || got[0].By != "telegram:1" || !got[0].At.Equal(at.Add(2*time.Minute)) {
		t.Errorf("notes of 7 = first %+v, last %+v", got[0], got[len(got)-1])
	}
	if got, _ := nk.Notes(ctx, "telegram", "-100", "9"); len(got) != 0 {
		t.Errorf("notes of 9 = %v, want none", got)
	}
}

// testLeases: a job's lease has one owner at a time, each acquisition a
// larger token, and only the current lease renews, releases or writes under
// it; a lease that runs out goes to the next owner that asks.
func testLeases(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, ok := newStore(t).(store.Leaser)
	if !ok {
		t.Fatal("the store does not grant leases (store.Leaser)")
	}
	const long = time.Minute
	mustAcquire := func(job, owner string, ttl time.Duration) store.Lease {
		t.Helper()
		l, ok, err := st.AcquireLease(ctx, job, owner, ttl)
		if err != nil || !ok {
			t.Fatalf("AcquireLease(%s, %s) = %v, %v; want it", job, owner, ok, err)
		}
		if l.Job != job || l.Owner != owner || l.Token <= 0 {
			t.Fatalf("AcquireLease(%s, %s) = %+v", job, owner, l)
		}
		return l
	}
	a := mustAcquire("telegram", "p1", long)
	if _, ok, err := st.AcquireLease(ctx, "telegram", "p2", long); ok || err != nil {
		t.Errorf("a second owner got a held lease: %v, %v", ok, err)
	}
	// HeldFor says what the lease was taken for before: it names no lease.
	if again := mustAcquire("telegram", "p1", long); again.Job != a.Job || again.Owner != a.Owner || again.Token != a.Token || again.GivenUp {
		t.Errorf("the owner asking again got %+v, want its lease %+v", again, a)
	}
	other := mustAcquire("discord-shard-0", "p2", long)
	if other.Owner != "p2" {
		t.Errorf("another job: %+v", other)
	}
	if ok, err := st.RenewLease(ctx, a, long); !ok || err != nil {
		t.Errorf("RenewLease of the current lease = %v, %v", ok, err)
	}
	if ok, err := st.AdvanceFenced(ctx, a, "offset", 10); !ok || err != nil {
		t.Errorf("AdvanceFenced under the current lease = %v, %v", ok, err)
	}
	if ok, err := st.AdvanceFenced(ctx, a, "offset", 7); !ok || err != nil {
		t.Errorf("AdvanceFenced lower = %v, %v", ok, err)
	}
	if v, err := st.Fenced(ctx, "telegram", "offset"); v != 10 || err != nil {
		t.Errorf("Fenced = %d, %v; want 10 (never lowered)", v, err)
	}
	if v, err := st.Fenced(ctx, "discord-shard-0", "offset"); v != 0 || err != nil {
		t.Errorf("Fenced of another job = %d, %v; want 0", v, err)
	}
	forged := a
	forged.Token++
	if ok, err := st.RenewLease(ctx, forged, long); ok || err != nil {
		t.Errorf("RenewLease with another token = %v, %v", ok, err)
	}
	if err := st.ReleaseLease(ctx, forged); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := st.AcquireLease(ctx, "telegram", "p2", long); ok {
		t.Fatal("a release with another token freed the lease")
	}

	// Released, the job goes to the next owner with a larger token; the old
	// lease no longer renews nor writes.
	if err := st.ReleaseLease(ctx, a); err != nil {
		t.Fatal(err)
	}
	b := mustAcquire("telegram", "p2", long)
	if b.Token <= a.Token {
		t.Errorf("token after a release %d, want more than %d", b.Token, a.Token)
	}
	if a.GivenUp || !b.GivenUp {
		t.Errorf("GivenUp of the first lease %v, of the one taken after a release %v; want false, true", a.GivenUp, b.GivenUp)
	}
	if ok, err := st.RenewLease(ctx, a, long); ok || err != nil {
		t.Errorf("RenewLease of a lost lease = %v, %v", ok, err)
	}
	if ok, err := st.AdvanceFenced(ctx, a, "offset", 20); ok || err != nil {
		t.Errorf("AdvanceFenced under a lost lease = %v, %v", ok, err)
	}
	if err := st.ReleaseLease(ctx, a); err != nil {
		t.Fatal(err)
	}
	if ok, err := st.AdvanceFenced(ctx, b, "offset", 20); !ok || err != nil {
		t.Errorf("AdvanceFenced under the new lease = %v, %v", ok, err)
	}
	if v, _ := st.Fenced(ctx, "telegram", "offset"); v != 20 {
		t.Errorf("Fenced = %d, want 20", v)
	}

	// A lease that is not renewed runs out and goes to the next owner, even
	// the one that lost it: with a new token all the same.
	short := mustAcquire("report", "p1", 20*time.Millisecond)
	// On the wall clock: a wait for a lease running out in the store, not a date.
	deadline := time.Now().Add(30 * time.Second)
	var next store.Lease
	for {
		l, ok, err := st.AcquireLease(ctx, "report", "p2", long)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			next = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a lease 20ms long was still held after 30s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if next.Token <= short.Token {
		t.Errorf("token after expiry %d, want more than %d", next.Token, short.Token)
	}
	if next.GivenUp {
		t.Error("a lease taken after the last one ran out says it was given up: its holder may still run the job")
	}
	if ok, _ := st.RenewLease(ctx, short, long); ok {
		t.Error("a lease that ran out and was taken renewed")
	}
	if err := st.ReleaseLease(ctx, next); err != nil {
		t.Fatal(err)
	}
	// Nobody holds the job now: a renewal says the lease is gone, not
	// taken by another owner.
	if ok, err := st.RenewLease(ctx, next, long); ok || !errors.Is(err, store.ErrLeaseGone) {
		t.Errorf("RenewLease of a lease nobody holds = %v, %v, want false and store.ErrLeaseGone", ok, err)
	}
	back := mustAcquire("report", "p1", long)
	if back.Token <= next.Token {
		t.Errorf("token %d, want more than %d", back.Token, next.Token)
	}
	if !back.GivenUp {
		t.Error("a lease taken after a release does not say it was given up")
	}
}

// testLeasesConcurrent: of many owners asking at once, one gets the lease.
func testLeasesConcurrent(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	st, ok := newStore(t).(store.Leaser)
	if !ok {
		t.Fatal("the store does not grant leases (store.Leaser)")
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []string
	for i := range 16 {
		owner := fmt.Sprintf("p%d", i)
		wg.Go(func() {
			_, ok, err := st.AcquireLease(ctx, "race", owner, time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				won = append(won, owner)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(won) != 1 {
		t.Errorf("owners that got the lease: %v, want one", won)
	}
}

// testLocks: a place's lock is kept once, a second one extends it (never
// shortens it) and keeps the first's settings; it is due at its Until, and
// removed only as it was read.
func testLocks(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	lk, ok := newStore(t).(store.LockKeeper)
	if !ok {
		t.Fatal("the store keeps no locks (store.LockKeeper)")
	}
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	ev := bot.Event{Platform: "discord", Space: "g1", Channel: "c1"}
	first := store.PlaceLock{Kind: bot.ActLockdown, Event: ev, Prev: `{"level":1}`, Rule: "raid", Started: at, Until: at.Add(10 * time.Minute)}
	got, isNew, err := lk.PutLock(ctx, first)
	if err != nil || !isNew || got.Prev != first.Prev {
		t.Fatalf("PutLock = %+v, %v, %v; want it new", got, isNew, err)
	}
	slow := store.PlaceLock{Kind: bot.ActSlowmode, Event: ev, Prev: "0", Started: at, Until: at.Add(time.Minute)}
	if _, isNew, err := lk.PutLock(ctx, slow); err != nil || !isNew {
		t.Fatalf("PutLock(slowmode) = %v, %v; want new (another key)", isNew, err)
	}
	again := first
	again.Prev, again.Until = `{"level":3}`, at.Add(15*time.Minute)
	got, isNew, err = lk.PutLock(ctx, again)
	if err != nil || isNew || got.Prev != first.Prev || !got.Until.Equal(again.Until) {
		t.Fatalf("PutLock(again) = %+v, %v, %v; want the first's prev, until extended", got, isNew, err)
	}
	claim := store.PlaceLock{Kind: bot.ActLockdown, Event: bot.Event{Platform: "telegram", Space: "-100"}, Started: at, Until: at.Add(time.Hour)}
	if _, isNew, err := lk.PutLock(ctx, claim); err != nil || !isNew {
		t.Fatalf("PutLock(claim) = %v, %v", isNew, err)
	}
	claim.Prev = "before"
	if got, isNew, err := lk.PutLock(ctx, claim); err != nil || isNew || got.Prev != "before" {
		t.Fatalf("PutLock(claim's prev) = %+v, %v, %v; want its prev filled", got, isNew, err)
	}
	claim.Prev = "after"
	if got, _, _ := lk.PutLock(ctx, claim); got.Prev != "before" {
		t.Errorf("a filled prev was replaced by %q", got.Prev)
	}
	shorter := first
	shorter.Until = at.Add(time.Minute)
	if got, _, _ := lk.PutLock(ctx, shorter); !got.Until.Equal(again.Until) {
		t.Errorf("a shorter lock moved Until to %v", got.Until)
	}
	due, err := lk.DueLocks(ctx, at.Add(10*time.Minute))
	if err != nil || len(due) != 1 || due[0].Kind != bot.ActSlowmode || due[0].Prev != "0" || !due[0].Until.Equal(slow.Until) || due[0].Event.Channel != "c1" {
		t.Fatalf("DueLocks(+10m) = %+v, %v; want the slow mode only", due, err)
	}
	if ok, err := lk.RemoveLock(ctx, first.Key(), first.Until); ok || err != nil {
		t.Errorf("RemoveLock with the Until before the extension = %v, %v; want kept", ok, err)
	}
	due, _ = lk.DueLocks(ctx, at.Add(15*time.Minute))
	if len(due) != 2 {
		t.Fatalf("DueLocks(+15m) = %+v, want both", due)
	}
	for _, l := range due {
		if ok, err := lk.RemoveLock(ctx, l.Key(), l.Until); !ok || err != nil {
			t.Errorf("RemoveLock(%s) = %v, %v; want removed", l.Key(), ok, err)
		}
	}
	if due, _ := lk.DueLocks(ctx, at.Add(time.Hour-time.Millisecond)); len(due) != 0 {
		t.Errorf("DueLocks after removal = %+v", due)
	}
}

// testTimedBans: one timed ban per member and space, a new one replaces it;
// due at its Until, oldest first, limited; removed only as it was read, or
// whatever its end when no end is given.
func testTimedBans(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	bk, ok := newStore(t).(store.BanKeeper)
	if !ok {
		t.Fatal("the store keeps no timed bans (store.BanKeeper)")
	}
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	ban := func(space, author string, d time.Duration) store.TimedBan {
		return store.TimedBan{Event: bot.Event{Platform: "discord", Space: space, Author: bot.Author{ID: author, Name: "n" + author}},
			Rule: "raid", Started: at, Until: at.Add(d)}
	}
	for _, b := range []store.TimedBan{ban("g1", "u1", 3*time.Hour), ban("g1", "u2", time.Hour), ban("g2", "u1", 2*time.Hour)} {
		if _, had, err := bk.PutBan(ctx, b); err != nil || had {
			t.Fatalf("PutBan(%s) = %v, %v; want new", b.Key(), had, err)
		}
	}
	again := ban("g1", "u1", 30*time.Minute)
	again.By, again.Rule = "telegram:42", "manual"
	prev, had, err := bk.PutBan(ctx, again)
	if err != nil || !had || !prev.Until.Equal(at.Add(3*time.Hour)) || prev.Rule != "raid" || prev.Event.Author.ID != "u1" {
		t.Fatalf("PutBan(again) = %+v, %v, %v; want the 3h ban it replaced", prev, had, err)
	}
	keys := func(bs []store.TimedBan) []string {
		var out []string
		for _, b := range bs {
			out = append(out, b.Key())
		}
		return out
	}
	due, err := bk.DueBans(ctx, at.Add(29*time.Minute), 0)
	if err != nil || len(due) != 0 {
		t.Fatalf("DueBans(+29m) = %v, %v; want none", keys(due), err)
	}
	due, err = bk.DueBans(ctx, at.Add(2*time.Hour), 0)
	if want := []string{"discord|g1|u1", "discord|g1|u2", "discord|g2|u1"}; err != nil || !slices.Equal(keys(due), want) {
		t.Fatalf("DueBans(+2h) = %v, %v; want %v (the replaced ban's end, oldest first)", keys(due), err, want)
	}
	if b := due[0]; b.By != "telegram:42" || b.Rule != "manual" || b.Event.Author.Name != "nu1" || !b.Until.Equal(again.Until) || !b.Started.Equal(at) {
		t.Errorf("DueBans kept %+v, want %+v", b, again)
	}
	if due, _ := bk.DueBans(ctx, at.Add(2*time.Hour), 2); !slices.Equal(keys(due), []string{"discord|g1|u1", "discord|g1|u2"}) {
		t.Errorf("DueBans(+2h, 2) = %v", keys(due))
	}
	if ok, err := bk.RemoveBan(ctx, again.Key(), at.Add(3*time.Hour)); ok || err != nil {
		t.Errorf("RemoveBan with the replaced ban's end = %v, %v; want kept", ok, err)
	}
	if ok, err := bk.RemoveBan(ctx, again.Key(), due[0].Until); !ok || err != nil {
		t.Errorf("RemoveBan as read = %v, %v; want removed", ok, err)
	}
	if ok, err := bk.RemoveBan(ctx, "discord|g2|u1", time.Time{}); !ok || err != nil {
		t.Errorf("RemoveBan whatever its end = %v, %v; want removed", ok, err)
	}
	if ok, err := bk.RemoveBan(ctx, "discord|g2|u1", time.Time{}); ok || err != nil {
		t.Errorf("RemoveBan of no ban = %v, %v; want false", ok, err)
	}
	if due, _ := bk.DueBans(ctx, at.Add(24*time.Hour), 0); !slices.Equal(keys(due), []string{"discord|g1|u2"}) {
		t.Errorf("DueBans after removals = %v, want g1|u2 only", keys(due))
	}
}

// testRemoveKeptBan: a ban is removed as it was kept, not another one with
// the same end (two bans for good), and whatever the nanoseconds of its end
// the store does not keep.
func testRemoveKeptBan(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	bk := newStore(t).(store.BanKeeper)
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	ev := bot.Event{ID: "m-1", Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1", Name: "nu1"}}
	timed := store.TimedBan{Event: ev, Rule: "raid", Started: at, Until: at.Add(time.Hour + time.Nanosecond)}
	first := store.TimedBan{Event: ev, Rule: "manual", By: "discord:42", Started: at.Add(time.Second), Until: store.ForGoodUntil}
	second := first
	second.By = "discord:43"
	for _, b := range []store.TimedBan{timed, first, second} {
		if _, _, err := bk.PutBan(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []store.TimedBan{first, timed} {
		if ok, err := bk.RemoveKeptBan(ctx, b); ok || err != nil {
			t.Errorf("RemoveKeptBan(%s's, replaced) = %v, %v; want kept", cmp.Or(b.By, b.Rule), ok, err)
		}
	}
	if kept, ok, err := bk.KeptBan(ctx, ev.Platform+"|g1|u1"); !ok || err != nil || !store.SameBan(kept, second) {
		t.Fatalf("KeptBan = %+v, %v, %v; want the second ban for good", kept, ok, err)
	}
	if ok, err := bk.RemoveKeptBan(ctx, second); !ok || err != nil {
		t.Errorf("RemoveKeptBan(the ban kept) = %v, %v; want removed", ok, err)
	}
	if _, ok, _ := bk.KeptBan(ctx, second.Key()); ok {
		t.Error("a ban removed is still kept")
	}
	if _, _, err := bk.PutBan(ctx, timed); err != nil {
		t.Fatal(err)
	}
	if ok, err := bk.RemoveKeptBan(ctx, timed); !ok || err != nil {
		t.Errorf("RemoveKeptBan(a timed ban, its end to the nanosecond) = %v, %v; want removed", ok, err)
	}
	if due, err := bk.DueBans(ctx, at.Add(24*time.Hour), 0); len(due) != 0 || err != nil {
		t.Errorf("DueBans after the removal = %+v, %v; want none", due, err)
	}
}

// testDropBans: a ban for good is never due, and dropped once kept
// store.ForGoodKept, unless replaced since by a timed ban or a later ban for
// good; a timed ban is never dropped.
func testDropBans(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	bk := newStore(t).(store.BanKeeper)
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	ban := func(author string, started time.Time, d time.Duration) store.TimedBan {
		b := store.TimedBan{Event: bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: author}}, Started: started, Until: store.ForGoodUntil}
		if d > 0 {
			b.Until = started.Add(d)
		}
		return b
	}
	for _, b := range []store.TimedBan{
		ban("old", at, 0), ban("later", at.Add(10*24*time.Hour), 0), ban("timed", at, 40*24*time.Hour),
		ban("retimed", at, 0), ban("again", at, 0),
	} {
		if _, _, err := bk.PutBan(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	// replaced by a timed ban, and by a later ban for good
	for _, b := range []store.TimedBan{ban("retimed", at.Add(time.Hour), 60*24*time.Hour), ban("again", at.Add(20*24*time.Hour), 0)} {
		if _, _, err := bk.PutBan(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	kept := func() []string {
		t.Helper()
		var out []string
		for _, a := range []string{"again", "later", "old", "retimed", "timed"} {
			if _, ok, err := bk.KeptBan(ctx, "discord|g1|"+a); err != nil {
				t.Fatal(err)
			} else if ok {
				out = append(out, a)
			}
		}
		return out
	}
	if n, err := bk.DropBans(ctx, at.Add(store.ForGoodKept-time.Millisecond), 0); n != 0 || err != nil {
		t.Errorf("DropBans before %s = %d, %v; want none dropped", store.ForGoodKept, n, err)
	}
	if due, err := bk.DueBans(ctx, at.Add(store.ForGoodKept), 0); err != nil || len(due) != 0 {
		t.Errorf("DueBans = %v, %v; want none", due, err)
	}
	if n, err := bk.DropBans(ctx, at.Add(store.ForGoodKept), 0); n != 1 || err != nil {
		t.Errorf("DropBans at %s = %d, %v; want the old one dropped", store.ForGoodKept, n, err)
	}
	if got, want := kept(), []string{"again", "later", "retimed", "timed"}; !slices.Equal(got, want) {
		t.Errorf("kept after the first drop: %v, want %v", got, want)
	}
	if n, err := bk.DropBans(ctx, at.Add(45*24*time.Hour), 0); n != 1 || err != nil {
		t.Errorf("DropBans at 45 days = %d, %v; want the later one dropped", n, err)
	}
	if got, want := kept(), []string{"again", "retimed", "timed"}; !slices.Equal(got, want) {
		t.Errorf("kept after the second drop: %v, want %v", got, want)
	}
	if n, err := bk.DropBans(ctx, at.Add(50*24*time.Hour), 0); n != 1 || err != nil {
		t.Errorf("DropBans at 50 days = %d, %v; want the one banned again for good dropped", n, err)
	}
	if got, want := kept(), []string{"retimed", "timed"}; !slices.Equal(got, want) {
		t.Errorf("kept after the third drop: %v, want %v (timed bans are lifted, not dropped)", got, want)
	}
	if due, err := bk.DueBans(ctx, at.Add(100*24*time.Hour), 0); err != nil || len(due) != 2 {
		t.Errorf("DueBans at 100 days = %v, %v; want the two timed bans", due, err)
	}
}

// testBansThePlatformEnds: a ban the platform ends (Ends) is never due,
// removed as read (by its Until, not a ban for good's), and dropped at its
// end.
func testBansThePlatformEnds(t *testing.T, newStore func(t *testing.T) store.Store) {
	ctx := context.Background()
	bk := newStore(t).(store.BanKeeper)
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	ends := func(author string) store.TimedBan {
		return store.TimedBan{Event: bot.Event{Platform: "telegram", Space: "-100", Author: bot.Author{ID: author}},
			Started: at, Until: at.Add(30*24*time.Hour + 123456789), Ends: true}
	}
	for _, a := range []string{"u1", "u2"} {
		if _, _, err := bk.PutBan(ctx, ends(a)); err != nil {
			t.Fatal(err)
		}
	}
	if due, err := bk.DueBans(ctx, at.Add(100*24*time.Hour), 0); err != nil || len(due) != 0 {
		t.Errorf("DueBans = %+v, %v; want none: the platform ends them", due, err)
	}
	if b, ok, err := bk.KeptBan(ctx, ends("u1").Key()); err != nil || !ok || !b.Ends || b.Until.Sub(ends("u1").Until).Abs() >= time.Millisecond {
		t.Errorf("KeptBan = %+v, %v, %v", b, ok, err)
	}
	if ok, err := bk.RemoveBan(ctx, ends("u1").Key(), at.Add(time.Hour)); ok || err != nil {
		t.Errorf("RemoveBan with another end = %v, %v; want kept", ok, err)
	}
	// A ban for good's end (a ban for good that failed, put back) is not
	// this ban's: the ban the platform ends, given since, stays.
	if ok, err := bk.RemoveBan(ctx, ends("u1").Key(), store.ForGoodUntil); ok || err != nil {
		t.Errorf("RemoveBan with a ban for good's end = %v, %v; want kept", ok, err)
	}
	if ok, err := bk.RemoveBan(ctx, ends("u1").Key(), ends("u1").Until); !ok || err != nil {
		t.Errorf("RemoveBan with its end = %v, %v; want removed", ok, err)
	}
	if n, err := bk.DropBans(ctx, at.Add(30*24*time.Hour), 0); n != 0 || err != nil {
		t.Errorf("DropBans before its end = %d, %v; want none", n, err)
	}
	if n, err := bk.DropBans(ctx, at.Add(31*24*time.Hour), 0); n != 1 || err != nil {
		t.Errorf("DropBans after its end = %d, %v; want it dropped", n, err)
	}
}

// testVerifications checks the pending verifications of new members: kept
// per member, due by deadline, and taken once however many try.
func testVerifications(t *testing.T, newStore func(t *testing.T) store.Store) {
	s := newStore(t)
	v, ok := s.(bot.Verifications)
	if !ok {
		t.Fatal("the store keeps no verifications (bot.Verifications)")
	}
	ctx := context.Background()
	t0 := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for i, user := range []string{"7", "8", "9"} {
		p := bot.Pending{Platform: "telegram", Space: "-100", User: user, Name: "n" + user, Prompt: "5" + user,
			Deadline: t0.Add(time.Duration(3-i) * time.Minute)}
		if err := v.PutPending(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.PutPending(ctx, bot.Pending{Platform: "discord", Space: "g", User: "7", Deadline: t0}); err != nil {
		t.Fatal(err)
	}
	if ok, err := v.IsPending(ctx, "telegram", "-100", "8"); err != nil || !ok {
		t.Errorf("IsPending(8) = %v, %v, want true", ok, err)
	}
	if ok, err := v.IsPending(ctx, "telegram", "-200", "8"); err != nil || ok {
		t.Errorf("IsPending in another space = %v, %v, want false", ok, err)
	}
	due, err := v.DuePending(ctx, "telegram", t0.Add(2*time.Minute), 10)
	if err != nil || len(due) != 2 || due[0].User != "9" || due[1].User != "8" || due[1].Prompt != "58" || !due[1].Deadline.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("DuePending = %+v, %v, want 9 then 8", due, err)
	}
	if due, _ := v.DuePending(ctx, "telegram", t0.Add(time.Hour), 1); len(due) != 1 || due[0].User != "9" {
		t.Errorf("DuePending max 1 = %+v, want 9", due)
	}

	var wg sync.WaitGroup
	var taken atomic.Int32
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if p, ok, err := v.TakePending(ctx, "telegram", "-100", "8"); err == nil && ok && p.Name == "n8" {
				taken.Add(1)
			}
		}()
	}
	wg.Wait()
	if taken.Load() != 1 {
		t.Errorf("taken %d times, want once", taken.Load())
	}
	if ok, _ := v.IsPending(ctx, "telegram", "-100", "8"); ok {
		t.Error("still pending once taken")
	}
	if due, _ := v.DuePending(ctx, "telegram", t0.Add(time.Hour), 10); len(due) != 2 || due[0].User != "9" || due[1].User != "7" {
		t.Errorf("DuePending after a take = %+v, want 9 and 7", due)
	}
}

// testMemberLock: one holder of a member's lock at a time; another member's
// is apart; a waiter gets it once it is let go, and gives up at its bound
// with ErrMemberBusy; a release called twice lets go once.
func testMemberLock(t *testing.T, newStore func(*testing.T) store.Store) {
	ml, ok := newStore(t).(store.MemberLocker)
	if !ok {
		t.Skip("the store offers no member's lock")
	}
	ctx := context.Background()
	a, b := "discord|g1|u1", "discord|g1|u2"
	unlockA, err := ml.LockMember(ctx, a, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ml.LockMember(ctx, a, 50*time.Millisecond); !errors.Is(err, store.ErrMemberBusy) {
		t.Fatalf("a second lock of a held member = %v, want ErrMemberBusy", err)
	}
	unlockB, err := ml.LockMember(ctx, b, time.Second)
	if err != nil {
		t.Fatalf("the lock of another member, while the first is held: %v", err)
	}
	unlockB()
	got := make(chan error, 1)
	var second func()
	go func() {
		var err error
		second, err = ml.LockMember(ctx, a, time.Minute)
		got <- err
	}()
	unlockA()
	if err := <-got; err != nil {
		t.Fatalf("a waiter once the lock was let go: %v", err)
	}
	// the first holder's release, again, is not the second's
	unlockA()
	if _, err := ml.LockMember(ctx, a, 50*time.Millisecond); !errors.Is(err, store.ErrMemberBusy) {
		t.Fatalf("a lock while the waiter holds it, after the first holder released twice = %v, want ErrMemberBusy", err)
	}
	second()
	third, err := ml.LockMember(ctx, a, time.Second)
	if err != nil {
		t.Fatalf("the lock once let go by every holder: %v", err)
	}
	third()
	// A context that ends while waiting ends the wait.
	hold, err := ml.LockMember(ctx, a, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer hold()
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ml.LockMember(cctx, a, time.Minute); err == nil || errors.Is(err, store.ErrMemberBusy) {
		t.Errorf("a lock waited for with a context ended = %v, want the context's error", err)
	}
}

// testBansOn: the ban book read through one platform at a time, a page at a
// time, returns each ban of that platform kept for the whole read, and none
// of another platform's.
func testBansOn(t *testing.T, newStore func(*testing.T) store.Store) {
	st := newStore(t)
	bl, ok := st.(store.BanLister)
	if !ok {
		t.Fatal("the store cannot list its ban book (store.BanLister)")
	}
	bk := st.(store.BanKeeper)
	ctx := context.Background()
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	want := map[string]bool{}
	for i := range 230 {
		platform, space := "facebook", "p1"
		if i%4 == 3 {
			platform, space = "discord", "g1"
		}
		ev := bot.Event{Platform: platform, Space: space, Author: bot.Author{ID: fmt.Sprint(6000000 + i)}}
		b := store.TimedBan{Event: ev, Rule: "scam", Started: at, Until: at.Add(time.Duration(i+1) * time.Hour)}
		if i%5 == 0 {
			b.Until = store.ForGoodUntil
		}
		if _, _, err := bk.PutBan(ctx, b); err != nil {
			t.Fatal(err)
		}
		if platform == "facebook" {
			want[b.Key()] = true
		}
	}
	got := map[string]bool{}
	cursor, calls := "", 0
	for {
		bans, next, err := bl.BansOn(ctx, "facebook", cursor, 40)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if calls > 1000 {
			t.Fatal("the read never ends")
		}
		for _, b := range bans {
			if b.Event.Platform != "facebook" {
				t.Fatalf("a ban of %s among facebook's: %+v", b.Event.Platform, b)
			}
			if kept, _, _ := bk.KeptBan(ctx, b.Key()); !store.SameBan(kept, b) {
				t.Errorf("listed %+v, kept %+v", b, kept)
			}
			got[b.Key()] = true
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if len(got) != len(want) {
		t.Errorf("%d facebook bans read, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("ban %s not read", k)
		}
	}
	if calls < 2 {
		t.Errorf("%d bans read in one call of 40", len(got))
	}
	// a page may be empty before the end (Redis's SCAN): read through
	for cursor, n := "", 0; ; n++ {
		bans, next, err := bl.BansOn(ctx, "telegram", cursor, 40)
		if err != nil || len(bans) != 0 || n > 1000 {
			t.Fatalf("telegram's bans = %d, %v; want none", len(bans), err)
		}
		if next == "" {
			break
		}
		cursor = next
	}
}

// testCaseEdited: a case keeps the rules that sent its message to the desk,
// and an amendment shows its message edited, then deleted, wherever it is
// read; an amendment for another reason that gives the edit again keeps it.
func testCaseEdited(t *testing.T, newStore func(*testing.T) store.Store) {
	ctx := context.Background()
	st := newStore(t)
	c := newCase("m-1", 0)
	c.Rules = []string{"links", "invites"}
	a, err := st.OpenCase(ctx, c)
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	if got, err := st.Case(ctx, a.ID); err != nil || !slices.Equal(got.Rules, c.Rules) || got.Edited != nil {
		t.Fatalf("case opened: rules %v, edited %v (%v); want %v, none", got.Rules, got.Edited, err, c.Rules)
	}
	ed := &bot.Edited{At: t0.Add(time.Minute), Text: "free nitro gift", Reason: "scam: gift scam", Rules: []string{"scam"}, Edits: 1}
	am := store.CaseAmendment{Reason: a.Reason, Suggested: a.Suggested, NotDone: a.NotDone, Edited: ed}
	if err := st.AmendCase(ctx, a.ID, am); err != nil {
		t.Fatalf("AmendCase: %v", err)
	}
	want := a
	want.Edited = ed
	got, err := st.Case(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "edited case", got, want)
	pending, err := st.PendingCases(ctx)
	if err != nil || len(pending) != 1 {
		t.Fatalf("pending cases = %v, %v; want 1", ids(pending), err)
	}
	sameJSON(t, "edited case, pending", pending[0], want)
	deleted := *ed
	deleted.Deleted = t0.Add(2 * time.Minute)
	am.Edited = &deleted
	if err := st.AmendCase(ctx, a.ID, am); err != nil {
		t.Fatalf("AmendCase: %v", err)
	}
	want.Edited = &deleted
	if got, err = st.Case(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "edited case, deleted", got, want)
	open, err := st.Cases(ctx, store.CaseOpen)
	if err != nil || len(open) != 1 {
		t.Fatalf("open cases = %v, %v; want 1", ids(open), err)
	}
	sameJSON(t, "edited case, deleted, listed", open[0], want)
}
