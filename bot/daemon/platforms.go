package daemon

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/rules"
)

// platformSpec is one platform vigie knows, and the setting that turns it on.
type platformSpec struct {
	name string
	env  string
	// build makes the platform's Connector from the environment; nil while this
	// build has no support for the platform.
	build func(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) (Connector, error)
}

// connectors turns on the platforms whose tokens are set, and says for each why it
// is on or off. It is the one place where platform packages are wired in: a
// platform package adds its build function to the list below. Connectors register
// their metrics with reg.
func connectors(cfg Config, rs *rules.Ruleset, reg prometheus.Registerer) ([]Connector, []string) {
	specs := []platformSpec{
		{name: "discord", env: "DISCORD_TOKEN", build: discordConnector},
		{name: "telegram", env: "TELEGRAM_TOKEN", build: telegramConnector},
		{name: "meta", env: "META_PAGE_TOKEN", build: metaConnector},
	}
	var conns []Connector
	var status []string
	for _, s := range specs {
		switch {
		case cfg.Getenv(s.env) == "":
			status = append(status, fmt.Sprintf("%s off (%s not set)", s.name, s.env))
		case s.build == nil:
			status = append(status, fmt.Sprintf("%s off (%s is set, but this build has no %s support)", s.name, s.env, s.name))
		default:
			c, err := s.build(cfg, rs, reg)
			if err != nil {
				status = append(status, fmt.Sprintf("%s off (%v)", s.name, err))
				continue
			}
			conns = append(conns, c)
			status = append(status, s.name+" on")
		}
	}
	for _, c := range cfg.Connectors {
		conns = append(conns, c)
		status = append(status, c.Name+" on")
	}
	return conns, status
}

// metaConnector is the Facebook Page and its Instagram account: Meta's webhooks in
// at /webhooks/meta, Graph API calls out.
func metaConnector(cfg Config, _ *rules.Ruleset, reg prometheus.Registerer) (Connector, error) {
	secret := cfg.Getenv("META_APP_SECRET")
	if secret == "" {
		return Connector{}, errors.New("META_APP_SECRET not set: Meta's deliveries could not be checked")
	}
	c := meta.New(meta.Config{
		AppSecret:   secret,
		VerifyToken: cfg.Getenv("META_VERIFY_TOKEN"),
		PageToken:   cfg.Getenv("META_PAGE_TOKEN"),
		PageID:      cfg.Getenv("META_PAGE_ID"),
		GraphURL:    cfg.Getenv("META_GRAPH_URL"),
		Logger:      cfg.Logger,
		Registerer:  reg,
		// On shutdown, the events Meta was told were received go to the rules
		// first; the rest of the drain is for the workers to act on them.
		DrainTimeout: cfg.ShutdownTimeout * 2 / 3,
	})
	return Connector{
		Name:      "meta",
		Source:    c,
		Platforms: c.Platforms(),
		Routes:    map[string]http.Handler{"/webhooks/meta": c.Handler()},
	}, nil
}

var _ bot.Source = (*meta.Connector)(nil)
