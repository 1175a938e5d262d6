package console

import (
	"net/http"
	"time"

	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/report"
)

// Health is the state of the running vigie, as the health page shows it.
type Health struct {
	Version     string
	RulesFile   string
	Rules       int
	RulesLoaded time.Time
	Store       string
	Platforms   []string
	Paused      bool
	PausedUntil time.Time
	// Degraded lists what does not work fully: a platform reconnecting, the
	// store away, a refused reload.
	Degraded []string
	// OpenCases and OldestOpen are the desk's backlog.
	OpenCases  int
	OldestOpen time.Time
}

// periods are the report page's choices.
var periods = []string{"24h", "7d", "30d"}

// reportPeriod reads ?since= (24h by default), as the CLI's --since.
func reportPeriod(r *http.Request) (string, time.Duration, error) {
	since := r.FormValue("since")
	if since == "" {
		since = "24h"
	}
	d, err := handlers.ParseDuration(since)
	return since, d, err
}

// periodReport builds the report of the period the request asks for
// (?since=, 24h by default); on failure it has answered the request.
func (c *Console) periodReport(w http.ResponseWriter, r *http.Request) (string, *report.Report, bool) {
	since, d, err := reportPeriod(r)
	if err != nil {
		http.Error(w, "since: "+err.Error(), http.StatusBadRequest)
		return "", nil, false
	}
	rep, err := c.o.Report(r.Context(), d, r.FormValue("community"))
	if err != nil {
		http.Error(w, "report: "+err.Error(), http.StatusServiceUnavailable)
		return "", nil, false
	}
	return since, rep, true
}

// reports shows the report of a period: figures, the chart, rules with their
// overturns (the false-positive signal), alerts, the FAQ, offenders.
func (c *Console) reports(w http.ResponseWriter, r *http.Request, a account) {
	since, rep, ok := c.periodReport(w, r)
	if !ok {
		return
	}
	c.render(w, http.StatusOK, "reports.html", map[string]any{
		"Account": a, "Nav": "reports", "Report": rep, "Since": since, "Periods": periods,
		"Community": r.FormValue("community"), "Communities": c.communities(),
	})
}

// reportFile serves the period's chart (PNG) or its CSV (one row per rule
// and hour), to download.
func (c *Console) reportFile(format string) func(http.ResponseWriter, *http.Request, account) {
	return func(w http.ResponseWriter, r *http.Request, _ account) {
		since, rep, ok := c.periodReport(w, r)
		if !ok {
			return
		}
		if format == "png" {
			b, err := rep.Chart()
			if err != nil {
				http.Error(w, "chart: "+err.Error(), http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "image/png")
			w.Write(b)
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="vigie-report-`+since+`.csv"`)
		if err := rep.Write(w, report.FormatCSV); err != nil {
			c.o.Log.Warn("console: report csv", "err", err)
		}
	}
}

// health shows each part's state.
func (c *Console) health(w http.ResponseWriter, r *http.Request, a account) {
	c.render(w, http.StatusOK, "health.html", map[string]any{"Account": a, "Nav": "health", "Health": c.o.Health(r.Context())})
}
