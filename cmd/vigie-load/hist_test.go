package main

import (
	"testing"
	"time"
)

func TestBucketsCoverEveryLatencyInOrder(t *testing.T) {
	prev := -1
	for _, us := range []uint64{0, 1, 31, 32, 33, 63, 64, 65, 100, 1000, 12345, 1 << 40} {
		b := bucket(us)
		if b < prev {
			t.Fatalf("bucket(%d) = %d, before bucket of a smaller latency (%d)", us, b, prev)
		}
		if up := upper(b); up < us {
			t.Fatalf("bucket(%d) = %d, whose upper bound %d is below it", us, b, up)
		}
		if b > 0 {
			if lo := upper(b - 1); lo >= us {
				t.Fatalf("bucket(%d) = %d, but the bucket before already holds up to %d", us, b, lo)
			}
		}
		prev = b
	}
}

func TestQuantiles(t *testing.T) {
	var h hist
	if got := h.quantile(0.99); got != 0 {
		t.Fatalf("empty: p99 = %s, want 0", got)
	}
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(c.q)
		// Within the buckets' precision, never above the true value's bucket.
		if got < c.want || float64(got) > float64(c.want)*(1+2.0/subBuckets) {
			t.Errorf("quantile(%v) = %s, want %s within %d%%", c.q, got, c.want, 200/subBuckets)
		}
	}
	if h.max != time.Second {
		t.Errorf("max = %s, want 1s", h.max)
	}
	var all hist
	all.merge(&h)
	all.merge(&h)
	if all.n != 2000 || all.quantile(0.5) != h.quantile(0.5) {
		t.Errorf("merged twice: n = %d, p50 = %s; want 2000 and %s", all.n, all.quantile(0.5), h.quantile(0.5))
	}
}
