package report

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

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
	Logger *slog.Logger
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
}

// NewMorning returns the morning report's scheduler.
func NewMorning(o MorningOptions) *Morning {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Morning{o: o, log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler))}
}

// checkEvery is how often Run looks at the shift.
const checkEvery = time.Minute

// Run checks the shift every minute until ctx ends. The first look only learns
// the mode: a vigie started during office hours reports at the next morning.
// So does a Run started again (the report's job moved back to this instance
// from another): what it saw before, hours ago maybe, says nothing of now.
func (m *Morning) Run(ctx context.Context) error {
	m.known = false
	t := time.NewTicker(checkEvery)
	defer t.Stop()
	for {
		m.Check(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Check sends the report if after hours just ended, and reports whether it did.
func (m *Morning) Check(ctx context.Context) bool {
	now := m.o.Now()
	after := m.o.AfterHours(now)
	was, known := m.wasAfter, m.known
	m.wasAfter, m.known = after, true
	if !known || !was || after {
		return false
	}
	since := m.periodStart(now)
	if !m.claim(ctx, now) {
		m.log.Info("morning report sent by another instance")
		return false
	}
	if err := m.Send(ctx, since, now); err != nil {
		m.log.Error("morning report not sent", "err", err)
		return false
	}
	return true
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

// claim makes sure one instance of those sharing a store sends today's report.
func (m *Morning) claim(ctx context.Context, now time.Time) bool {
	loc := time.UTC
	if src := m.o.Source(); src.Location != nil {
		loc = src.Location
	}
	res, err := m.o.Store.Observe(ctx, store.Observation{At: now, Platform: "vigie", Space: "report", Author: "morning",
		EventID: "morning:" + now.In(loc).Format("2006-01-02T15"), DedupeTTL: 12 * time.Hour})
	if err != nil {
		m.log.Warn("morning report claim failed; sending anyway", "err", err)
		return true
	}
	return !res.Duplicate
}

// Send builds the report of [since, until) and posts it with its chart.
func (m *Morning) Send(ctx context.Context, since, until time.Time) error {
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
	var err1 error
	if p, ok := m.o.Desk.(Picturer); ok {
		png, err := r.Chart()
		if err != nil {
			return err
		}
		if err := p.Picture(ctx, text, "vigie-report.png", png); err != nil {
			err1 = fmt.Errorf("morning report: %w", err)
		}
	} else if err := m.o.Desk.Alert(ctx, text); err != nil {
		err1 = fmt.Errorf("morning report: %w", err)
	}
	// A community's report that fails is logged: the file's was sent.
	if err := m.sendCommunities(ctx, since, until); err != nil {
		m.log.Error("a community's morning report not sent", "err", err)
	}
	return err1
}

// sendCommunities sends each community with a desk of its own its report,
// as text: the file's desk has the whole one, chart included. A community
// whose cases go to the file's desk gets none of its own.
func (m *Morning) sendCommunities(ctx context.Context, since, until time.Time) error {
	cd, ok := m.o.Desk.(CommunityDesk)
	if !ok || m.o.Rules == nil {
		return nil
	}
	rs := m.o.Rules()
	var errs []error
	for _, c := range rs.Communities {
		if c.Desk.TelegramChat == "" && c.Desk.DiscordChannel == "" {
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
			errs = append(errs, fmt.Errorf("morning report of community %s: %w", c.Name, err))
		}
	}
	return errors.Join(errs...)
}
