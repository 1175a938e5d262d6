package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// BenchmarkRedisWrites measures, one kind at a time, what a flagged event of
// the starter pack asks of Redis besides its observation: its observation as
// the pack makes it (three counters added to, seven only read; observe-long,
// a message of six words or more: seven added to, three only read), a case
// counted for its author, a strike, a member's lock taken and released, an
// audit entry, a journal entry begun and done, a case opened, a hit
// grouped into an open case. Each runs
// through the shared pipelines, inFlight at a time.
// longTexts are 50 messages of 8 KB (a platform's longest), for counters
// keyed by the text.
var longTexts = func() []string {
	out := make([]string, 50)
	for i := range out {
		out[i] = strings.Repeat("free nitro at discord-gift.example/"+strconv.Itoa(i)+" ", 8192/40)
	}
	return out
}()

func BenchmarkRedisWrites(b *testing.B) {
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	ev := func(n int64) bot.Event {
		return bot.Event{ID: "m-" + strconv.FormatInt(n, 10), Platform: "discord", Kind: bot.KindMessage,
			Space: "guild-" + strconv.FormatInt(n%20, 10), Channel: "chan-" + strconv.FormatInt(n%200, 10),
			Author: bot.Author{ID: "u-" + strconv.FormatInt(n%2000, 10), Name: "Member"},
			Text:   "send 0.1 ETH to 0x52908400098527886E0F7030069857D2E4169EE7 for the giveaway",
			At:     t0.Add(time.Duration(n) * time.Millisecond)}
	}
	verdict := func(e bot.Event) bot.Verdict {
		return bot.Verdict{EventID: e.ID, Platform: e.Platform, At: e.At,
			Matches:  []bot.Match{{Rule: "crypto-address", Category: "scam", Actions: []bot.Action{{Kind: bot.ActForward, Text: "crypto address"}}}},
			Counters: map[string]int64{"msgs": 1, "same_text": 1, "near0": 1, "near1": 1, "near2": 1, "near3": 1, "copies": 1, "joins": 0}}
	}
	kinds := []struct {
		name string
		do   func(ctx context.Context, st *redis.Store, n int64) error
	}{
		{"observe", func(ctx context.Context, st *redis.Store, n int64) error {
			e := ev(n)
			a := e.Author.ID
			w := 10 * time.Minute
			ops := []store.CounterOp{
				{Name: "msgs", Key: a, Window: 10 * time.Second, Incr: true},
				{Name: "same_text", Key: a + "|f" + strconv.FormatInt(n%6, 10), Window: w, Incr: true},
				{Name: "near0", Key: a + "|", Window: w},
				{Name: "near1", Key: a + "|", Window: w},
				{Name: "near2", Key: a + "|", Window: w},
				{Name: "near3", Key: a + "|", Window: w},
				{Name: "copies", Key: e.Space + "|f" + strconv.FormatInt(n%6, 10), Window: w, Incr: true},
				{Name: "joins", Key: e.Space, Window: time.Minute},
				{Name: "~hits:insult:10m", Key: e.Space, Window: w},
				{Name: "~hits:slur:10m", Key: e.Space, Window: w},
			}
			_, err := st.Observe(ctx, store.Observation{At: e.At, Platform: e.Platform, Space: e.Space, Author: a,
				EventID: e.ID, Counters: ops, StrikeWindow: 24 * time.Hour})
			return err
		}},
		{"observe-hit", func(ctx context.Context, st *redis.Store, n int64) error {
			// observe in a place where insults come: one event in six adds
			// to the place's hit counter, the others only read it, there
			// beside the author's absent counters
			e := ev(n)
			a := e.Author.ID
			w := 10 * time.Minute
			ops := []store.CounterOp{
				{Name: "msgs", Key: a, Window: 10 * time.Second, Incr: true},
				{Name: "same_text", Key: a + "|f" + strconv.FormatInt(n%6, 10), Window: w, Incr: true},
				{Name: "near0", Key: a + "|", Window: w},
				{Name: "near1", Key: a + "|", Window: w},
				{Name: "near2", Key: a + "|", Window: w},
				{Name: "near3", Key: a + "|", Window: w},
				{Name: "copies", Key: e.Space + "|f" + strconv.FormatInt(n%6, 10), Window: w},
				{Name: "joins", Key: e.Space, Window: time.Minute},
				{Name: "~hits:insult:10m", Key: e.Space, Window: w, Incr: n%6 == 1},
				{Name: "~hits:slur:10m", Key: e.Space, Window: w},
			}
			_, err := st.Observe(ctx, store.Observation{At: e.At, Platform: e.Platform, Space: e.Space, Author: a,
				EventID: e.ID, Counters: ops, StrikeWindow: 24 * time.Hour})
			return err
		}},
		{"strike-observe", func(ctx context.Context, st *redis.Store, n int64) error {
			// a strike, then its author's next observation, as an evaluator
			// queues them: most go in one pipeline
			e := ev(n)
			a := e.Author.ID
			if err := st.AddStrike(ctx, store.Strike{Platform: e.Platform, Space: e.Space, Author: a, At: e.At, Rule: "scam"}); err != nil {
				return err
			}
			ops := []store.CounterOp{{Name: "msgs", Key: a, Window: 10 * time.Second, Incr: true}}
			_, err := st.Observe(ctx, store.Observation{At: e.At, Platform: e.Platform, Space: e.Space, Author: a,
				EventID: e.ID, Counters: ops, StrikeWindow: 24 * time.Hour})
			return err
		}},
		{"observe-long", func(ctx context.Context, st *redis.Store, n int64) error {
			// a message of six words or more: the near-copy bands are added to
			e := ev(n)
			a := e.Author.ID
			w := 10 * time.Minute
			f := strconv.FormatInt(n%6, 10)
			ops := []store.CounterOp{
				{Name: "msgs", Key: a, Window: 10 * time.Second, Incr: true},
				{Name: "same_text", Key: a + "|f" + f, Window: w, Incr: true},
				{Name: "near0", Key: a + "|a" + f, Window: w, Incr: true},
				{Name: "near1", Key: a + "|b" + f, Window: w, Incr: true},
				{Name: "near2", Key: a + "|c" + f, Window: w, Incr: true},
				{Name: "near3", Key: a + "|d" + f, Window: w, Incr: true},
				{Name: "copies", Key: e.Space + "|f" + f, Window: w, Incr: true},
				{Name: "joins", Key: e.Space, Window: time.Minute},
				{Name: "~hits:insult:10m", Key: e.Space, Window: w},
				{Name: "~hits:slur:10m", Key: e.Space, Window: w},
			}
			_, err := st.Observe(ctx, store.Observation{At: e.At, Platform: e.Platform, Space: e.Space, Author: a,
				EventID: e.ID, Counters: ops, StrikeWindow: 24 * time.Hour})
			return err
		}},
		{"observe-text", func(ctx context.Context, st *redis.Store, n int64) error {
			// same_text and copies keyed by the text itself, as a rule
			// file may key them: messages of 8 KB, one of 50 texts, as a
			// flood of long copies makes them
			e := ev(n)
			a := e.Author.ID
			w := 10 * time.Minute
			text := longTexts[n%int64(len(longTexts))]
			ops := []store.CounterOp{
				{Name: "msgs", Key: a, Window: 10 * time.Second, Incr: true},
				{Name: "same_text", Key: a + "|" + text, Window: w, Incr: true},
				{Name: "copies", Key: e.Space + "|" + text, Window: w, Incr: true},
				{Name: "joins", Key: e.Space, Window: time.Minute},
			}
			_, err := st.Observe(ctx, store.Observation{At: e.At, Platform: e.Platform, Space: e.Space, Author: a,
				EventID: e.ID, Counters: ops, StrikeWindow: 24 * time.Hour})
			return err
		}},
		{"count", func(ctx context.Context, st *redis.Store, n int64) error {
			// A case counted for its author (no id, no strikes), as the
			// moderator counts the cases it opens.
			e := ev(n)
			_, err := st.Observe(ctx, store.Observation{At: e.At, Platform: e.Platform, Space: e.Space, Author: e.Author.ID,
				Counters: []store.CounterOp{{Name: "~cases:author", Key: e.Author.ID, Window: 24 * time.Hour, Incr: true}}})
			return err
		}},
		{"strike", func(ctx context.Context, st *redis.Store, n int64) error {
			e := ev(n)
			return st.AddStrike(ctx, store.Strike{Platform: e.Platform, Space: e.Space, Author: e.Author.ID, At: e.At, Rule: "scam"})
		}},
		{"member-lock", func(ctx context.Context, st *redis.Store, n int64) error {
			// A member's lock taken and released, as around a timeout.
			e := ev(n)
			unlock, err := st.LockMember(ctx, e.Platform+"|"+e.Space+"|u-"+strconv.FormatInt(n, 10), time.Second)
			if err != nil {
				return err
			}
			unlock()
			return nil
		}},
		{"audit", func(ctx context.Context, st *redis.Store, n int64) error {
			e := ev(n)
			return st.AppendAudit(ctx, store.AuditEntry{At: e.At, Event: e, Verdict: verdict(e), Mode: "after"})
		}},
		{"journal", func(ctx context.Context, st *redis.Store, n int64) error {
			e := ev(n)
			if err := st.Begin(ctx, store.JournalEntry{Key: e.Key(), Event: e, Verdict: verdict(e), At: e.At, Begun: e.At}); err != nil {
				return err
			}
			return st.Done(ctx, e.Key())
		}},
		{"case", func(ctx context.Context, st *redis.Store, n int64) error {
			e := ev(n)
			_, err := st.OpenCase(ctx, store.Case{Opened: e.At, Event: e, Rule: "crypto-address", Category: "scam",
				Reason: "crypto address", Suggested: []bot.Action{{Kind: bot.ActDelete}}})
			return err
		}},
		{"grouped", func(ctx context.Context, st *redis.Store, n int64) error {
			// A raid: the hits of 100 authors in 20 channels, most of them
			// joining an open case.
			e := ev(n)
			e.Author.ID, e.Channel = "u-"+strconv.FormatInt(n%100, 10), "chan-"+strconv.FormatInt(n%20, 10)
			_, err := st.OpenCase(ctx, store.Case{Opened: e.At, Event: e, Rule: "crypto-address", Category: "scam",
				Reason: "crypto address", Suggested: []bot.Action{{Kind: bot.ActDelete}}})
			return err
		}},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			r := redistest.NewBench(b)
			st, err := redis.Open(r.URL, redis.WithAutoPipeline(), redis.WithPrefix(newPrefix()), redis.WithOpenCaseCap(1<<30))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			r.Trips = st.RoundTrips
			ctx := context.Background()
			var seq atomic.Int64
			r.Start(b)
			b.SetParallelism(inFlight)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := k.do(ctx, st, seq.Add(1)); err != nil {
						b.Error(fmt.Errorf("%s: %w", k.name, err))
						return
					}
				}
			})
			if err := st.Close(); err != nil { // what is queued is sent and counted
				b.Fatal(err)
			}
			r.Report(b)
		})
	}
}
