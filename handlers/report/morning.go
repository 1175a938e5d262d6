package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/vigie-bot/vigie/handlers/internal/clockwait"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// Desk is where the morning report goes: handlers.Desk satisfies it. A desk that
// is also a Picturer gets the chart.
type Desk interface {
	Alert(ctx context.Context, text string) error
}

// CommunityDesk is a desk that can show a text on a community's own desk
// (handlers.CommunityDesk is one).
type CommunityDesk interface {
	AlertCommunity(ctx context.Context, community, text string) error
}

// Picturer is a desk that can show a picture with a text.
type Picturer interface {
	Picture(ctx context.Context, text, name string, png []byte) error
}

// MorningOptions are what the morning report needs.
type MorningOptions struct {
	// Source gives the report's sources, asked each time (the timezone follows
	// reloads of the rule file).
	Source func() Source
	Store  store.Store
	Desk   Desk
	// AfterHours is the shift, manual overrides included: the report goes when it
	// turns from after hours to office hours.
	AfterHours func(time.Time) bool
	// Schedule is the rule file's office hours alone (true after hours): the
	// report covers the after-hours period that just ended.
	Schedule func(time.Time) bool
	// Before, when set, runs before the report is built (write the hour's tally).
	Before func(ctx context.Context)
	Now    func() time.Time
	// AfterFunc is the timer of Now's clock, as handlers.Options.AfterFunc:
	// Run looks a minute after each look on it. Nil means time.AfterFunc.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	Logger    *slog.Logger
	// Rules, when set, is the rule file now: each community with a desk of
	// its own (a chat or a channel) gets its own report there, for the same
	// period, when Desk is a CommunityDesk.
	Rules func() *rules.Ruleset
}

// Morning sends the shift's report to the desk at the start of office hours.
type Morning struct {
	o        MorningOptions
	log      *slog.Logger
	wasAfter bool
	known    bool
	// pending is the report a desk did not take, tried again at each check.
	pending *pending
	// watch is the change-over whose report another instance holds but has
	// not sent yet: it is claimed again at each look while the looks cover it.
	watch time.Time
}

// pending is a report not yet shown on every desk it is for.
type pending struct {
	since, until time.Time
	// changeOver names the report in the store (its claim, its sent mark).
	changeOver time.Time
	// file: the file's desk still waits for it; communities: these
	// communities' desks do (all of them while every is set).
	file        bool
	every       bool
	communities []string
}

// retryFor is how long a report a desk refused (a platform down at 9:00) is
// tried again, once a minute, after its period ended.
const retryFor = time.Hour

// NewMorning returns the morning report's scheduler.
func NewMorning(o MorningOptions) *Morning {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		// Without a clock given (Now), the wall clock's timers.
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	return &Morning{o: o, log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler))}
}

// checkEvery is how often Run looks at the shift.
const checkEvery = time.Minute

// lookBack is how far back the first look of a Run asks whether after hours
// just ended: the report's job moves between instances (or a vigie restarts)
// in seconds, and the report whose change-over fell in that gap is still sent.
const lookBack = 3 * checkEvery

// Run checks the shift every minute (on Now's clock, a minute after each look
// ended) until ctx ends. The first look sends the
// report only if after hours ended in the last few minutes (lookBack): a vigie
// started during office hours reports at the next morning. So does a Run
// started again (the report's job moved back to this instance from another):
// what it saw before, hours ago maybe, says nothing of now.
func (m *Morning) Run(ctx context.Context) error {
	m.known, m.watch = false, time.Time{}
	for {
		m.Check(ctx)
		if !clockwait.Sleep(ctx, m.o.AfterFunc, checkEvery) {
			return nil
		}
	}
}

// Check sends the report if after hours just ended, or tries again a report a
// desk did not take, and reports whether the file's desk got one.
func (m *Morning) Check(ctx context.Context) bool {
	now := m.o.Now()
	after := m.o.AfterHours(now)
	was, known := m.wasAfter, m.known
	m.wasAfter, m.known = after, true
	sent := false
	if p := m.pending; p != nil {
		m.pending = nil
		if now.Sub(p.until) > retryFor {
			m.log.Error("morning report given up: the desk did not take it", "since", p.since, "until", p.until)
		} else {
			if p.file && m.sent(ctx, p.changeOver, "") {
				// Another instance took the report over and sent it.
				p.file = false
			}
			sent = m.deliver(ctx, p)
		}
	}
	if after {
		m.watch = time.Time{}
		return sent
	}
	if !known {
		was = m.o.AfterHours(now.Add(-lookBack))
	}
	co := m.changeOver(now)
	if !was {
		if m.watch.IsZero() {
			return sent
		}
		if !co.Equal(m.watch) {
			// The looks no longer cover that change-over.
			m.watch = time.Time{}
			return sent
		}
	}
	m.watch = time.Time{}
	switch m.claim(ctx, co) {
	case claimSent:
		m.log.Info("morning report sent by another instance")
		return sent
	case claimHeld:
		m.log.Info("morning report held by another instance; taken over if not sent when the hold runs out")
		m.watch = co
		return sent
	}
	// The report covers the period that ended at the change-over, also when
	// it is sent minutes later (the job moved, a claim was taken over).
	return m.deliver(ctx, &pending{since: m.periodStart(co), until: co, changeOver: co, file: true, every: true}) || sent
}

// deliver builds p's report and shows it on the desks that still wait for it;
// what a desk refused is kept for the next check. It reports whether the
// file's desk took it.
func (m *Morning) deliver(ctx context.Context, p *pending) bool {
	sent := false
	if p.file {
		if err := m.sendFile(ctx, p.since, p.until); err != nil {
			m.log.Warn("morning report not sent; trying again in a minute", "err", err)
		} else {
			p.file, sent = false, true
			m.markSent(ctx, p.changeOver, "")
		}
	}
	if p.every || len(p.communities) > 0 {
		failed, err := m.sendCommunities(ctx, p.since, p.until, p.every, p.communities, p.changeOver)
		if err != nil {
			m.log.Warn("a community's morning report not sent; trying again in a minute", "err", err)
		}
		p.every, p.communities = false, failed
	}
	if p.file || len(p.communities) > 0 {
		m.pending = p
	}
	return sent
}

// changeOver is the first minute of office hours that began at most
// lookBack+checkEvery before now: the instances sharing a store claim the
// report by it, whichever of them looks and when.
func (m *Morning) changeOver(now time.Time) time.Time {
	t := now.Truncate(time.Minute)
	for range int((lookBack + checkEvery) / time.Minute) {
		if m.o.AfterHours(t.Add(-time.Minute)) {
			break
		}
		t = t.Add(-time.Minute)
	}
	return t
}

// maxNight bounds how far back a report looks: a long holiday is a week.
const maxNight = 8 * 24 * time.Hour

// periodStart is when the after-hours period that ends at now began, by the rule
// file's office hours; a CM who forced after hours in the day gets the last 24h.
func (m *Morning) periodStart(now time.Time) time.Time {
	t := now.Truncate(time.Minute)
	if m.o.Schedule == nil || !m.o.Schedule(t.Add(-time.Minute)) {
		return now.Add(-24 * time.Hour)
	}
	for t.Sub(now) > -maxNight && m.o.Schedule(t.Add(-time.Minute)) {
		t = t.Add(-time.Minute)
	}
	return t
}

// claimHold is how long a claim holds a morning's report for the instance
// that made it: the report is sent by then in the ordinary case, and marked
// sent. A claim whose instance stopped (a crash, a deploy) before the mark
// runs out while the looks still cover the change-over (lookBack), and
// another instance, or this one restarted, claims the report and sends it.
const claimHold = 2 * time.Minute

// sentFor is how long a morning's report is remembered as sent.
const sentFor = 12 * time.Hour

// claimed is what a claim found.
type claimed int

const (
	claimTaken claimed = iota // this instance holds the report: send it
	claimHeld                 // another holds it and has not marked it sent
	claimSent                 // it was sent
)

// reportKey names a morning's report in the store by its change-over.
func reportKey(changeOver time.Time) string {
	return "morning:" + changeOver.UTC().Format("2006-01-02T15:04")
}

// sentCounter reads (incr false) or adds to the count of the report's sent
// marks, on the same key as the claim: the file's desk's for community "",
// else that community's desk's.
func sentCounter(changeOver time.Time, community string, incr bool) store.CounterOp {
	key := reportKey(changeOver)
	if community != "" {
		key += "/" + community
	}
	return store.CounterOp{Name: "morning-sent", Key: key, Window: sentFor, Incr: incr}
}

func (m *Morning) observe(ctx context.Context, o store.Observation) (store.Result, error) {
	o.At, o.Wall, o.Platform, o.Space, o.Author = m.o.Now(), true, "vigie", "report", "morning"
	return m.o.Store.Observe(ctx, o)
}

// claim makes sure one instance of those sharing a store sends the report of
// the office hours that began at start: the claim holds it for claimHold, and
// reads whether it was sent, in one call.
func (m *Morning) claim(ctx context.Context, start time.Time) claimed {
	res, err := m.observe(ctx, store.Observation{EventID: reportKey(start), DedupeTTL: claimHold,
		Counters: []store.CounterOp{sentCounter(start, "", false)}})
	switch {
	case err != nil:
		m.log.Warn("morning report claim failed; sending anyway", "err", err)
		return claimTaken
	case res.Duplicate:
		return claimHeld
	case len(res.Counts) > 0 && res.Counts[0] > 0:
		return claimSent
	}
	return claimTaken
}

// sent reports whether the report of the change-over was marked sent to the
// file's desk (community "") or to community's.
func (m *Morning) sent(ctx context.Context, changeOver time.Time, community string) bool {
	res, err := m.observe(ctx, store.Observation{Counters: []store.CounterOp{sentCounter(changeOver, community, false)}})
	return err == nil && len(res.Counts) > 0 && res.Counts[0] > 0
}

// markSent records that the file's desk (community "") or community's took
// the report of the change-over.
func (m *Morning) markSent(ctx context.Context, changeOver time.Time, community string) {
	if _, err := m.observe(ctx, store.Observation{Counters: []store.CounterOp{sentCounter(changeOver, community, true)}}); err != nil {
		m.log.Warn("morning report sent, but not marked sent: another instance may send it again", "community", community, "err", err)
	}
}

// Send builds the report of [since, until) and posts it with its chart to the
// file's desk, and to each community with a desk of its own its own report.
func (m *Morning) Send(ctx context.Context, since, until time.Time) error {
	err := m.sendFile(ctx, since, until)
	_, errc := m.sendCommunities(ctx, since, until, true, nil, time.Time{})
	return errors.Join(err, errc)
}

// sendFile posts the whole report, with its chart, to the file's desk.
func (m *Morning) sendFile(ctx context.Context, since, until time.Time) error {
	if m.o.Desk == nil {
		return errors.New("no desk")
	}
	if m.o.Before != nil {
		m.o.Before(ctx)
	}
	r, err := Build(ctx, m.o.Source(), since, until)
	if err != nil {
		return err
	}
	text := "Good morning. " + r.Text()
	if p, ok := m.o.Desk.(Picturer); ok {
		png, err := r.Chart()
		if err != nil {
			return err
		}
		if err := p.Picture(ctx, text, "vigie-report.png", png); err != nil {
			return fmt.Errorf("morning report: %w", err)
		}
		return nil
	}
	if err := m.o.Desk.Alert(ctx, text); err != nil {
		return fmt.Errorf("morning report: %w", err)
	}
	return nil
}

// sendCommunities sends each community with a desk of its own its report,
// as text (the file's desk has the whole one, chart included): every such
// community, or those named in only. A community whose cases go to the
// file's desk gets none of its own. With a changeOver, the report of that
// morning, a community's desk that took it is marked so, and one marked so
// (by an instance whose report the file's desk refused, taken over since by
// this one) does not get it again. It returns the communities whose desk
// did not take it.
func (m *Morning) sendCommunities(ctx context.Context, since, until time.Time, every bool, only []string, changeOver time.Time) ([]string, error) {
	cd, ok := m.o.Desk.(CommunityDesk)
	if !ok || m.o.Rules == nil {
		return nil, nil
	}
	rs := m.o.Rules()
	var failed []string
	var errs []error
	for _, c := range rs.Communities {
		if c.Desk.TelegramChat == "" && c.Desk.DiscordChannel == "" {
			continue
		}
		if !every && !slices.Contains(only, c.Name) {
			continue
		}
		if !changeOver.IsZero() && m.sent(ctx, changeOver, c.Name) {
			m.log.Info("a community's morning report sent by another instance", "community", c.Name)
			continue
		}
		src, err := ForCommunity(m.o.Source(), rs, c.Name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r, err := Build(ctx, src, since, until)
		if err != nil {
			errs = append(errs, fmt.Errorf("community %s: %w", c.Name, err))
			continue
		}
		if err := cd.AlertCommunity(ctx, c.Name, "Good morning, "+c.Name+". "+r.Text()); err != nil {
			failed = append(failed, c.Name)
			errs = append(errs, fmt.Errorf("morning report of community %s: %w", c.Name, err))
			continue
		}
		if !changeOver.IsZero() {
			m.markSent(ctx, changeOver, c.Name)
		}
	}
	return failed, errors.Join(errs...)
}
