package meta

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// Results of a webhook request, as vigie_meta_webhook_requests_total counts them.
const (
	resultAccepted     = "accepted"
	resultBadSignature = "bad_signature"
	resultTooLarge     = "too_large"
	resultMalformed    = "malformed"
	resultBusy         = "busy"
	resultClosing      = "shutting_down"
	resultUnchecked    = "unchecked"
	resultHandshakeOK  = "handshake_ok"
	resultHandshakeNo  = "handshake_refused"
)

type metrics struct {
	requests *prometheus.CounterVec
	entries  *prometheus.CounterVec
}

// newMetrics registers the connector's metrics with reg when there is one. A
// connector built again (a reload) finds its metrics already there and reuses them.
func newMetrics(reg prometheus.Registerer, queueLen, subscribed func() float64, log *slog.Logger) *metrics {
	m := &metrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_meta_webhook_requests_total",
		Help: "Requests to the Meta webhook, by result (accepted, bad_signature, too_large, malformed, busy, shutting_down, unchecked, handshake_ok, handshake_refused).",
	}, []string{"result"}), entries: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_meta_webhook_entries_refused_total",
		Help: "Entries of signed Meta deliveries refused by their own time (stale: older than the dedupe's memory, a replay; future: dated ahead of the clock; undated), or by whom they are about (other_page, other_account), acknowledged but not acted on.",
	}, []string{"reason"})}
	if reg == nil {
		return m
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigie_meta_queue_length",
		Help: "Meta events received and acknowledged, waiting to be evaluated.",
	}, queueLen)
	page := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigie_meta_page_subscribed",
		Help: "0 while the last read of the Page's webhook subscription (GET /{page-id}/subscribed_apps) found vigie's app unsubscribed: Meta sends nothing of the Page; 1 otherwise.",
	}, subscribed)
	m.requests = registerCounter(reg, m.requests, log)
	m.entries = registerCounter(reg, m.entries, log)
	for _, g := range []prometheus.Collector{queue, page} {
		if err := reg.Register(g); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				// The old gauge reads the old connector; the new one
				// replaces it.
				reg.Unregister(are.ExistingCollector)
				_ = reg.Register(g)
			}
		}
	}
	return m
}

// registerCounter registers c with reg, or returns the counter already there.
func registerCounter(reg prometheus.Registerer, c *prometheus.CounterVec, log *slog.Logger) *prometheus.CounterVec {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
				return existing
			}
		} else {
			log.Warn("meta metrics not registered", "err", err)
		}
	}
	return c
}

func (m *metrics) count(result string) { m.requests.WithLabelValues(result).Inc() }

func (m *metrics) refused(reason string) { m.entries.WithLabelValues(reason).Inc() }
