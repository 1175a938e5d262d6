package daemon

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/alert"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/wave"
	"github.com/vigie-bot/vigie/store"
)

// afterHours is what vigie does for the hours no CM watches: the shift, crisis
// alerts, the hourly event tallies and the morning report.
type afterHours struct {
	shift   *handlers.Shift
	alerts  *alert.Alerter
	tally   *report.Tally
	morning *report.Morning
	cases   *handlers.Escalation
}

// buildAfterHours wires the after-hours parts; the shift was made before the
// handlers, which record its mode.
func (d *daemon) buildAfterHours(rs *rules.Ruleset, shift *handlers.Shift, desk handlers.Desk, reg prometheus.Registerer) error {
	a := &afterHours{shift: shift}
	rulesNow := func() *rules.Ruleset { return d.current.Load().engine.Ruleset() }
	var alertDesk alert.Desk
	if desk != nil {
		alertDesk = &alertsDesk{desk: desk, crowded: d.observerCrowded}
	}
	var err error
	a.alerts, err = alert.New(rs.WaveAlerts(), alert.Options{
		Store: d.store, Desk: alertDesk, Logger: d.log.With("handler", "alert"), Registerer: reg,
		Now: d.cfg.Now, AfterFunc: d.cfg.AfterFunc,
		Location: func() *time.Location { return rulesNow().Timezone },
		CMs:      func() []string { return rulesNow().Desk.CMs },
		Community: func(platform, space string) *rules.Community {
			return rulesNow().CommunityOf(platform, space)
		},
		PlaceName: d.placeName,
	})
	if err != nil {
		return err
	}
	host, _ := os.Hostname()
	// On the wall clock: only a name no other process takes.
	a.tally = report.NewTally(host + ":" + strconv.Itoa(os.Getpid()) + ":" + strconv.FormatInt(time.Now().UnixNano()%1e6, 36))
	var reportDesk report.Desk
	if desk != nil {
		reportDesk = desk
	}
	a.morning = report.NewMorning(report.MorningOptions{
		Source:     d.reportSource,
		Store:      d.store,
		Desk:       reportDesk,
		AfterHours: shift.AfterHours,
		Schedule:   func(t time.Time) bool { return rulesNow().AfterHours(t) },
		Before:     d.flushTally,
		Now:        d.cfg.Now,
		AfterFunc:  d.cfg.AfterFunc,
		Logger:     d.log.With("handler", "report"),
		Rules:      rulesNow,
	})
	a.cases, err = handlers.NewEscalation(d.mod, handlers.EscalationOptions{
		Age:        envDuration(d.cfg.Getenv, "VIGIE_ESCALATE_AFTER", 2*time.Hour),
		Interval:   envDuration(d.cfg.Getenv, "VIGIE_ESCALATE_EVERY", time.Hour),
		TTL:        envDuration(d.cfg.Getenv, "VIGIE_CASE_TTL", handlers.DefaultCaseTTL),
		Registerer: reg,
	})
	if err != nil {
		return err
	}
	for _, mode := range []string{handlers.ShiftOffice, handlers.ShiftAfter, "paused"} {
		err := reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "vigie_mode",
			Help:        "1 for the mode vigie is in now: office, after (hours) or paused.",
			ConstLabels: prometheus.Labels{"mode": mode},
		}, func() float64 {
			if d.mod.Mode() == mode {
				return 1
			}
			return 0
		}))
		if err != nil {
			return fmt.Errorf("mode metric: %w", err)
		}
	}
	d.after = a
	return nil
}

// envDuration reads a duration setting, like 2h or 30m, with a default.
func envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	if v := getenv(name); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d > 0 {
			return d
		}
	}
	return def
}

// runAfterHours starts the timers: waves that went quiet, hourly tallies, the
// morning report and old cases. They stop with ctx; wg waits for them.
func (d *daemon) runAfterHours(ctx context.Context, wg *sync.WaitGroup) {
	a := d.after
	loop := func(where string, run func(context.Context) error) {
		wg.Go(func() { d.guard.Loop(ctx, where, func(ctx context.Context) { _ = run(ctx) }) })
	}
	// The morning report and the escalation run in one process of those that
	// share a store, the one holding their lease: so the lockdowns and the
	// timed bans that the escalation's check lifts are lifted once. The crisis alerts end the
	// waves each process follows from the events it judged itself, so they
	// run everywhere; the store's claims keep a wave's alert to one.
	leased := func(job, where string, run func(context.Context) error) {
		wg.Go(func() {
			d.leases.run(ctx, job, func(ctx context.Context, _ store.Lease) {
				d.guard.Loop(ctx, where, func(ctx context.Context) { _ = run(ctx) })
			})
		})
	}
	loop("crisis alerts", a.alerts.Run)
	leased("morning-report", "morning report", a.morning.Run)
	leased("escalation", "escalation", a.cases.Run)
	if d.checksBanBook() {
		leased("ban-book", "ban book check", func(ctx context.Context) error {
			d.cfg.every(ctx, banBookCheck, func() { d.checkBanBook(ctx) })
			return nil
		})
	}
	loop("event tally", func(ctx context.Context) error {
		d.cfg.every(ctx, time.Minute, func() { d.flushTally(ctx) })
		// what was counted is written before the store closes
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		d.flushTally(fctx)
		cancel()
		return nil
	})
}

func (d *daemon) flushTally(ctx context.Context) {
	if err := d.after.tally.Flush(ctx, d.store, d.now()); err != nil {
		d.log.Warn("event tally not written; kept for the next minute", "err", err)
	}
}

// observeAssessment counts the event and follows the crisis alerts: in the
// observer once serve has started it (observer.go).
func (d *daemon) observeAssessment(ctx context.Context, ev bot.Event, as rules.Assessment) {
	if as.Verdict.Duplicate {
		return
	}
	// Counted when handled, as the audit stamps its flags: an event dated
	// hours back (or delivered late) counted at its own time left a report
	// with more flagged than events.
	d.after.tally.Add(ev.Platform, d.now())
	if d.observer != nil {
		d.observer.add(ev, as, d.inline)
		return
	}
	d.after.alerts.Observe(ctx, ev, as)
}

// followAlerts is the observer's work: its context is the daemon's, not a
// request's, so that a caller hanging up does not cut a page half-way. It
// says it is the observer's, for the alerts' desk (alertDesk).
func (d *daemon) followAlerts(ev bot.Event, as rules.Assessment) {
	if !d.guard.Do("crisis alerts", func() { d.after.alerts.Observe(d.observerCtx, ev, as) }) {
		d.log.Error("event not fully followed by the crisis alerts after a panic", "event", ev.Key())
	}
}

// syncAlerts waits for the alerts to have seen the events judged so far.
func (d *daemon) syncAlerts(ctx context.Context) {
	if d.observer != nil {
		d.observer.sync(ctx)
	}
}

// reportSource is where reports read their figures in this process.
func (d *daemon) reportSource() report.Source {
	rs := d.current.Load().engine.Ruleset()
	return report.Source{
		Store:    d.store,
		Events:   report.AuditEvents(d.store, d.after.tally.Pending),
		Alerts:   d.waves,
		FAQ:      d.faqFigures,
		Location: rs.Timezone,
	}
}

// waves are the waves recorded in the store, those under way in this process in
// their current state (the record of a wave under way is the one made when it
// was raised).
func (d *daemon) waves(ctx context.Context, since time.Time) ([]wave.Wave, error) {
	ws, err := alert.Waves(ctx, d.store, since)
	if err != nil {
		return nil, err
	}
	for _, a := range d.after.alerts.Active() {
		for i, w := range ws {
			if w.Alert == a.Alert && w.Platform == a.Platform && w.Space == a.Space && w.Raised.Equal(a.Raised) {
				a.Message = w.Message
				ws[i] = a
			}
		}
	}
	return ws, nil
}

func (d *daemon) faqFigures(since time.Time) *report.FAQ {
	if d.faq == nil {
		return nil
	}
	r := d.faq.Report(since, 3)
	f := &report.FAQ{Answered: r.AnsweredTotal, Unanswered: r.Unanswered}
	for _, g := range r.TopUnanswered {
		f.Missing = append(f.Missing, g.Example)
	}
	return f
}

// handleReport answers GET /v1/report?since=24h&format=text|csv|json: the
// figures `vigie report` prints; &community=NAME keeps to one community.
func (d *daemon) handleReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	since := 24 * time.Hour
	if s := q.Get("since"); s != "" {
		v, err := handlers.ParseDuration(s)
		if err != nil {
			writeError(w, http.StatusBadRequest, "since: "+err.Error())
			return
		}
		since = v
	}
	format := q.Get("format")
	if format == "" {
		format = report.FormatJSON
	}
	switch format {
	case report.FormatText, report.FormatCSV, report.FormatJSON, "png":
	default:
		writeError(w, http.StatusBadRequest, `format: want text, csv, json or png`)
		return
	}
	community := q.Get("community")
	if community != "" {
		if _, err := report.ForCommunity(report.Source{}, d.current.Load().engine.Ruleset(), community); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	rep, err := d.reportNow(r.Context(), since, community)
	if err != nil {
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	switch format {
	case "png":
		b, err := rep.Chart()
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		w.Header().Set("Content-Type", "image/png")
		w.Write(b)
		return
	case report.FormatCSV:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	case report.FormatText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	default:
		w.Header().Set("Content-Type", "application/json")
	}
	if err := rep.Write(w, format); err != nil {
		d.log.Warn("report not fully written", "err", err)
	}
}

// Page and Picture go to every desk that can; a desk that cannot page gets the
// alert as usual.
func (ds *deskFanout) Page(ctx context.Context, text string) error {
	f := ds.send(ctx, func(ctx context.Context, d handlers.Desk) error {
		if p, ok := d.(alert.Pager); ok {
			return p.Page(ctx, text)
		}
		return d.Alert(ctx, text)
	})
	ds.logShown(f, "a page")
	return f.err(bot.ActAlert)
}

func (ds *deskFanout) Picture(ctx context.Context, text, name string, png []byte) error {
	f := ds.send(ctx, func(ctx context.Context, d handlers.Desk) error {
		if p, ok := d.(report.Picturer); ok {
			return p.Picture(ctx, text, name, png)
		}
		return d.Alert(ctx, text)
	})
	ds.logShown(f, "a report")
	return f.err(bot.ActAlert)
}

var (
	_ alert.Pager     = (*deskFanout)(nil)
	_ report.Picturer = (*deskFanout)(nil)
	_ alert.Pager     = (*platformDesk)(nil)
	_ report.Picturer = (*platformDesk)(nil)
)

// rulePriority is the priority of the cases a rule of rs opens.
func rulePriority(rs *rules.Ruleset, rule string) string {
	if rs == nil {
		return ""
	}
	for _, r := range rs.Rules {
		if r.Name == rule {
			return r.Priority
		}
	}
	return ""
}

// reportFor is the report of the last period, as text and chart, for the desks:
// of one community, or of everything when community is "".
func (d *daemon) reportFor(ctx context.Context, period time.Duration, community string) (string, []byte, error) {
	r, err := d.reportNow(ctx, period, community)
	if err != nil {
		return "", nil, err
	}
	png, err := r.Chart()
	if err != nil {
		return r.Text(), nil, nil
	}
	return r.Text(), png, nil
}

// banBookCheck is how often the ban book is checked against the platforms'
// lists of bans: the Meta page token's check's cadence. A Page that blocked
// tens of thousands is read in a few hundred calls at worst, and usually one
// (the read stops once every member of the book was seen).
const banBookCheck = 15 * time.Minute

// checksBanBook says whether a platform on here shows its list of bans
// (bot.BanLister: a Facebook Page) and the store can list its ban book.
func (d *daemon) checksBanBook() bool {
	if _, ok := d.store.(store.BanLister); !ok {
		return false
	}
	for _, c := range d.conns {
		for _, p := range c.Platforms {
			if _, ok := p.(bot.BanLister); ok {
				return true
			}
		}
	}
	return false
}

// checkBanBook forgets the bans lifted by hand in the platforms' own tools
// (Moderator.CheckBanBook); what it could not read is tried at the next
// check.
func (d *daemon) checkBanBook(ctx context.Context) {
	n, err := d.mod.CheckBanBook(ctx)
	if err != nil && ctx.Err() == nil {
		d.log.Warn("the ban book checked in part; the rest at the next check", "forgotten", n, "err", err)
		return
	}
	if n > 0 {
		d.log.Info("the ban book checked: bans lifted by hand forgotten", "forgotten", n)
	}
}
