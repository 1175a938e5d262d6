// Package countervec keeps the counters of a Prometheus CounterVec by their
// label values, for the counters that every event moves: WithLabelValues
// hashes each value and checks it is UTF-8 on every call, about a thousand
// instructions each, a few calls an event.
package countervec

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Memo is the counters of a CounterVec found once by their label values K
// (an array of the values, in the vec's order), then taken from a map. It
// keeps every set of values it was asked for, as the vec does: those that
// come from bounded sets (rules, platforms, action kinds, results).
type Memo[K comparable] struct {
	get func(K) prometheus.Counter

	mu sync.RWMutex
	m  map[K]prometheus.Counter
}

// New is a Memo of the counters get finds (vec.WithLabelValues).
func New[K comparable](get func(K) prometheus.Counter) *Memo[K] {
	return &Memo[K]{get: get, m: map[K]prometheus.Counter{}}
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
	c.mu.RLock()
	ctr, ok := c.m[k]
	c.mu.RUnlock()
	if ok {
		return ctr
	}
	ctr = c.get(k) // the vec's own: the same counter whoever asks first
	c.mu.Lock()
	c.m[k] = ctr
	c.mu.Unlock()
	return ctr
}
