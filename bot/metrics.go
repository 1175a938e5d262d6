package bot

import "github.com/prometheus/client_golang/prometheus"

// The metrics every chat connector counts under one name, told apart by a
// platform label. A registry refuses a second collector of a name whose help
// differs, so the connectors make them here, alike.

// NewForeignEventsCounter is vigie_foreign_events_total{platform, kind}.
func NewForeignEventsCounter(platform string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "vigie_foreign_events_total",
		Help:        "Events, commands and button presses from places vigie does not moderate, ignored; by platform and kind.",
		ConstLabels: prometheus.Labels{"platform": platform},
	}, []string{"kind"})
}

// NewVerificationsCounter is vigie_verifications_total{platform, result},
// result one of the Verify… outcomes.
func NewVerificationsCounter(platform string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name:        "vigie_verifications_total",
		Help:        "New members' verifications, by platform and result: asked, passed, kicked, kept (held past the time limit), left (gone before it), released (verification turned off meanwhile), refused (a press by someone else), failed (the platform refused to hold, post, lift or kick), not_asked (let in unasked: too many waiting to be asked, or vigie stopping).",
		ConstLabels: prometheus.Labels{"platform": platform},
	}, []string{"result"})
}
