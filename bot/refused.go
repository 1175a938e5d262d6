package bot

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// RefusedEvery is how often a refusal of one kind on one route is logged:
// the first at once, then at most one line an interval, which says how many
// were refused since and not logged.
const RefusedEvery = time.Minute

// maxRefusedKinds bounds the routes and reasons remembered: both are
// vigie's own words, never a stranger's, so this is a guard, not a limit
// met in use.
const maxRefusedKinds = 256

// Refusals counts the requests vigie refuses at its doors (a webhook
// without its secret, an event without its signature, an admin route
// without its token, a console login past its limits), by route and
// reason, and logs them without letting a stranger write the log: a
// stranger sending ten thousand requests a second would otherwise write
// ten thousand lines a second, drowning the disk, journald and the CMs'
// alerting. Every refusal is counted in vigie_refused_requests_total; the
// log has the first of each route and reason, then one line an interval
// at most, with the count of those refused since and not logged. Safe for
// concurrent use.
type Refusals struct {
	log   *slog.Logger
	now   func() time.Time
	every time.Duration
	count *prometheus.CounterVec

	// attrs name the two labels in the log: route and reason.
	attrs [2]string

	mu    sync.Mutex
	kinds map[refusedKind]*refusedWindow
}

type refusedKind struct{ route, reason string }

// refusedWindow is one route and reason's interval: when its last logged
// line was written, and how many were refused since without a line.
type refusedWindow struct {
	logged time.Time
	quiet  int
}

// NewRefusals makes a Refusals that logs to log on the clock now (time.Now
// when nil) and registers its counter with reg when there is one. Built
// again with the same registry (a reload, or another door), it counts in
// the counter already there.
func NewRefusals(log *slog.Logger, reg prometheus.Registerer, now func() time.Time) *Refusals {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_refused_requests_total",
		Help: "Requests refused at vigie's doors, by route and reason (bad_secret, no_signature, bad_signature, bad_token, proxied, cross_site, foreign_host, too_many_failures...). The log has the first of each, then one line a minute at most with the count since.",
	}, []string{"route", "reason"})
	if reg != nil {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if old, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					c = old
				}
			} else {
				log.Warn("vigie_refused_requests_total not registered", "err", err)
			}
		}
	}
	return NewRefusalsOf(log, now, c, "route")
}

// NewRefusalsOf is a Refusals that counts in c, a counter of two labels
// (Refuse's route and reason, in that order; the first named first in the
// log), for what is let go other than requests: the strangers' private
// messages past their share.
func NewRefusalsOf(log *slog.Logger, now func() time.Time, c *prometheus.CounterVec, first string) *Refusals {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	return &Refusals{log: log, now: now, every: RefusedEvery, count: c, attrs: [2]string{first, "reason"}, kinds: make(map[refusedKind]*refusedWindow)}
}

// Refuse counts one refused request on route for reason, and logs msg with
// args at Warn level when this route and reason were not logged in the last
// interval, saying how many were refused meanwhile. route and reason must be
// vigie's own words (they are metric labels), never taken from the request.
func (r *Refusals) Refuse(route, reason, msg string, args ...any) {
	r.count.WithLabelValues(route, reason).Inc()
	now := r.now()
	k := refusedKind{route: route, reason: reason}
	r.mu.Lock()
	w := r.kinds[k]
	if w == nil {
		if len(r.kinds) >= maxRefusedKinds {
			clear(r.kinds)
		}
		w = &refusedWindow{logged: now}
		r.kinds[k] = w
		r.mu.Unlock()
		r.log.Warn(msg, append(args, r.attrs[0], route, r.attrs[1], reason,
			"then", fmt.Sprintf("more like it are counted and logged once every %s", r.every))...)
		return
	}
	if now.Sub(w.logged) < r.every {
		w.quiet++
		r.mu.Unlock()
		return
	}
	quiet, since := w.quiet, w.logged
	w.logged, w.quiet = now, 0
	r.mu.Unlock()
	if quiet > 0 {
		msg = fmt.Sprintf("%s (and %d more refused for the same reason since %s, not logged)", msg, quiet, since.UTC().Format(time.RFC3339))
	}
	r.log.Warn(msg, append(args, r.attrs[0], route, r.attrs[1], reason, "unlogged", quiet)...)
}

// Count counts one refused request on route for reason without logging
// it: for a refusal logged one by one, where its rate is bounded otherwise.
func (r *Refusals) Count(route, reason string) {
	r.count.WithLabelValues(route, reason).Inc()
}

// Flush logs, for each route and reason, how many were refused and not
// logged since its last line, when there were any: the daemon calls it
// every interval and at shutdown, so that the tail of a flood is told even
// when no refusal comes after it.
func (r *Refusals) Flush() {
	now := r.now()
	type tail struct {
		refusedKind
		n     int
		since time.Time
	}
	var tails []tail
	r.mu.Lock()
	for k, w := range r.kinds {
		if w.quiet > 0 {
			tails = append(tails, tail{k, w.quiet, w.logged})
			w.logged, w.quiet = now, 0
		}
	}
	r.mu.Unlock()
	for _, t := range tails {
		r.log.Warn(fmt.Sprintf("refused %d more on %s (%s) since %s, not logged one by one",
			t.n, t.route, t.reason, t.since.UTC().Format(time.RFC3339)),
			r.attrs[0], t.route, r.attrs[1], t.reason, "unlogged", t.n)
	}
}
