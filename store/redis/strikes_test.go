package redis_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestStrikesTogether checks that an event's strikes on one author queued
// together go to Redis in one script, and leave the list as the same strikes
// added one at a time do: past the cap, the expired strikes go first, then the
// oldest; the key lives as long as the longest strike.
func TestStrikesTogether(t *testing.T) {
	srv := redistest.Start(t)
	st := open(t, srv.URL(), redis.WithAutoPipeline(), redis.WithMaxStrikes(3))
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	at := t0.Add(2 * time.Hour)
	scripts := func() int {
		t.Helper()
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for line := range strings.Lines(info) {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
			if ok && (name == "cmdstat_evalsha" || name == "cmdstat_eval") {
				v, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
				n += v
			}
		}
		return n
	}
	strikes := func(author string) []store.Strike {
		mk := func(at time.Time, ttl time.Duration, rule string) store.Strike {
			return store.Strike{Platform: "discord", Space: "g", Author: author, Rule: rule, At: at, TTL: ttl}
		}
		return []store.Strike{
			mk(t0, time.Hour, "old"), // expired at the new strikes' time
			mk(t0.Add(time.Minute), 30*24*time.Hour, "kept"),
			mk(t0.Add(2*time.Minute), 30*24*time.Hour, "kept"),
			mk(at, 7*24*time.Hour, "phishing"),
			mk(at, 40*24*time.Hour, "scam"),
		}
	}
	// one at a time
	for _, s := range strikes("one") {
		if err := st.AddStrike(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Strikes(ctx, "discord", "g", "one", at); err != nil { // waits for the pipeline
			t.Fatal(err)
		}
	}
	// the last two together, as one event's
	both := strikes("both")
	for _, s := range both[:3] {
		if err := st.AddStrike(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Strikes(ctx, "discord", "g", "both", at); err != nil {
			t.Fatal(err)
		}
	}
	before := scripts()
	st.QueueStrikes(both[3:]...)
	got, err := st.Strikes(ctx, "discord", "g", "both", at)
	if err != nil {
		t.Fatal(err)
	}
	if n := scripts() - before; n != 1 {
		t.Errorf("%d scripts for two strikes queued together, want 1", n)
	}
	want, err := st.Strikes(ctx, "discord", "g", "one", at)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) || len(got) != 3 {
		t.Errorf("strikes together %v, one at a time %v (want 3 alike)", got, want)
	}
	keys, err := c.Keys(ctx, "*:strikes").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("strike keys %v, %v", keys, err)
	}
	for _, k := range keys {
		ttl, err := c.PTTL(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl <= 39*24*time.Hour || ttl > 40*24*time.Hour {
			t.Errorf("%s lives %v, want the longest strike's 40 days", k, ttl)
		}
		if n, _ := c.ZCard(ctx, k).Result(); n != 3 {
			t.Errorf("%s holds %d strikes, want the cap 3", k, n)
		}
	}
}

// TestStrikesTogetherLost checks that strikes sent in one script are each
// handed to the lost writes when Redis does not take them.
func TestStrikesTogetherLost(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	s := store.Strike{Platform: "p", Space: "s", Author: "a", At: at}
	srv.Stop()
	st.QueueStrikes(s, s, s)
	st.Close() // sends what is queued
	if n := st.LostWrites(); n != 3 {
		t.Errorf("LostWrites = %d for three strikes in one script with Redis stopped, want 3", n)
	}
}

// TestStrikesFolded checks that strikes queued before an observation or a
// case opened, in the same pipeline, are added by that call's script, not by
// one of their own, and leave the lists and answers as strikes sent alone do:
// the observation of the author sees the strike, the list lives as long as
// its strike. Strikes with a script between them and the call, or before a
// call whose caller gave up, go alone.
func TestStrikesFolded(t *testing.T) {
	srv := redistest.Start(t)
	prefix := newPrefix()
	st := open(t, srv.URL(), redis.WithAutoPipeline(), redis.WithPrefix(prefix))
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	scripts := func() int {
		t.Helper()
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for line := range strings.Lines(info) {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
			if ok && (name == "cmdstat_evalsha" || name == "cmdstat_eval") {
				v, _ := strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
				n += v
			}
		}
		return n
	}
	strike := func(author, rule string) store.Strike {
		return store.Strike{Platform: "discord", Space: "g", Author: author, Rule: rule, At: at, TTL: 7 * 24 * time.Hour}
	}
	observe := func(ctx context.Context, author, id string) (store.Result, error) {
		return st.Observe(ctx, store.Observation{At: at.Add(time.Second), Platform: "discord", Space: "g", Author: author,
			EventID: id, StrikeWindow: time.Hour, Counters: []store.CounterOp{{Name: "msgs", Key: author, Window: time.Minute, Incr: true}}})
	}
	has := func(author string, want int) {
		t.Helper()
		got, err := st.Strikes(ctx, "discord", "g", author, at.Add(time.Minute))
		if err != nil || len(got) != want {
			t.Errorf("%s: strikes %v, %v; want %d", author, got, err, want)
		}
		key := prefix + ":{discord:g:" + author + "}:strikes"
		if ttl, err := c.PTTL(ctx, key).Result(); err != nil || ttl <= 6*24*time.Hour || ttl > 7*24*time.Hour {
			t.Errorf("%s lives %v (%v), want the strike's 7 days", key, ttl, err)
		}
	}

	// the author's strike, then the author's next observation
	before := scripts()
	st.Together(2)
	st.QueueStrikes(strike("a", "scam"))
	res, err := observe(ctx, "a", "e1")
	if err != nil {
		t.Fatal(err)
	}
	if n := scripts() - before; n != 1 {
		t.Errorf("a strike and an observation in one pipeline: %d scripts, want 1", n)
	}
	if len(res.Strikes) != 1 || !res.Strikes[0].Equal(at) {
		t.Errorf("the observation after the strike saw strikes %v, want [%v]", res.Strikes, at)
	}
	if len(res.Counts) != 1 || res.Counts[0] != 1 {
		t.Errorf("the observation's counts %v, want [1]", res.Counts)
	}
	has("a", 1)

	// two strikes of one event, then another author's observation
	before = scripts()
	st.Together(3)
	st.QueueStrikes(strike("b", "scam"), strike("b", "phishing"))
	if res, err = observe(ctx, "c", "e2"); err != nil {
		t.Fatal(err)
	}
	if n := scripts() - before; n != 1 {
		t.Errorf("two strikes and an observation in one pipeline: %d scripts, want 1", n)
	}
	if len(res.Strikes) != 0 {
		t.Errorf("another author's observation saw strikes %v", res.Strikes)
	}
	has("b", 2)

	// a strike, then a case opened
	before = scripts()
	st.Together(2)
	st.QueueStrikes(strike("d", "scam"))
	cs, err := st.OpenCase(ctx, store.Case{Reason: "scam", Opened: at})
	if err != nil || cs.ID == "" {
		t.Fatalf("open case: %+v, %v", cs, err)
	}
	if n := scripts() - before; n != 1 {
		t.Errorf("a strike and a case opened in one pipeline: %d scripts, want 1", n)
	}
	if got, err := st.Case(ctx, cs.ID); err != nil || got.Reason != "scam" || got.Status != store.CaseOpen {
		t.Errorf("the case opened with a strike: %+v, %v", got, err)
	}
	has("d", 1)

	// a strike before an observation its caller gave up on, then another
	gone, cancel := context.WithCancel(ctx)
	cancel()
	before = scripts()
	st.Together(3)
	st.QueueStrikes(strike("e", "scam"))
	if _, err := observe(gone, "e", "e3"); err == nil {
		t.Fatal("an observation whose caller gave up answered")
	}
	st.QueueStrikes(strike("f", "scam"))
	has("e", 1)
	has("f", 1)
	if n := scripts() - before; n != 2 {
		t.Errorf("two strikes around an observation given up: %d scripts, want 2", n)
	}
}

// TestStrikesFoldedLost checks that a strike folded into an observation is
// handed to the lost writes when Redis does not take the observation.
func TestStrikesFoldedLost(t *testing.T) {
	srv := redistest.Start(t)
	st, err := redis.Open(srv.URL()+"?max_retries=-1&dial_timeout=200ms", redis.WithPrefix(newPrefix()), redis.WithAutoPipeline())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	at := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	srv.Stop()
	st.Together(2)
	st.QueueStrikes(store.Strike{Platform: "p", Space: "s", Author: "a", At: at})
	if _, err := st.Observe(context.Background(), store.Observation{At: at, Platform: "p", Space: "s", Author: "a", EventID: "e", StrikeWindow: time.Hour}); err == nil {
		t.Fatal("an observation answered with Redis stopped")
	}
	if n := st.LostWrites(); n != 1 {
		t.Errorf("LostWrites = %d for a strike folded into an observation with Redis stopped, want 1", n)
	}
}
