package handlers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store"
)

// Case priorities. Normal is the empty string, so that cases stored before
// priorities existed read as normal.
const (
	PriorityHigh   = "high"
	PriorityNormal = ""
	PriorityLow    = "low"
)

// repeatCases is how many earlier cases about one author or one thread, within
// repeatWindow, make the next one high priority: someone who keeps at it, a
// thread that is going bad.
const (
	repeatCases  = 2
	repeatWindow = 24 * time.Hour
)

// ParseDuration reads 10m, 1h30m and 7d, as CMs write them.
func ParseDuration(s string) (time.Duration, error) { return parseDuration(s) }

// prioritise sets a new case's priority: the rule's, raised to high when the
// author or the thread already had repeatCases cases within repeatWindow. The
// cases are counted with the store's sliding-window counters, one call whatever
// the number of open cases, so a raid that opens hundreds of cases does not make
// each new one slower.
func (m *Moderator) prioritise(ctx context.Context, c *store.Case) {
	if c.Priority == PriorityNormal && m.priority != nil && c.Rule != "" {
		c.Priority = m.priority(c.Rule)
	}
	ops := []store.CounterOp{{Name: "~cases:author", Key: c.Event.Author.ID, Window: repeatWindow, Incr: c.Event.Author.ID != ""}}
	if t := threadOf(c.Event); t != "" {
		ops = append(ops, store.CounterOp{Name: "~cases:thread", Key: t, Window: repeatWindow, Incr: true})
	}
	res, err := m.store.Observe(ctx, store.Observation{At: c.Opened, Platform: c.Event.Platform,
		Space: c.Event.Space, Author: c.Event.Author.ID, Counters: ops})
	if err != nil || c.Priority == PriorityHigh || len(res.Counts) != len(ops) {
		return // the case opens at its rule's priority
	}
	author, thread := res.Counts[0]-1, int64(0)
	if len(ops) > 1 {
		thread = res.Counts[1] - 1
	}
	switch {
	case c.Event.Author.ID != "" && author >= repeatCases:
		c.Priority = PriorityHigh
		c.Reason = fmt.Sprintf("high priority, %d other cases for this author in 24h: %s", author, c.Reason)
	case thread >= repeatCases:
		c.Priority = PriorityHigh
		c.Reason = fmt.Sprintf("high priority, %d other cases in this thread in 24h: %s", thread, c.Reason)
	}
}

// threadOf names the conversation an event belongs to: its thread, or the post
// a comment answers; empty when it has none.
func threadOf(ev bot.Event) string {
	t := cmp.Or(ev.Thread, ev.ReplyTo)
	if t == "" {
		return ""
	}
	return ev.Space + "/" + ev.Channel + "/" + t
}

// EscalationOptions tune the reminders of old cases.
type EscalationOptions struct {
	// Age is how long a case waits before it is announced again (default 2h);
	// high priority cases wait a quarter of it.
	Age time.Duration
	// Interval is the least time between two announcements of one case
	// (default 1h), whichever instance makes them.
	Interval   time.Duration
	Registerer prometheus.Registerer
}

// Escalation announces again on the desk the cases left open too long, and
// keeps the metrics of the open cases' ages.
type Escalation struct {
	m           *Moderator
	o           EscalationOptions
	oldest      prometheus.Gauge
	byPriority  *prometheus.GaugeVec
	reannounced prometheus.Counter
}

// NewEscalation returns the reminders of m's cases and registers their metrics.
func NewEscalation(m *Moderator, o EscalationOptions) (*Escalation, error) {
	if o.Age <= 0 {
		o.Age = 2 * time.Hour
	}
	if o.Interval <= 0 {
		o.Interval = time.Hour
	}
	e := &Escalation{m: m, o: o,
		oldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_cases_oldest_open_seconds",
			Help: "Age of the oldest case waiting for a decision (0 without one).",
		}),
		byPriority: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_cases_open_by_priority",
			Help: "Cases waiting for a decision, by priority (high, normal, low).",
		}, []string{"priority"}),
		reannounced: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_cases_reannounced_total",
			Help: "Open cases announced again on the desk because they waited too long.",
		}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{e.oldest, e.byPriority, e.reannounced} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("escalation: register metrics: %w", err)
			}
		}
	}
	return e, nil
}

// checkEvery is how often Run looks at the open cases.
const checkEvery = time.Minute

// Run checks the open cases every minute until ctx ends.
func (e *Escalation) Run(ctx context.Context) error {
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		if _, err := e.Check(ctx); err != nil && ctx.Err() == nil {
			e.m.log.Warn("open cases not checked", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check updates the metrics and announces again the cases that waited too long,
// high priority first; it returns how many it announced.
func (e *Escalation) Check(ctx context.Context) (int, error) {
	now := e.m.now()
	open, err := e.m.store.Cases(ctx, store.CaseOpen)
	if err != nil {
		return 0, fmt.Errorf("escalation: %w", err)
	}
	counts := map[string]int{"high": 0, "normal": 0, "low": 0}
	var oldest time.Duration
	for _, c := range open {
		counts[cmp.Or(c.Priority, "normal")]++
		oldest = max(oldest, now.Sub(c.Opened))
	}
	for p, n := range counts {
		e.byPriority.WithLabelValues(p).Set(float64(n))
	}
	e.oldest.Set(oldest.Seconds())
	if e.m.desk == nil {
		return 0, nil
	}
	// high priority first, then oldest first (the store's order)
	ordered := make([]store.Case, 0, len(open))
	for _, c := range open {
		if c.Priority == PriorityHigh {
			ordered = append(ordered, c)
		}
	}
	for _, c := range open {
		if c.Priority != PriorityHigh {
			ordered = append(ordered, c)
		}
	}
	n := 0
	var errs []error
	for _, c := range ordered {
		age := now.Sub(c.Opened)
		due := e.o.Age
		switch c.Priority {
		case PriorityHigh:
			due /= 4
		case PriorityLow:
			due *= 4
		}
		if age < due || !e.claim(ctx, c, now) {
			continue
		}
		card := c
		card.Reason = fmt.Sprintf("⏰ waiting for %s: %s", bot.FormatDuration(age.Truncate(time.Minute)), c.Reason)
		if err := e.m.desk.PostCase(ctx, card); err != nil {
			errs = append(errs, fmt.Errorf("case %s: %w", c.ID, err))
			continue
		}
		e.reannounced.Inc()
		n++
	}
	return n, errors.Join(errs...)
}

// claim makes sure a case is announced at most once per interval, whichever of
// the instances sharing the store does it: the store's dedupe remembers the last
// announcement for an interval.
func (e *Escalation) claim(ctx context.Context, c store.Case, now time.Time) bool {
	res, err := e.m.store.Observe(ctx, store.Observation{At: now, Platform: "vigie", Space: "cases", Author: "escalation",
		EventID: "remind:" + c.ID, DedupeTTL: e.o.Interval})
	if err != nil {
		return false // the next check tries again
	}
	return !res.Duplicate
}
