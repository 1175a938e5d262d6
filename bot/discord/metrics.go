package discord

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
)

type metrics struct {
	events       *prometheus.CounterVec
	interactions *prometheus.CounterVec
	foreign      *prometheus.CounterVec
	verify       *prometheus.CounterVec
	connected    prometheus.Gauge
	held         *prometheus.CounterVec
	sessionsLost prometheus.Counter
	caughtUp     prometheus.Counter
	clockOffset  prometheus.Gauge
}

// newMetrics makes the connector's metrics and registers them with reg when
// there is one.
func newMetrics(reg prometheus.Registerer, queueLen func() float64, log *slog.Logger) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_discord_events_total",
			Help: "Gateway events handed to the rules, by kind (message, edit, join).",
		}, []string{"kind"}),
		interactions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_discord_interactions_total",
			Help: "Desk buttons pressed and /vigie commands, by type (button, command) and result (allowed, refused, busy: turned away, too many waiting for a worker).",
		}, []string{"type", "result"}),
		foreign: bot.NewForeignEventsCounter(Platform),
		verify:  bot.NewVerificationsCounter(Platform),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_discord_gateway_connected",
			Help: "1 while the gateway connection is up.",
		}),
		held: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_discord_held_calls_total",
			Help: "REST calls answered by vigie without reaching Discord, by reason: rate_limit and global_rate_limit (a limit of Discord's longer than 5s runs), missing_permission (Discord refused the same call less than a minute ago), token_refused (Discord refused the token less than a minute ago).",
		}, []string{"reason"}),
		sessionsLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_discord_sessions_lost_total",
			Help: "Gateway sessions Discord would not resume: a new session started, and the messages posted in the gap were read from the channels' history.",
		}),
		caughtUp: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_discord_caught_up_messages_total",
			Help: "Messages posted while a gateway session was lost, read from the channels' history and handed to the rules.",
		}),
		clockOffset: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_discord_clock_offset_seconds",
			Help: "Discord's clock less the host's, as the Date header of Discord's last answer says: negative when the host's clock is ahead. vigie warns past a minute.",
		}),
	}
	if reg == nil {
		return m
	}
	queue := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigie_discord_queue_length",
		Help: "Gateway events received, waiting for the rules.",
	}, queueLen)
	// The shards a process runs each have a Client: the first registers the
	// metrics, the others count in them.
	m.events = adopt(reg, m.events, log)
	m.interactions = adopt(reg, m.interactions, log)
	m.foreign = adopt(reg, m.foreign, log)
	m.verify = adopt(reg, m.verify, log)
	m.connected = adopt(reg, m.connected, log)
	m.held = adopt(reg, m.held, log)
	m.sessionsLost = adopt(reg, m.sessionsLost, log)
	m.caughtUp = adopt(reg, m.caughtUp, log)
	m.clockOffset = adopt(reg, m.clockOffset, log)
	adopt(reg, queue, log)
	return m
}

// adopt registers c, or returns the collector registered before it under
// its name.
func adopt[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("discord metrics not registered", "err", err)
	return c
}
