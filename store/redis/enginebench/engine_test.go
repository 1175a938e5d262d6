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
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// BenchmarkEngineRedis runs the starter pack's rules on a mixed stream of events
// with the Redis store: what vigie run sustains with --redis.
//
//	go test ./store/redis -run '^$' -bench 'Redis|Engine' -benchtime 2s
func BenchmarkEngineRedis(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchEngine(b) })
	b.Run("autopipeline", func(b *testing.B) { benchEngine(b, redis.WithAutoPipeline()) })
}

var runs atomic.Int64

func benchEngine(b *testing.B, opts ...redis.Option) {
	rs, err := rules.Load(filepath.Join("..", "..", "..", "rules.example.yaml"))
	if err != nil {
		b.Fatal(err)
	}
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
	eng := rules.NewEngine(rs, st, rules.Options{})
	texts := []string{"salut tout le monde", "t'es un connard", "check out my channel https://spam.example.net",
		"GG WP", "@a @b @c @d @e venez", "quels sont vos horaires ?", "POURQUOI PERSONNE NE REPOND",
		"merci pour la vidéo", "what are your opening hours?", "lol", "nice stream today", "ça marche pas"}
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	created := t0.Add(-400 * 24 * time.Hour)
	event := func(n int64) bot.Event {
		kind := bot.KindMessage
		if n%100 == 0 {
			kind = bot.KindJoin
		}
		return bot.Event{ID: "m-" + strconv.FormatInt(n, 10), Platform: "discord", Kind: kind, Space: "guild-1",
			Channel: "general", Author: bot.Author{ID: "u-" + strconv.FormatInt(n%5000, 10), Name: "someone",
				CreatedAt: created, JoinedAt: created},
			Text: texts[n%int64(len(texts))], At: t0.Add(time.Duration(n) * time.Millisecond)}
	}
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
