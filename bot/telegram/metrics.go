package telegram

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
)

type metrics struct {
	adminLookups *prometheus.CounterVec
	adminsForgot *prometheus.CounterVec
	foreign      *prometheus.CounterVec
	verify       *prometheus.CounterVec
	inbox        *prometheus.CounterVec
}

// newMetrics makes the connector's metrics and registers them with reg when
// there is one.
func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		adminLookups: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_telegram_admin_lookups_total",
			Help: "getChatAdministrators calls, by result (ok, failed). While a chat's lookups fail, its last list known is used, or its authors' roles are unknown.",
		}, []string{"result"}),
		adminsForgot: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_telegram_admin_cache_forgotten_total",
			Help: "Chats whose admin cache entry was forgotten for the cache's bounds, by list: unlisted (a chat named by events that Telegram never listed, such as a made-up one; at most 1,000 are kept) or listed (a chat whose admins Telegram gave, the one least used beyond 10,000). A flood of unlisted never forgets a listed chat.",
		}, []string{"list"}),
		foreign: bot.NewForeignEventsCounter(Platform),
		verify:  bot.NewVerificationsCounter(Platform),
		inbox: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_telegram_inbox_updates_total",
			Help: "Updates of the poller's inbox (kept in the store until their events are judged), by result: handed_on (left by a poller before, killed or stopped, and handed on by this one), dropped (let go past the inbox's cap), poison (let go unjudged: handed on twice already, its handling never ended), expired (let go unjudged: taken longer ago than the store's duplicate check, 72h).",
		}, []string{"result"}),
	}
	if reg == nil {
		return m
	}
	for _, c := range []prometheus.Collector{m.adminLookups, m.adminsForgot, m.foreign, m.verify, m.inbox} {
		if err := reg.Register(c); err != nil {
			log.Warn("telegram metrics not registered", "err", err)
		}
	}
	return m
}
