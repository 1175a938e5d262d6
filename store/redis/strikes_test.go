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
