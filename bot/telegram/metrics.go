package telegram

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	adminLookups *prometheus.CounterVec
	foreign      *prometheus.CounterVec
	verify       *prometheus.CounterVec
}

// newMetrics makes the connector's metrics and registers them with reg when
// there is one.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		adminLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_telegram_admin_lookups_total",
			Help: "getChatAdministrators calls, by result (ok, failed). While a chat's lookups fail, its last list known is used, or its authors' roles are unknown.",
		}, []string{"result"}),
		foreign: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "vigie_foreign_events_total",
			Help:        "Events, commands and button presses from places vigie does not moderate, ignored; by platform and kind.",
			ConstLabels: prometheus.Labels{"platform": Platform},
		}, []string{"kind"}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name:        "vigie_verifications_total",
			Help:        "New members' verifications, by platform and result: asked, passed, kicked, kept (held past the time limit), left (gone before it), released (verification turned off meanwhile), refused (a press by someone else), failed (the platform refused to hold, post, lift or kick).",
			ConstLabels: prometheus.Labels{"platform": Platform},
		}, []string{"result"}),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{m.adminLookups, m.foreign, m.verify} {
		if err := reg.Register(c); err != nil {
			log.Warn("telegram metrics not registered", "err", err)
		}
	}
	return m
}
