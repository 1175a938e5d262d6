package daemon

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/rules"
)

// metrics are the daemon's own; the handlers register theirs (actions, cases).
type metrics struct {
	events     *prometheus.CounterVec
	ruleHits   *prometheus.CounterVec
	ruleErrors *prometheus.CounterVec
	evaluation prometheus.Histogram
	duplicates prometheus.Counter
	reloadOK   prometheus.Gauge
	reloadAt   prometheus.Gauge
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
		reloadAt: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_config_last_reload_success_timestamp_seconds",
			Help: "When the rule file was last loaded successfully.",
		}),
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "vigie_build_info",
		Help:        "Always 1; the version is a label.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	reg.MustRegister(m.events, m.ruleHits, m.ruleErrors, m.evaluation, m.duplicates, m.reloadOK, m.reloadAt, build)
	return m
}

// ruleError counts one run-time failure; it is the engine's
// rules.Options.RuleError.
func (m *metrics) ruleError(e rules.RuleError) {
	m.ruleErrors.WithLabelValues(e.Rule).Inc()
}
