package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// inFlight is how many events the benchmarks keep in flight, as the daemon
// evaluates events concurrently: the time of one round trip is then shared.
const inFlight = 16

// BenchmarkRedisIncr is the yardstick: one unpipelined INCR per operation, as
// redis-benchmark -t incr does, from the same number of goroutines.
func BenchmarkRedisIncr(b *testing.B) {
	r := redistest.NewBench(b)
	key := newPrefix() + ":incr"
	r.Start(b)
	b.SetParallelism(inFlight)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := r.Client.Incr(context.Background(), key).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	r.Report(b)
}

// BenchmarkRedisObserve sends events shaped like the starter pack's through the
// store: a dedupe id, strikes, two author counters and a space counter; then the
// same with auto-pipelining.
func BenchmarkRedisObserve(b *testing.B) {
	b.Run("plain", func(b *testing.B) { benchObserve(b) })
	b.Run("autopipeline", func(b *testing.B) { benchObserve(b, redis.WithAutoPipeline()) })
}

func benchObserve(b *testing.B, opts ...redis.Option) {
	r := redistest.NewBench(b)
	st, err := redis.Open(r.URL, append(opts, redis.WithPrefix(newPrefix()))...)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	r.Trips = st.RoundTrips
	ctx := context.Background()
	t0 := time.Date(2026, 11, 20, 22, 0, 0, 0, time.UTC)
	var seq atomic.Int64
	authors := make([]string, 10_000)
	for i := range authors {
		authors[i] = fmt.Sprintf("u-%d", i)
	}
	r.Start(b)
	b.SetParallelism(inFlight)
	b.RunParallel(func(pb *testing.PB) {
		ops := make([]store.CounterOp, 3)
		for pb.Next() {
			n := seq.Add(1)
			author := authors[n%int64(len(authors))]
			ops[0] = store.CounterOp{Name: "msgs", Key: author, Window: 10 * time.Second, Incr: true}
			ops[1] = store.CounterOp{Name: "links", Key: author, Window: time.Hour, Incr: n%4 == 0}
			ops[2] = store.CounterOp{Name: "raid", Key: "guild-1", Window: time.Minute, Incr: n%50 == 0}
			_, err := st.Observe(ctx, store.Observation{
				At: t0.Add(time.Duration(n) * 10 * time.Microsecond), Platform: "discord", Space: "guild-1",
				Author: author, EventID: "m-" + strconv.FormatInt(n, 10), Counters: ops, StrikeWindow: 24 * time.Hour,
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	r.Report(b)
}
