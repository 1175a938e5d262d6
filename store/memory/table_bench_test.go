package memory

import (
	"math"
	"runtime"
	"slices"
	"testing"
	"time"
)

// BenchmarkTableWorst follows one shard's table of counters as the soak
// fills it (about 13,200 new counters a minute, each kept 640 s, a sweep
// every minute, the time counted in inserts): b.N is the number of counters inserted (-benchtime=264000x
// is 20 minutes). It reports the slowest single insert and sweep, the
// stalls an event meets, beside the mean, in CPU time of the thread (page
// faults included, the waits for a core of a busy machine not).
func BenchmarkTableWorst(b *testing.B) {
	const perMinute, keep = 13_200, 640 * 13_200 / 60
	ar := newArena()
	defer ar.release()
	tb := table{arena: ar}
	ins := make([]time.Duration, 0, b.N)
	var sweeps []time.Duration
	// the thread's CPU time, which the scheduler does not add to
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ResetTimer()
	for i := range b.N {
		fp := uint64(i+1)*0x9E3779B97F4A7C15 | 1
		t0 := threadTime()
		tb.insert(fp, tagged(1, uint64(i)), keep+perMinute)
		ins = append(ins, threadTime()-t0)
		if i%perMinute == perMinute-1 {
			t0 := threadTime()
			tb.plan(int64(i+1), math.MaxInt)
			tb.deleteFunc(func(s slot) bool { return int(s.v&msMask)+keep <= i })
			sweeps = append(sweeps, threadTime()-t0)
		}
	}
	b.StopTimer()
	slices.Sort(ins)
	slices.Sort(sweeps)
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	if len(ins) > 0 {
		b.ReportMetric(us(ins[len(ins)-1]), "max-insert-µs")
		b.ReportMetric(us(ins[len(ins)*9999/10000]), "p99.99-insert-µs")
	}
	if len(sweeps) > 0 {
		b.ReportMetric(us(sweeps[len(sweeps)-1]), "max-sweep-µs")
	}
}
