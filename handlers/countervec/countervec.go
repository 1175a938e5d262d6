// Package countervec keeps the counters of a Prometheus CounterVec by their
// label values, for the counters that every event moves: WithLabelValues
// hashes each value and checks it is UTF-8 on every call, about a thousand
// instructions each, a few calls an event.
package countervec

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Memo is the counters of a CounterVec found once by their label values K
// (an array of the values, in the vec's order), then taken from a map. It
// keeps every set of values it was asked for, as the vec does: those that
// come from bounded sets (rules, platforms, action kinds, results).
//
// The map is never written once published: a set of values not seen before
// publishes a copy with it. Readers, every request, then only load a
// pointer, where a read lock wrote to a word that all the cores share, twice
// a call, a few calls an event.
type Memo[K comparable] struct {
	get func(K) prometheus.Counter

	mu sync.Mutex // held to publish a copy
	m  atomic.Pointer[map[K]prometheus.Counter]
}

// New is a Memo of the counters get finds (vec.WithLabelValues).
func New[K comparable](get func(K) prometheus.Counter) *Memo[K] {
	c := &Memo[K]{get: get}
	c.m.Store(&map[K]prometheus.Counter{})
	return c
}

// Of2 is a Memo of vec, whose two labels are given in its order.
func Of2(vec *prometheus.CounterVec) *Memo[[2]string] {
	return New(func(k [2]string) prometheus.Counter { return vec.WithLabelValues(k[0], k[1]) })
}

// Of3 is a Memo of vec, whose three labels are given in its order.
func Of3(vec *prometheus.CounterVec) *Memo[[3]string] {
	return New(func(k [3]string) prometheus.Counter { return vec.WithLabelValues(k[0], k[1], k[2]) })
}

// With is the counter of the label values k.
func (c *Memo[K]) With(k K) prometheus.Counter {
	if ctr, ok := (*c.m.Load())[k]; ok {
		return ctr
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := *c.m.Load()
	if ctr, ok := old[k]; ok {
		return ctr // published meanwhile
	}
	ctr := c.get(k) // the vec's own: the same counter whoever asks first
	next := make(map[K]prometheus.Counter, len(old)+1)
	for key, v := range old {
		next[key] = v
	}
	next[k] = ctr
	c.m.Store(&next)
	return ctr
}
