package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/alert"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules/wave"
	"github.com/vigie-bot/vigie/store/redis"
)

// reportCommand is `vigie report`: the figures of the last period, read from
// Redis with --redis, otherwise asked from a running vigie over HTTP.
func (c *cli) report(ctx context.Context, args []string) int {
	f := c.flags("report")
	since := f.String("since", "24h", "cover the last `PERIOD` (like 12h, 24h, 7d)")
	format := f.String("format", "text", "print the report as `text|csv|json|png` (csv: one row per rule and hour)")
	redisURL := f.String("redis", "", "read the figures from the Redis at `URL` that vigie run uses")
	community := f.String("community", "", "keep to the places of the community `NAME` (the rule file's communities:)")
	base := f.urlFlag("without --redis, ")
	config := f.configFlag()
	pos, code, ok := f.parse(args)
	if !ok {
		return code
	}
	if len(pos) > 0 {
		return f.usageError("unexpected argument %q", pos[0])
	}
	period, err := handlers.ParseDuration(*since)
	if err != nil {
		return f.usageError("--since: %v", err)
	}
	switch *format {
	case report.FormatText, report.FormatCSV, report.FormatJSON, "png":
	default:
		return f.usageError("unknown format %q (want text, csv, json or png)", *format)
	}
	if *redisURL != "" {
		err = c.reportFromRedis(ctx, *redisURL, *config, period, *format, *community)
	} else {
		err = c.reportFromHTTP(ctx, *base, *since, *format, *community)
	}
	if err != nil {
		return c.fail("report", err)
	}
	return exitOK
}

// reportFromRedis builds the report from the store itself. The hours are shown in
// the rule file's timezone when the file loads; the FAQ's figures live in the
// running processes and are not in it.
func (c *cli) reportFromRedis(ctx context.Context, rawURL, config string, period time.Duration, format, community string) error {
	st, err := c.openRedis(rawURL)
	if err != nil {
		return err
	}
	defer st.Close()
	src := report.Source{
		Store:  st,
		Events: report.AuditEvents(st, nil),
		Alerts: func(ctx context.Context, since time.Time) ([]wave.Wave, error) { return alert.Waves(ctx, st, since) },
	}
	rs, _, err := vigie.LoadRules(config)
	if err == nil {
		src.Location = rs.Timezone
	}
	if community != "" {
		// the communities' places are the rule file's: it must load
		if err != nil {
			return fmt.Errorf("--community: %w", err)
		}
		if src, err = report.ForCommunity(src, rs, community); err != nil {
			return err
		}
	}
	now := c.now()
	r, err := report.Build(ctx, src, now.Add(-period), now)
	if err != nil {
		return err
	}
	if format == "png" {
		b, err := r.Chart()
		if err != nil {
			return err
		}
		_, err = c.stdout.Write(b)
		return err
	}
	return r.Write(c.stdout, format)
}

// reportFromHTTP asks GET /v1/report of a running vigie and prints the answer.
func (c *cli) reportFromHTTP(ctx context.Context, base, since, format, community string) error {
	api := adminAPI{c: c, base: base}
	q := url.Values{"since": {since}, "format": {format}}
	if community != "" {
		q.Set("community", community)
	}
	body, _, err := api.do(ctx, http.MethodGet, "/v1/report", q, nil, http.StatusOK)
	if err != nil {
		return err
	}
	_, err = c.stdout.Write(body)
	return err
}

// openRedis opens the Redis store of vigie run at rawURL for a command that
// reads it (report, train --from-store, faq --learned), under the keys'
// prefix vigie run uses: VIGIE_REDIS_PREFIX, as the daemon reads it.
func (c *cli) openRedis(rawURL string) (*redis.Store, error) {
	var opts []redis.Option
	if p := c.getenv("VIGIE_REDIS_PREFIX"); p != "" {
		opts = append(opts, redis.WithPrefix(p))
	}
	return redis.Open(rawURL, opts...)
}
