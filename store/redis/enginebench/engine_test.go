package enginebench_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// BenchmarkEngineRedis runs the starter pack's rules on a mixed stream of events
// with the Redis store: what vigie run sustains with --redis. The memory store
// runs the same events first: the engine's own cost, without Redis.
//
//	go test ./store/redis/enginebench -run '^$' -bench . -benchtime 2s
func BenchmarkEngineRedis(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		r := redistest.NewLocalBench(b)
		benchEngine(b, r, memory.New())
	})
	b.Run("plain", func(b *testing.B) { benchRedis(b) })
	b.Run("autopipeline", func(b *testing.B) { benchRedis(b, redis.WithAutoPipeline()) })
}

var runs atomic.Int64

func benchRedis(b *testing.B, opts ...redis.Option) {
	r := redistest.NewBench(b)
	// Every run of the function (b.N grows) gets fresh keys, else its events
	// would be the previous run's duplicates.
	prefix := "vigiebench" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(runs.Add(1), 10)
	st, err := redis.Open(r.URL, append(opts, redis.WithPrefix(prefix))...)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r.Trips = st.RoundTrips
	benchEngine(b, r, st)
}

var texts = []string{"salut tout le monde", "t'es un connard", "check out my channel https://spam.example.net",
	"GG WP", "@a @b @c @d @e venez", "quels sont vos horaires ?", "POURQUOI PERSONNE NE REPOND",
	"merci pour la vidéo", "what are your opening hours?", "lol", "nice stream today", "ça marche pas"}

// event n of the stream: 5,000 authors in one space, one join in a hundred.
func event(n int64) bot.Event {
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	created := t0.Add(-400 * 24 * time.Hour)
	kind := bot.KindMessage
	if n%100 == 0 {
		kind = bot.KindJoin
	}
	return bot.Event{ID: "m-" + strconv.FormatInt(n, 10), Platform: "discord", Kind: kind, Space: "guild-1",
		Channel: "general", Author: bot.Author{ID: "u-" + strconv.FormatInt(n%5000, 10), Name: "someone",
			CreatedAt: created, JoinedAt: created},
		Text: texts[n%int64(len(texts))], At: t0.Add(time.Duration(n) * time.Millisecond)}
}

func benchEngine(b *testing.B, r *redistest.Bench, st store.Store) {
	rs, err := rules.Load(filepath.Join("..", "..", "..", "rules.example.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	eng := rules.NewEngine(rs, st, rules.Options{})
	ctx := context.Background()
	var seq atomic.Int64
	r.Start(b)
	b.SetParallelism(16) // events in flight, as the daemon evaluates them concurrently
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := eng.Evaluate(ctx, event(seq.Add(1))); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.Report(b)
}
