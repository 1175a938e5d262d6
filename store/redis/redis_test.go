package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
	"github.com/vigie-bot/vigie/store/storetest"
)

var prefixes atomic.Int64

// newPrefix gives every store of a run its own keys, so the suite can share one
// Redis (and VIGIE_TEST_REDIS_URL can point at a Redis used for other things).
// night is the date of the events and cases of tests that need one but test
// nothing of it: what the store does with the time is tested on fixed dates.
var night = time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)

func newPrefix() string {
	return fmt.Sprintf("vigietest%d-%d", os.Getpid(), prefixes.Add(1))
}

func open(t *testing.T, url string, opts ...redis.Option) *redis.Store {
	t.Helper()
	opts = append([]redis.Option{redis.WithPrefix(newPrefix()), redis.WithClaimIdle(time.Hour)}, opts...)
	return redistest.Open(t, url, opts...)
}

func TestContract(t *testing.T) {
	url := redistest.URL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, url) })
}

func TestOpenCap(t *testing.T) {
	url := redistest.URL(t)
	storetest.RunOpenCap(t, func(t *testing.T, n int) store.Store { return open(t, url, redis.WithOpenCaseCap(n)) })
}

// TestContractSlotGroups runs the contract on one server with the cluster's way of
// splitting an observation by hash slot, where dedupe only guards the author's
// slot and the other counters rely on the event id being their member.
func TestContractSlotGroups(t *testing.T) {
	url := redistest.URL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, url, redis.WithCluster(true)) })
}

// TestContractAutoPipeline runs the contract through go-redis's auto-pipelining.
func TestContractAutoPipeline(t *testing.T) {
	url := redistest.URL(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, url, redis.WithAutoPipeline()) })
}

func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := redistest.StartCluster(t)
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, c.URL()) })
	t.Run("AutoPipeline", func(t *testing.T) {
		storetest.Run(t, func(t *testing.T) store.Store { return open(t, c.URL(), redis.WithAutoPipeline()) })
	})

	t.Run("slots as Redis computes them", func(t *testing.T) {
		c := goredis.NewClient(&goredis.Options{Addr: c.Nodes[0].Addr()})
		defer c.Close()
		for _, key := range []string{"foo", "vigie:{discord:g:u-7}:seen", "{user1000}.following", "a{}b", "x{y", "é{ü}"} {
			want, err := c.ClusterKeySlot(context.Background(), key).Result()
			if err != nil {
				t.Fatal(err)
			}
			if got := redis.SlotOf(key); int64(got) != want {
				t.Errorf("slot of %q = %d, want %d", key, got, want)
			}
		}
	})
	t.Run("keys spread over the nodes", func(t *testing.T) {
		st := open(t, c.URL())
		ctx := context.Background()
		for i := range 50 {
			author := fmt.Sprintf("u-%d", i)
			_, err := st.Observe(ctx, store.Observation{At: night, Platform: "discord", Space: "g",
				Author: author, EventID: fmt.Sprint(i), StrikeWindow: time.Hour,
				Counters: []store.CounterOp{{Name: "msgs", Key: author, Window: time.Minute, Incr: true},
					{Name: "raid", Key: "g", Window: time.Minute, Incr: true}}})
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, addr := range c.Addrs() {
			n, err := goredis.NewClient(&goredis.Options{Addr: addr}).DBSize(ctx).Result()
			if err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				t.Errorf("node %s holds no key", addr)
			}
		}
	})
}

func TestOpenURL(t *testing.T) {
	tests := []struct {
		url     string
		want    string // type of client, or error text
		wantErr bool
	}{
		{url: "redis://127.0.0.1:6390/2", want: "*redis.Client"},
		{url: "rediss://user:secret@127.0.0.1:6390", want: "*redis.Client"},
		{url: "redis://127.0.0.1:7000?addr=127.0.0.1:7001&addr=127.0.0.1:7002", want: "*redis.ClusterClient"},
		{url: "redis+cluster://127.0.0.1:7000", want: "*redis.ClusterClient"},
		{url: "rediss+cluster://127.0.0.1:7000", want: "*redis.ClusterClient"},
		{url: "redis://127.0.0.1:26379/0?master_name=mymaster", want: "*redis.Client"},
		{url: "redis+sentinel://127.0.0.1:26379?master_name=mymaster&addr=127.0.0.1:26380", want: "*redis.Client"},
		{url: "redis+sentinel://127.0.0.1:26379", want: "sentinel needs master_name", wantErr: true},
		{url: "http://127.0.0.1:6379", want: "scheme must be redis or rediss", wantErr: true},
		// A host and port alone, as redis-cli takes them.
		{url: "localhost:6379", want: `redis url "localhost:6379": scheme must be redis or rediss, optionally +cluster or +sentinel: write it like redis://127.0.0.1:6379/0`, wantErr: true},
		{url: "redis+ring://127.0.0.1:6379", want: `unknown mode "ring"`, wantErr: true},
		{url: "redis://u:hunter2@127.0.0.1:6379?bogus=1", want: "xxxxx", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			c, err := redis.NewClient(tt.url)
			if tt.wantErr {
				if err == nil {
					c.Close()
					t.Fatalf("no error, want %q", tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q: want it to say %q and hide passwords", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := fmt.Sprintf("%T", c); got != tt.want {
				t.Errorf("client %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := redis.Open("redis://127.0.0.1:1", redis.WithPrefix("a{b}")); err == nil {
		t.Error("a prefix with braces was accepted")
	}
}

// TestProtocol: the client speaks RESP2 unless the URL asks for RESP3.
func TestProtocol(t *testing.T) {
	url := redistest.URL(t)
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	for _, tt := range []struct{ url, want string }{
		{url, "resp=2"},
		{url + sep + "protocol=3", "resp=3"},
	} {
		c, err := redis.NewClient(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Do(context.Background(), "client", "info").Text()
		c.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Fields(info), tt.want) {
			t.Errorf("%s: CLIENT INFO %q, want %s", tt.url, info, tt.want)
		}
	}
}

// TestOneRoundTrip checks that an event costs one round trip, on one server and on
// a cluster where its keys span several slots.
func TestOneRoundTrip(t *testing.T) {
	url := redistest.URL(t)
	tests := []struct {
		name string
		opts []redis.Option
	}{
		{"one script", nil},
		{"a script per slot", []redis.Option{redis.WithCluster(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := open(t, url, tt.opts...)
			ctx := context.Background()
			at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
			o := store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-1", EventID: "m-1",
				StrikeWindow: time.Hour, Counters: []store.CounterOp{
					{Name: "msgs", Key: "u-1", Window: time.Minute, Incr: true},
					{Name: "raid", Key: "g", Window: time.Minute, Incr: true},
					{Name: "chan", Key: "general", Window: time.Minute},
				}}
			// The first call may load the script (EVALSHA, then EVAL).
			if _, err := st.Observe(ctx, o); err != nil {
				t.Fatal(err)
			}
			before := st.RoundTrips()
			const n = 20
			for i := range n {
				o.EventID = fmt.Sprint("m-", i+2)
				o.At = at.Add(time.Duration(i) * time.Second)
				if _, err := st.Observe(ctx, o); err != nil {
					t.Fatal(err)
				}
			}
			if got := st.RoundTrips() - before; got != n {
				t.Errorf("%d round trips for %d events, want one each", got, n)
			}
		})
	}
}

// TestScriptFlushed checks the fallback to EVAL when Redis forgot the scripts.
func TestScriptFlushed(t *testing.T) {
	t.Run("plain", func(t *testing.T) { testScriptFlushed(t) })
	t.Run("autopipeline", func(t *testing.T) { testScriptFlushed(t, redis.WithAutoPipeline()) })
}

func testScriptFlushed(t *testing.T, opts ...redis.Option) {
	srv := redistest.Start(t)
	st := open(t, srv.URL(), opts...)
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	o := store.Observation{At: at, Platform: "p", Author: "a",
		Counters: []store.CounterOp{{Name: "n", Key: "a", Window: time.Minute, Incr: true}}}
	if _, err := st.Observe(ctx, o); err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	if err := c.ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	res, err := st.Observe(ctx, o)
	if err != nil {
		t.Fatalf("after SCRIPT FLUSH: %v", err)
	}
	if res.Counts[0] != 2 {
		t.Errorf("count = %d, want 2", res.Counts[0])
	}
}

// TestPendingAcrossProcesses checks the desk's delivery: a case handed to a
// process that died comes back, to it after a restart or to another after
// ClaimIdle, and never to two live processes at once.
func TestPendingAcrossProcesses(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	mk := func(consumer string, idle time.Duration) *redis.Store {
		return redistest.Open(t, url, redis.WithPrefix(prefix), redis.WithConsumer(consumer), redis.WithClaimIdle(idle))
	}
	ctx := context.Background()
	a, b := mk("a", time.Hour), mk("b", time.Hour)
	c1, err := a.OpenCase(ctx, store.Case{Reason: "one", Opened: night})
	if err != nil {
		t.Fatal(err)
	}
	got := func(s *redis.Store) []string { return pendingIDs(t, s) }
	if ids := got(a); len(ids) != 1 || ids[0] != c1.ID {
		t.Fatalf("a got %v, want [%s]", ids, c1.ID)
	}
	if ids := got(b); len(ids) != 0 {
		t.Errorf("b got %v while a holds them", ids)
	}
	// a "crashes" and comes back under the same name: the case is still its own.
	a2 := mk("a", time.Hour)
	if ids := got(a2); len(ids) != 1 {
		t.Errorf("a after restart got %v, want [%s]", ids, c1.ID)
	}
	// a never comes back; c takes over once the case was idle for longer than ClaimIdle.
	c := mk("c", time.Millisecond)
	time.Sleep(5 * time.Millisecond)
	if ids := got(c); len(ids) != 1 || ids[0] != c1.ID {
		t.Errorf("c got %v, want [%s] taken over", ids, c1.ID)
	}
	if err := c.AckCase(ctx, c1.ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	for name, s := range map[string]*redis.Store{"a": a2, "b": b, "c": c} {
		if ids := got(s); len(ids) != 0 {
			t.Errorf("%s got %v after the ack", name, ids)
		}
	}
}

// TestPendingTwoStoresOfOneProcess: two vigie in one process (or two
// containers with the host's name, both pid 1) on one Redis, each with the
// default consumer name: a case handed to one, and being posted there, is
// not handed to the other too. Before, both had the name host-pid, and the
// other read the first one's case as its own and posted it again: two cards
// of one case on the desk (TestCardEditedByTheInstanceThatDecides saw the
// card edited twice, under load).
func TestPendingTwoStoresOfOneProcess(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	mk := func() *redis.Store {
		return redistest.Open(t, url, redis.WithPrefix(prefix))
	}
	ctx := context.Background()
	a, b := mk(), mk()
	c1, err := a.OpenCase(ctx, store.Case{Reason: "one", Opened: night})
	if err != nil {
		t.Fatal(err)
	}
	got := func(s *redis.Store) []string { return pendingIDs(t, s) }
	if ids := got(a); len(ids) != 1 || ids[0] != c1.ID {
		t.Fatalf("a got %v, want [%s]", ids, c1.ID)
	}
	if ids := got(b); len(ids) != 0 {
		t.Errorf("b got %v while a holds it, not acknowledged yet; want none", ids)
	}
	if ids := got(a); len(ids) != 1 || ids[0] != c1.ID {
		t.Errorf("a, trying again, got %v; want [%s], still its own", ids, c1.ID)
	}
}

func TestCounterCap(t *testing.T) {
	st := open(t, redistest.URL(t), redis.WithMaxPerKey(5))
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var last int64
	for i := range 20 {
		res, err := st.Observe(context.Background(), store.Observation{At: t0.Add(time.Duration(i) * time.Second),
			Platform: "p", Author: "a", Counters: []store.CounterOp{{Name: "n", Key: "k", Window: time.Hour, Incr: true}}})
		if err != nil {
			t.Fatal(err)
		}
		last = res.Counts[0]
	}
	if last != 5 {
		t.Errorf("count = %d, want the cap 5", last)
	}
}

// TestKeysExpire checks that every key the store writes has a TTL, and that an
// active counter's expiry is pushed once its refresh period is over (and not on
// every event within it).
func TestKeysExpire(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	st := redistest.Open(t, url, redis.WithPrefix(prefix))
	c, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	observe := func(id string, at time.Duration) {
		t.Helper()
		_, err := st.Observe(ctx, store.Observation{At: t0.Add(at), Platform: "discord", Space: "g", Author: "u-1",
			EventID: id, StrikeWindow: time.Hour, Counters: []store.CounterOp{
				{Name: "msgs", Key: "u-1", Window: 10 * time.Second, Incr: true},
				{Name: "raid", Key: "g", Window: time.Minute, Incr: true},
				{Name: "chan", Key: "general", Window: time.Minute},
			}})
		if err != nil {
			t.Fatal(err)
		}
	}
	observe("m-1", 0)
	if err := st.AddStrike(ctx, store.Strike{Platform: "discord", Space: "g", Author: "u-1", At: t0, Rule: "insult", TTL: time.Hour}); err != nil {
		t.Fatal(err)
	}
	opened, err := st.OpenCase(ctx, store.Case{Reason: "r", Opened: t0})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.DecideCase(ctx, opened.ID, "keep", "telegram:1", "", t0); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{At: t0}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"m-1", "m-2"} {
		if err := st.Begin(ctx, store.JournalEntry{Key: "discord:" + id, At: t0, Begun: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Unfinished(ctx, t0.Add(time.Minute), t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PendingCases(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := c.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) < 11 {
		t.Errorf("keys %q: want at least seen, strikes, two counters, case seq, case, index, stream, audit, journal entries, stamps, tries", keys)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 0 {
			t.Errorf("key %s has no TTL (%v)", k, ttl)
		}
	}

	// A 10s window is refreshed every minute of events (the shortest period): it
	// lives 1m10s to 2m10s past an event. The ids (a day by default) follow it,
	// a minute longer than a day.
	msgs, seen := prefix+":{discord:g:u-1}:c:msgs", prefix+":{discord:g:u-1}:seen"
	ttl := func(key string) time.Duration {
		t.Helper()
		d, err := c.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if d := ttl(msgs); d <= 70*time.Second || d > 130*time.Second {
		t.Errorf("msgs TTL = %v after the first event, want within (1m10s, 2m10s]", d)
	}
	if d := ttl(seen); d <= 72*time.Hour || d > 72*time.Hour+time.Minute {
		t.Errorf("seen TTL = %v after the first event, want within (72h, 72h1m]", d)
	}
	// Shorten them as if time had passed: a second event in the same period
	// leaves them, the first event of the next period pushes them again.
	for _, k := range []string{msgs, seen} {
		if err := c.PExpire(ctx, k, 5*time.Second).Err(); err != nil {
			t.Fatal(err)
		}
	}
	observe("m-2", time.Second)
	if d := ttl(msgs); d > 5*time.Second {
		t.Errorf("msgs TTL = %v after an event in the same period, want it left at 5s or less", d)
	}
	if d := ttl(seen); d > 5*time.Second {
		t.Errorf("seen TTL = %v after an event in the same period, want it left at 5s or less", d)
	}
	observe("m-3", 61*time.Second)
	if d := ttl(msgs); d <= 10*time.Second {
		t.Errorf("msgs TTL = %v after an event in the next period, want it pushed past 10s", d)
	}
	if d := ttl(seen); d <= 24*time.Hour {
		t.Errorf("seen TTL = %v after an event in the next period, want it pushed past 24h", d)
	}
}

// TestCardsExpireWithCase: the places of a case's cards are fields of its
// hash, which expires with the case; a card recorded after it expired does
// not make it again (a hash without expiry).
func TestCardsExpireWithCase(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix))
	c, err := redis.NewClient(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	ctx := context.Background()
	opened, err := st.OpenCase(ctx, store.Case{Reason: "r", Opened: time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	before, err := c.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	card := bot.CardRef{Platform: "telegram", Chat: "-100123", Message: "42"}
	if err := st.AddCard(ctx, opened.ID, card); err != nil {
		t.Fatal(err)
	}
	after, err := c.Keys(ctx, prefix+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("keys %q after a card, %q before: want the card in the case's hash", after, before)
	}
	hash := prefix + ":{cases}:" + opened.ID
	if ttl, err := c.PTTL(ctx, hash).Result(); err != nil || ttl <= 0 {
		t.Errorf("case hash TTL = %v, %v after a card: want it still expiring", ttl, err)
	}
	// As if it had expired.
	if err := c.Del(ctx, hash).Err(); err != nil {
		t.Fatal(err)
	}
	if err := st.AddCard(ctx, opened.ID, card); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("AddCard on an expired case: %v, want ErrNotFound", err)
	}
	if n, err := c.Exists(ctx, hash).Result(); err != nil || n != 0 {
		t.Errorf("the expired case's hash exists again (%d, %v)", n, err)
	}
	if cards, err := st.CaseCards(ctx, opened.ID); err != nil || len(cards) != 0 {
		t.Errorf("cards of an expired case = %v, %v; want none", cards, err)
	}
}

// TestQueuedWritesLost checks that a write queued by the auto-pipeline and
// not taken by Redis is accounted for, not silently gone.
func TestQueuedWritesLost(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	if err := st.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: "a", At: at}); err != nil {
		t.Fatal(err)
	}
	// Read back: the queued strike is in Redis before the read.
	res, err := st.Observe(ctx, store.Observation{At: at.Add(time.Second), Platform: "p", Space: "s", Author: "a", StrikeWindow: time.Hour})
	if err != nil || len(res.Strikes) != 1 {
		t.Fatalf("strikes after a queued AddStrike = %v, %v; want one", res.Strikes, err)
	}
	srv.Stop()
	if err := st.AddStrike(ctx, store.Strike{Platform: "p", Space: "s", Author: "a", At: at}); err != nil {
		t.Errorf("AddStrike queued = %v, want nil: Redis answers later", err)
	}
	if err := st.AppendAudit(ctx, store.AuditEntry{At: at}); err != nil {
		t.Errorf("AppendAudit queued = %v, want nil", err)
	}
	st.Close() // sends what is queued
	if n := st.LostWrites(); n != 2 {
		t.Errorf("LostWrites = %d with Redis stopped, want 2", n)
	}
}

// TestGivenUp checks that an observation whose caller gave up before its
// pipeline left is not made: the event, reported as not judged, is not a
// duplicate when it comes again.
func TestGivenUp(t *testing.T) {
	st := open(t, redistest.URL(t), redis.WithAutoPipeline())
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	o := store.Observation{At: at, Platform: "discord", Space: "g", Author: "u-1", EventID: "m-1",
		Counters: []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Minute, Incr: true}}}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Observe(ctx, o); err == nil {
		t.Fatal("Observe with a cancelled context = nil error")
	}
	res, err := st.Observe(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicate || res.Counts[0] != 1 {
		t.Errorf("after a given-up observation: %+v, want a first event counted once", res)
	}
}

// TestGroupedLatest checks the ids a grouped case keeps: ids with quotes,
// commas and backslashes come back as they were, the last store.GroupLatest
// of them.
func TestGroupedLatest(t *testing.T) {
	url := redistest.URL(t)
	st := open(t, url)
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	hit := func(id string, i int) store.Case {
		t.Helper()
		got, err := st.OpenCase(ctx, store.Case{Opened: t0.Add(time.Duration(i) * time.Second), Rule: "flood", Reason: "r",
			Event: bot.Event{ID: id, Platform: "discord", Space: "g", Channel: "general", Author: bot.Author{ID: "u-1"}, At: t0}})
		if err != nil {
			t.Fatalf("OpenCase %q: %v", id, err)
		}
		return got
	}
	first := hit("m-0", 0)
	var ids []string
	for i := 1; i <= 25; i++ {
		ids = append(ids, fmt.Sprintf(`m-%d","x\%d"`, i, i))
	}
	// Plain ids after them, then an odd one among plain ones: the script
	// adds plain ids as text, and odd ones (or any to a list holding one)
	// through cjson.
	for i := 26; i <= 50; i++ {
		ids = append(ids, fmt.Sprintf("m-%d-é", i))
	}
	ids = append(ids, "m-\t\"")
	for i := 52; i <= 80; i++ {
		ids = append(ids, fmt.Sprintf("m-%d", i))
	}
	var last store.Case
	var want []string
	for i, id := range ids {
		last = hit(id, i+1)
		want = ids[max(0, i+1-store.GroupLatest) : i+1]
		if last.ID != first.ID || !slices.Equal(last.Latest, want) {
			t.Fatalf("after %q: case %s latest = %q, want %s with %q", id, last.ID, last.Latest, first.ID, want)
		}
	}
	got, err := st.Case(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Latest, want) || got.Count != len(ids)+1 {
		t.Errorf("read back: count %d, latest %q; want %d, %q", got.Count, got.Latest, len(ids)+1, want)
	}
}

// TestParseLatest checks the fast reading of a case's latest ids against
// encoding/json's.
func TestParseLatest(t *testing.T) {
	for _, l := range []string{`[""]`, `["a"]`, `["a","b"]`, `["a","","b"]`, `["a", "b"]`, `["a\"b","c"]`,
		`["a\/b"]`, `["é","ü"]`, "[\"\xff\"]", "[\"a\tb\"]", `["a","b",]`, `[]`, `["a"`, `["a"]x`,
		`["","a"]`, `["a",""]`, `["a",",",""]`, `["a",","b"]`, `["a""]`, `["a"",""]`, `[""","a"]`} {
		var want []string
		wantErr := json.Unmarshal([]byte(l), &want)
		got, err := redis.ParseLatest(l)
		if (err != nil) != (wantErr != nil) || !slices.Equal(got, want) {
			t.Errorf("ParseLatest(%q) = %q, %v; encoding/json: %q, %v", l, got, err, want, wantErr)
		}
	}
}

// TestJoinedCaseJSON: a hit grouped into a case answers the case, whose JSON
// the open script leaves out when vigie may know it. A process that did not
// open the case asks for it; one that did is not fooled by the case opened
// after Redis lost its keys (numbered from 1 again, in another epoch).
func TestJoinedCaseJSON(t *testing.T) {
	url := redistest.URL(t)
	prefix := newPrefix()
	a, b := open(t, url, redis.WithPrefix(prefix)), open(t, url, redis.WithPrefix(prefix))
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	hit := func(st *redis.Store, id, text string) store.Case {
		t.Helper()
		got, err := st.OpenCase(ctx, store.Case{Opened: t0, Rule: "flood", Reason: "r",
			Event: bot.Event{ID: id, Platform: "discord", Space: "g", Channel: "general", Author: bot.Author{ID: "u-1"}, Text: text, At: t0}})
		if err != nil {
			t.Fatalf("OpenCase %q: %v", id, err)
		}
		return got
	}
	first := hit(a, "m-1", "first")
	for _, st := range []*redis.Store{b, a, b} {
		got := hit(st, "m-"+strconv.Itoa(first.Count+1), "later")
		if got.ID != first.ID || got.Event.Text != "first" || got.Event.ID != "m-1" {
			t.Fatalf("joined: %s, event %q %q; want %s with m-1's", got.ID, got.Event.ID, got.Event.Text, first.ID)
		}
		first.Count = got.Count
	}
	if first.Count != 4 {
		t.Errorf("count %d, want 4", first.Count)
	}

	// Redis loses the keys; the next case is numbered from 1 again.
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()
	keys, err := c.Keys(ctx, prefix+":*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	if err := c.Del(ctx, keys...).Err(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond) // another stream entry id, as any later case has
	again := hit(b, "m-10", "second")
	if again.ID == first.ID || store.CaseNumber(again.ID) != store.CaseNumber(first.ID) {
		t.Fatalf("renumbered: %s, want number %d of another epoch than %s", again.ID, store.CaseNumber(first.ID), first.ID)
	}
	got := hit(a, "m-11", "later")
	if got.ID != again.ID || got.Event.Text != "second" || got.Event.ID != "m-10" {
		t.Errorf("joined after the loss: %s, event %q %q; want %s with m-10's", got.ID, got.Event.ID, got.Event.Text, again.ID)
	}
}

func mustParseURL(t *testing.T, url string) *goredis.Options {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// TestRetryMovedBackSlotGroups: on a cluster, an event older than the
// engine takes (judged at the clock less 72 hours) and retried within its
// dedupe TTL is judged at a later time the second time. The author's slot
// answers it as a duplicate; the counters in other slots (the space's) must
// not count it again. (They did: their entry is named by the event's id and
// time, and the time had moved, so the retry was a new entry there.)
func TestRetryMovedBackSlotGroups(t *testing.T) {
	url := redistest.URL(t)
	for _, cluster := range []bool{false, true} {
		t.Run(fmt.Sprintf("cluster=%v", cluster), func(t *testing.T) {
			st := open(t, url, redis.WithCluster(cluster))
			ctx := context.Background()
			seen := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
			ops := func(incr bool) []store.CounterOp {
				return []store.CounterOp{{Name: "msgs", Key: "u-1", Window: time.Hour, Incr: incr},
					{Name: "raid", Key: "guild-1", Window: time.Hour, Incr: incr}}
			}
			observe := func(id string, seen time.Time, incr bool) store.Result {
				t.Helper()
				res, err := st.Observe(ctx, store.Observation{At: seen.Add(-store.DefaultDedupeTTL), SeenAt: seen,
					Platform: "discord", Space: "guild-1", Author: "u-1", EventID: id, Counters: ops(incr)})
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			if res := observe("old", seen, true); !slices.Equal(res.Counts, []int64{1, 1}) {
				t.Fatalf("first: counts %v, want [1 1]", res.Counts)
			}
			later := seen.Add(time.Minute)
			if res := observe("old", later, true); !res.Duplicate {
				t.Fatalf("retry: %+v, want a duplicate", res)
			}
			if res := observe("reader", later, false); !slices.Equal(res.Counts, []int64{1, 1}) {
				t.Errorf("after the retry: counts %v, want [1 1]: the duplicate was counted", res.Counts)
			}
		})
	}
}

// TestModelCapped runs the model test on counters capped at 8 events,
// which the history's floods pass: they saturate there.
func TestModelCapped(t *testing.T) {
	url := redistest.URL(t)
	for seed := uint64(2000); seed < 2003; seed++ {
		storetest.ModelWith(t, open(t, url, redis.WithMaxPerKey(8)), seed, 2_000, storetest.ModelOptions{MaxPerKey: 8})
	}
}

// TestDropBansAfterAnOlderProcess: a process of an older version keeps a
// ban as the book did before drop times (the hash and the due set only); a
// ban for good it replaced with a timed one is not dropped at the old one's
// drop time, and the timed one stays due for it.
func TestDropBansAfterAnOlderProcess(t *testing.T) {
	url := redistest.URL(t)
	ctx := context.Background()
	prefix := newPrefix()
	st := open(t, url, redis.WithPrefix(prefix))
	c := goredis.NewClient(mustParseURL(t, url))
	defer c.Close()
	at := time.Date(2026, 2, 3, 10, 0, 0, 0, time.UTC)
	ev := bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: "u1"}}
	if _, _, err := st.PutBan(ctx, store.TimedBan{Event: ev, Started: at, Until: store.ForGoodUntil}); err != nil {
		t.Fatal(err)
	}
	timed := store.TimedBan{Event: ev, Started: at.Add(time.Hour), Until: at.Add(40 * 24 * time.Hour)}
	raw, _ := json.Marshal(timed)
	if err := c.HSet(ctx, prefix+":{bans}:all", timed.Key(), raw).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, prefix+":{bans}:due", goredis.Z{Score: float64(timed.Until.UnixMilli()), Member: timed.Key()}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DropBans(ctx, at.Add(store.ForGoodKept), 0); n != 0 || err != nil {
		t.Fatalf("DropBans = %d, %v; want the timed ban kept", n, err)
	}
	due, err := st.DueBans(ctx, timed.Until, 0)
	if err != nil || len(due) != 1 || !due[0].Until.Equal(timed.Until) {
		t.Fatalf("DueBans = %+v, %v; want the timed ban", due, err)
	}
	if n, _ := c.ZCard(ctx, prefix+":{bans}:drop").Result(); n != 0 {
		t.Errorf("the drop set holds %d keys, want none: the ban is no longer one to drop", n)
	}

	// A ban for good the older process kept is dropped all the same, in
	// its time.
	forGood := store.TimedBan{Event: bot.Event{Platform: "discord", Space: "g1", Author: bot.Author{ID: "u2"}}, Started: at, Until: store.ForGoodUntil}
	raw, _ = json.Marshal(forGood)
	if err := c.HSet(ctx, prefix+":{bans}:all", forGood.Key(), raw).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.ZAdd(ctx, prefix+":{bans}:due", goredis.Z{Score: float64(store.ForGoodUntil.UnixMilli()), Member: forGood.Key()}).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := st.DropBans(ctx, at.Add(store.ForGoodKept-time.Millisecond), 0); n != 0 || err != nil {
		t.Fatalf("DropBans before its time = %d, %v; want none", n, err)
	}
	if n, err := st.DropBans(ctx, at.Add(store.ForGoodKept), 0); n != 1 || err != nil {
		t.Fatalf("DropBans in its time = %d, %v; want the older process's ban for good dropped", n, err)
	}
	if _, ok, _ := st.KeptBan(ctx, forGood.Key()); ok {
		t.Error("the older process's ban for good still kept")
	}
}

// pendingIDs returns the ids of the cases s.PendingCases hands out.
func pendingIDs(t *testing.T, s *redis.Store) []string {
	t.Helper()
	cs, err := s.PendingCases(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}
