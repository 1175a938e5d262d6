package daemon

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/countervec"
	"github.com/vigie-bot/vigie/rules"
)

// metrics are the daemon's own; the handlers register theirs (actions, cases).
type metrics struct {
	events   *prometheus.CounterVec
	ruleHits *prometheus.CounterVec
	// eventsBy and ruleHitsBy are their counters by label values, found
	// once: every event moves them.
	eventsBy   *countervec.Memo[[2]string]
	ruleHitsBy *countervec.Memo[[3]string]
	ruleErrors *prometheus.CounterVec
	evaluation prometheus.Histogram
	duplicates prometheus.Counter
	reloadOK   prometheus.Gauge
	reloadAt   prometheus.Gauge
	laneWait   prometheus.Histogram
	// deskFailures counts what a desk did not show, by desk and kind.
	deskFailures *prometheus.CounterVec
	// deskMissed are the cases shown on the other desks while a desk was
	// passed over, not shown there yet, by desk.
	deskMissed *prometheus.GaugeVec
	// recovered counts the verdicts taken from the journal, by result:
	// resumed (carried out again) or deferred (made a case after maxTries).
	recovered     *prometheus.CounterVec
	journalErrors prometheus.Counter
	// abandoned counts the events posted over HTTP whose sender went away
	// before they were judged; abandonedLog spaces their log lines.
	abandoned    prometheus.Counter
	abandonedLog bot.Turn
}

func newMetrics(reg prometheus.Registerer, version string) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_events_total",
			Help: "Events received, by platform and kind.",
		}, []string{"platform", "kind"}),
		ruleHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_rule_hits_total",
			Help: "Rule matches, by rule, category and mode (enforce or shadow).",
		}, []string{"rule", "category", "mode"}),
		ruleErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_rule_errors_total",
			Help: "Run-time failures of a rule's expression (counters.NAME for a counter's), by rule.",
		}, []string{"rule"}),
		evaluation: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_evaluation_seconds",
			Help: "Time to evaluate one event, store round trip included.",
			// From 10µs (memory store) to about half a second (a slow Redis).
			Buckets: prometheus.ExponentialBuckets(10e-6, 4, 9),
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_duplicates_total",
			Help: "Events dropped because their id was already seen (webhook retries).",
		}),
		reloadOK: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_config_last_reload_successful",
			Help: "Whether the last load of the rule file succeeded (1) or was refused (0).",
		}),
		laneWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_lane_wait_seconds",
			Help: "Time a verdict waited in its place's lane before its actions were carried out.",
			// From 1ms to about a minute (a place rate-limited by its platform).
			Buckets: prometheus.ExponentialBuckets(1e-3, 4, 9),
		}),
		recovered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_journal_recovered_total",
			Help: "Verdicts a stopped vigie left unfinished, taken from the journal: resumed (carried out again) or deferred (left to the desk after too many tries); judged_again counts the events whose first judging stopped before its verdict was journaled, judged again on their retry.",
		}, []string{"result"}),
		journalErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_journal_errors_total",
			Help: "Journal writes and reads that failed: a verdict not journaled, not removed, or not renewed; the pending mark of an event being judged not renewed (tried again on the next round).",
		}),
		abandoned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_events_abandoned_total",
			Help: "Events posted over HTTP whose sender closed the connection (or gave up) before they were judged: not judged and not answered; a sender that tries again has them judged then.",
		}),
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_config_last_reload_success_timestamp_seconds",
			Help: "When the rule file was last loaded successfully.",
		}),
		deskFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_desk_failures_total",
			Help: "Cards, alerts and reports a desk did not show, by desk and kind: refused (for good, as it is) or unreachable (for now; each attempt counts), also when another desk showed them.",
		}, []string{"desk", "kind"}),
		deskMissed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_desk_missed_cases",
			Help: "Cases the other desks showed while this desk did not answer, waiting to be shown there once it does, by desk.",
		}, []string{"desk"}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "vigie_build_info",
		Help:        "Always 1; the version is a label.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	m.eventsBy, m.ruleHitsBy = countervec.Of2(m.events), countervec.Of3(m.ruleHits)
	for _, r := range []string{"resumed", "deferred", "judged_again"} {
		m.recovered.WithLabelValues(r)
	}
	reg.MustRegister(m.events, m.ruleHits, m.ruleErrors, m.evaluation, m.duplicates, m.reloadOK, m.reloadAt, m.laneWait, m.deskFailures, m.deskMissed, m.recovered, m.journalErrors, m.abandoned, build)
	return m
}

// ruleError counts one run-time failure; it is the engine's
// rules.Options.RuleError.
func (m *metrics) ruleError(e rules.RuleError) {
	m.ruleErrors.WithLabelValues(e.Rule).Inc()
}

// abandonedLogEvery spaces the log lines about events their sender gave up.
const abandonedLogEvery = time.Minute

// abandon counts an event whose sender went away before it was judged, and
// says whether to log it: once a minute at most, as an overloaded vigie
// whose senders give up would otherwise write a line for each (12,000 a
// minute in a soak), hiding the rest of its log.
func (m *metrics) abandon(now time.Time) bool {
	m.abandoned.Inc()
	return m.abandonedLog.Take(now, abandonedLogEvery)
}
