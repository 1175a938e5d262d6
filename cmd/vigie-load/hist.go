package main

import (
	"math/bits"
	"time"
)

// hist counts latencies in log-linear buckets: each power of two of
// microseconds is cut in subBuckets, so a quantile is off by at most 1/subBuckets
// (3%) whatever the spread, in a fixed few kilobytes: a soak of hours keeps
// no sample.
type hist struct {
	counts [64 * subBuckets]uint64
	n      uint64
	max    time.Duration
}

const (
	subBits    = 5
	subBuckets = 1 << subBits
)

// bucket is the index of a latency of us microseconds.
func bucket(us uint64) int {
	if us < subBuckets {
		return int(us)
	}
	exp := bits.Len64(us) - subBits // ≥ 1: us has more than subBits bits
	return exp*subBuckets + int(us>>(exp-1)) - subBuckets
}

// upper is the largest latency, in microseconds, that falls in bucket i.
func upper(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	exp, sub := i/subBuckets, uint64(i%subBuckets)
	return (sub+subBuckets+1)<<(exp-1) - 1
}

func (h *hist) add(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.counts[bucket(us)]++
	h.n++
	h.max = max(h.max, d)
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile is the latency under which a share q of the samples fall (0 without
// samples), never more than the largest seen.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.5)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(upper(i))*time.Microsecond, h.max)
		}
	}
	return h.max
}
