package redistest

import (
	"bufio"
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/vigie-bot/vigie/store/redis"
)

// Bench measures a benchmark against Redis: events/s, round trips per event
// and redis-server's CPU time per event, which shows where the time goes.
type Bench struct {
	URL    string
	Client goredis.UniversalClient
	// Trips, when set, counts the round trips of the store under test.
	Trips func() int64

	cpu    time.Duration
	own    time.Duration
	before int64
	mem    int64
}

// NewBench gives a Redis to benchmark against (see URL).
func NewBench(b *testing.B) *Bench {
	r := &Bench{URL: URL(b)}
	c, err := redis.NewClient(r.URL)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	r.Client = c
	return r
}

// NewLocalBench measures a benchmark without Redis (a memory store), for
// comparison: events/s and the process's CPU per event.
func NewLocalBench(b *testing.B) *Bench { return &Bench{} }

// Start resets the timer and the counts.
func (r *Bench) Start(b *testing.B) {
	r.cpu = r.serverCPU(b)
	r.mem = r.serverMemory(b)
	r.own = ProcessCPU()
	if r.Trips != nil {
		r.before = r.Trips()
	}
	b.ResetTimer()
}

// Report adds events/s, roundtrips/event, redis-cpu-µs/event and
// redis-bytes/event.
func (r *Bench) Report(b *testing.B) {
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if r.Trips != nil {
		b.ReportMetric(float64(r.Trips()-r.before)/float64(b.N), "roundtrips/event")
	}
	if r.Client != nil {
		b.ReportMetric(float64((r.serverCPU(b)-r.cpu).Microseconds())/float64(b.N), "redis-cpu-µs/event")
		b.ReportMetric(float64(r.serverMemory(b)-r.mem)/float64(b.N), "redis-bytes/event")
	}
	if own := ProcessCPU() - r.own; own > 0 {
		b.ReportMetric(float64(own.Microseconds())/float64(b.N), "client-cpu-µs/event")
	}
}

// serverMemory reads the bytes redis-server holds (used_memory, a cluster's
// first node): what the events left there, windows and all, once divided.
func (r *Bench) serverMemory(b *testing.B) int64 {
	if r.Client == nil {
		return 0
	}
	info, err := r.Client.Info(context.Background(), "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "used_memory:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// serverCPU reads the CPU time redis-server used so far (a cluster's first node).
func (r *Bench) serverCPU(b *testing.B) time.Duration {
	if r.Client == nil {
		return 0
	}
	info, err := r.Client.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		k, v, _ := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}
