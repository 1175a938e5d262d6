// Package alert wakes the CMs for a crisis: when an alert of the rule file holds
// in a space, the desk gets one message that mentions them, with how many hits,
// which rules, a few examples and since when; nothing more while the wave lasts,
// and a second message when it is over. Waves are recorded in the audit log for
// the reports.
package alert

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/wave"
	"github.com/vigie-bot/vigie/store"
)

// Desk is where alerts go: handlers.Desk satisfies it. A desk that is also a
// Pager mentions the CMs.
type Desk interface {
	Alert(ctx context.Context, text string) error
}

// CommunityDesk is a desk that can show an alert on a community's own desk
// (handlers.CommunityDesk is one).
type CommunityDesk interface {
	AlertCommunity(ctx context.Context, community, text string) error
}

// Pager is a desk that can page the CMs: a message that mentions each of them.
type Pager interface {
	Page(ctx context.Context, text string) error
}

// Kind is the event kind of the audit entries that record waves; they match no
// rule, so the other readers of the audit log pass them by.
const Kind bot.Kind = "alert"

// Audit modes of the wave entries.
const (
	ModeRaised = "alert-raised"
	ModeOver   = "alert-over"
)

// Options are what an Alerter works with.
type Options struct {
	Store store.Store
	// Desk may be nil: alerts are then only logged and recorded.
	Desk       Desk
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock that ends quiet waves and times the desk's retries;
	// nil is time.Now.
	Now func() time.Time
	// AfterFunc is the timer of Now's clock, as handlers.Options.AfterFunc:
	// Run looks for quiet waves and for messages to try again on it. Nil
	// means time.AfterFunc.
	AfterFunc func(d time.Duration, f func()) (stop func() bool)
	// Location is the timezone of the times in messages; nil is UTC.
	Location func() *time.Location
	// CMs names the desk's CMs in the text when the desk cannot page them.
	CMs func() []string
	// Community is the community of a wave's place (platform and space), or
	// nil; nil Community is no communities. A community's waves go to its
	// desk when Desk is a CommunityDesk, naming its CMs and the file's.
	Community func(platform, space string) *rules.Community
	// PlaceName, when set, names a wave's place as its members read it
	// (a Telegram group's title), "" when it cannot: the page says it
	// before the ids.
	PlaceName func(platform, space string) string
}

// Alerter follows the waves and tells the desk. It is safe for concurrent use.
type Alerter struct {
	o       Options
	log     *slog.Logger
	tracker *wave.Tracker

	mu sync.Mutex
	// messages are the expanded texts of the waves under way, by alert and space.
	messages map[string]string
	// unsent are the messages the desk did not take for a reason that may pass
	// (a 5xx, a 429, the network), tried again by Run.
	unsent []unsent

	raised *prometheus.CounterVec
	active *prometheus.GaugeVec
}

// New returns an Alerter for the alerts and registers its metrics.
func New(alerts []wave.Alert, o Options) (*Alerter, error) {
	if o.Store == nil {
		return nil, errors.New("alert: no store")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AfterFunc == nil {
		// Without a clock given (Now), the wall clock's timers.
		o.AfterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	a := &Alerter{
		o: o, log: cmp.Or(o.Logger, slog.New(slog.DiscardHandler)),
		tracker:  wave.NewTracker(alerts, wave.Options{}),
		messages: map[string]string{},
		raised: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_alerts_total",
			Help: "Crisis alerts, by alert and state: raised (the desk was paged) or over.",
		}, []string{"alert", "state"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_alerts_active",
			Help: "Crisis waves under way, by alert.",
		}, []string{"alert"}),
	}
	if o.Registerer != nil {
		for _, c := range []prometheus.Collector{a.raised, a.active} {
			if err := o.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("alert: register metrics: %w", err)
			}
		}
	}
	a.SetAlerts(alerts)
	return a, nil
}

// SetAlerts follows the alerts of a reloaded rule file; waves of alerts still
// in it go on.
func (a *Alerter) SetAlerts(alerts []wave.Alert) {
	a.tracker.SetAlerts(alerts)
	for _, al := range alerts {
		a.raised.WithLabelValues(al.Name, "raised")
		a.raised.WithLabelValues(al.Name, "over")
	}
	a.setActive()
}

// Observe follows one evaluated event: its verdict's matches feed the waves under
// way, and the alerts that held may raise a wave.
func (a *Alerter) Observe(ctx context.Context, ev bot.Event, as rules.Assessment) {
	if as.Verdict.Duplicate {
		return
	}
	// In room on the stack for a rule file's few alerts: the tracker does
	// not keep the list, and this runs for every event.
	var room [4]wave.Holding
	holding := room[:0]
	for _, c := range as.Alerts {
		holding = append(holding, wave.Holding{Alert: c.Alert, Count: c.Count})
	}
	at := cmp.Or(as.Verdict.At, ev.At)
	raised, over := a.tracker.Observe(ev, at, as.Verdict.Matches, holding)
	for _, w := range raised {
		w.Message = cmp.Or(as.AlertMessage(w.Alert, &ev), w.Message)
		a.mu.Lock()
		a.messages[key(w)] = w.Message
		a.mu.Unlock()
		a.raise(ctx, w)
	}
	for _, w := range over {
		a.over(ctx, w)
	}
	if len(raised)+len(over) > 0 {
		a.setActive()
	}
}

// every is how often Run looks for waves that went quiet.
const every = 30 * time.Second

// A message the desk did not take is tried again after retryFirst, then twice
// as long each time up to retryMax, retryAttempts times in all (about ten
// minutes): a crisis page must not be lost to one refusal of Telegram's.
const (
	retryFirst    = 5 * time.Second
	retryMax      = 2 * time.Minute
	retryAttempts = 8
	// maxUnsent bounds the messages waiting; beyond, the oldest is dropped.
	maxUnsent = 64
)

// unsent is a message for the desk, waiting to be tried again.
type unsent struct {
	w        wave.Wave
	text     string
	page     bool
	attempts int
	next     time.Time
}

// Run ends the waves that went quiet, and tries again the messages the desk
// did not take, on timers of Now's clock (Options.AfterFunc), until ctx ends:
// a wave that stops brings no event to end it.
func (a *Alerter) Run(ctx context.Context) error {
	tick, again := make(chan struct{}, 1), make(chan struct{}, 1)
	arm := func(d time.Duration, c chan struct{}) func() bool {
		return a.o.AfterFunc(d, func() {
			select {
			case c <- struct{}{}:
			default:
			}
		})
	}
	stopTick, stopAgain := arm(every, tick), arm(retryFirst, again)
	for {
		select {
		case <-ctx.Done():
			stopTick()
			stopAgain()
			a.mu.Lock()
			n := len(a.unsent)
			a.unsent = nil
			a.mu.Unlock()
			if n > 0 {
				a.log.Error("alerts never taken by the desk, given up at shutdown", "alerts", n)
			}
			return nil
		case <-tick:
			a.Tick(ctx)
			stopTick = arm(every, tick)
		case <-again:
			a.retry(ctx)
			stopAgain = arm(retryFirst, again)
		}
	}
}

// retry sends again the messages whose time has come.
func (a *Alerter) retry(ctx context.Context) {
	now := a.o.Now()
	a.mu.Lock()
	var due []unsent
	keep := a.unsent[:0]
	for _, u := range a.unsent {
		if u.next.After(now) {
			keep = append(keep, u)
		} else {
			due = append(due, u)
		}
	}
	a.unsent = keep
	a.mu.Unlock()
	for _, u := range due {
		if err := a.tell(ctx, u.w, u.text, u.page); err != nil {
			a.failed(u, err)
			continue
		}
		a.log.Info("alert taken by the desk after a failure", "alert", u.w.Alert, "space", u.w.Space, "attempts", u.attempts+1)
	}
}

// failed keeps a message the desk did not take, to try it again, or gives it
// up: the desk refused it for good, or too many times.
func (a *Alerter) failed(u unsent, err error) {
	u.attempts++
	log := a.log.With("alert", u.w.Alert, "platform", u.w.Platform, "space", u.w.Space, "attempts", u.attempts, "err", err)
	if errors.Is(err, handlers.ErrNoDesk) {
		log.Info("no desk to take the alert")
		return
	}
	if !bot.Retryable(err) || u.attempts >= retryAttempts {
		a.raised.WithLabelValues(u.w.Alert, "undelivered").Inc()
		log.Error("desk did not take the alert; given up")
		return
	}
	wait := min(retryFirst<<(u.attempts-1), retryMax)
	var ae *bot.ActionError
	if errors.As(err, &ae) && ae.RetryAfter > wait {
		wait = ae.RetryAfter
	}
	u.next = a.o.Now().Add(wait)
	log.Warn("desk did not take the alert; trying again", "in", wait.String())
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.unsent) >= maxUnsent {
		a.raised.WithLabelValues(a.unsent[0].w.Alert, "undelivered").Inc()
		a.log.Error("desk did not take the alert; given up: too many waiting", "alert", a.unsent[0].w.Alert, "space", a.unsent[0].w.Space)
		a.unsent = a.unsent[1:]
	}
	a.unsent = append(a.unsent, u)
}

// Tick ends the waves quiet by now.
func (a *Alerter) Tick(ctx context.Context) {
	over := a.tracker.Expire(a.o.Now())
	for _, w := range over {
		a.over(ctx, w)
	}
	if len(over) > 0 {
		a.setActive()
	}
}

// Active returns the waves under way.
func (a *Alerter) Active() []wave.Wave { return a.tracker.Active() }

// RaidSince reports whether a wave is under way in ev's place, and since
// when its accounts came (wave.Tracker.RaidSince).
func (a *Alerter) RaidSince(ev *bot.Event) (since time.Time, on bool) {
	return a.tracker.RaidSince(ev.Platform, ev.Space)
}

func (a *Alerter) setActive() {
	a.active.Reset()
	for _, w := range a.tracker.Active() {
		a.active.WithLabelValues(w.Alert).Inc()
	}
}

func key(w wave.Wave) string { return w.Alert + "\x00" + w.Platform + "\x00" + w.Space }

// claim asks the store whether this process is the first to tell about the wave
// (several processes on one Redis see the same counters, and so the same waves):
// the store's dedupe remembers the claim for the alert's window, and a new wave
// cannot start sooner than that after the last one was raised. A store error
// counts as a claim: an alert twice is better than none.
func (a *Alerter) claim(ctx context.Context, w wave.Wave, what string) bool {
	res, err := a.o.Store.Observe(ctx, store.Observation{
		At: a.o.Now(), Wall: true, Platform: "vigie", Space: w.Platform + ":" + w.Space, Author: "alert",
		EventID: what + ":" + w.Alert, DedupeTTL: max(w.Window, time.Minute),
	})
	if err != nil {
		a.log.Warn("alert claim failed; telling the desk anyway", "alert", w.Alert, "err", err)
		return true
	}
	return !res.Duplicate
}

func (a *Alerter) raise(ctx context.Context, w wave.Wave) {
	if !a.claim(ctx, w, "raised") {
		a.log.Info("alert raised by another instance", "alert", w.Alert, "space", w.Space)
		return
	}
	a.raised.WithLabelValues(w.Alert, "raised").Inc()
	text := a.raisedText(w)
	a.log.Warn("alert raised", "alert", w.Alert, "platform", w.Platform, "space", w.Space, "count", w.Count)
	a.record(ctx, w, ModeRaised)
	if err := a.tell(ctx, w, text, true); err != nil {
		a.failed(unsent{w: w, text: text, page: true}, err)
	}
}

func (a *Alerter) over(ctx context.Context, w wave.Wave) {
	a.mu.Lock()
	msg := a.messages[key(w)]
	delete(a.messages, key(w))
	a.mu.Unlock()
	if msg != "" {
		w.Message = msg
	}
	if !a.claim(ctx, w, "over") {
		return
	}
	a.raised.WithLabelValues(w.Alert, "over").Inc()
	a.log.Info("alert over", "alert", w.Alert, "platform", w.Platform, "space", w.Space, "count", w.Count)
	a.record(ctx, w, ModeOver)
	text := a.overText(w)
	if err := a.tell(ctx, w, text, false); err != nil {
		a.failed(unsent{w: w, text: text}, err)
	}
}

// tell sends text about w to the desk of w's community, or to the file's
// desk, paging the CMs when page says so. A desk that is not set up says
// nothing to try again.
func (a *Alerter) tell(ctx context.Context, w wave.Wave, text string, page bool) error {
	if a.o.Desk == nil {
		return nil
	}
	if cd, ok := a.o.Desk.(CommunityDesk); ok && a.o.Community != nil {
		if c := a.o.Community(w.Platform, w.Space); c != nil {
			// The pager mentions the file's CMs on the file's desk: a
			// community's desk names its own in the text.
			if page {
				var file []string
				if a.o.CMs != nil {
					file = a.o.CMs()
				}
				if cms := c.DeskFor(rules.Desk{CMs: file}).CMs; len(cms) > 0 {
					text += "\ncc " + strings.Join(cms, ", ")
				}
			}
			return cd.AlertCommunity(ctx, c.Name, text)
		}
	}
	if p, ok := a.o.Desk.(Pager); ok && page {
		return p.Page(ctx, text)
	}
	if page && a.o.CMs != nil {
		if cms := a.o.CMs(); len(cms) > 0 {
			text += "\ncc " + strings.Join(cms, ", ")
		}
	}
	return a.o.Desk.Alert(ctx, text)
}

// record writes the wave in the audit log, where the reports find it.
func (a *Alerter) record(ctx context.Context, w wave.Wave, mode string) {
	b, err := json.Marshal(w)
	if err != nil {
		return
	}
	at := w.Raised
	if mode == ModeOver {
		at = w.Over
	}
	ev := bot.Event{ID: waveID(w), Platform: w.Platform, Kind: Kind, Space: w.Space, Text: string(b), At: at}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := a.o.Store.AppendAudit(sctx, store.AuditEntry{At: at, Event: ev, Verdict: bot.Verdict{EventID: ev.ID, Platform: w.Platform, At: at}, Mode: mode}); err != nil {
		a.log.Warn("alert not recorded in the audit log", "alert", w.Alert, "err", err)
	}
}

func waveID(w wave.Wave) string {
	return "wave:" + w.Alert + ":" + w.Platform + ":" + w.Space + ":" + w.Raised.UTC().Format(time.RFC3339)
}

// Waves returns the waves recorded in the audit log since a time (those raised
// since then, or still under way then), in their latest state, oldest first.
func Waves(ctx context.Context, st store.Store, since time.Time) ([]wave.Wave, error) {
	// a wave raised before since may still have been going on: look a day back
	entries, err := st.Audit(ctx, since.Add(-24*time.Hour))
	if err != nil {
		return nil, fmt.Errorf("alert waves: %w", err)
	}
	var out []wave.Wave
	index := map[string]int{}
	for _, e := range entries {
		if e.Event.Kind != Kind {
			continue
		}
		var w wave.Wave
		if err := json.Unmarshal([]byte(e.Event.Text), &w); err != nil {
			continue
		}
		if i, ok := index[e.Event.ID]; ok {
			out[i] = w
			continue
		}
		index[e.Event.ID] = len(out)
		out = append(out, w)
	}
	kept := out[:0]
	for _, w := range out {
		if !w.Raised.Before(since) || w.Over.IsZero() || w.Over.After(since) {
			kept = append(kept, w)
		}
	}
	return kept, nil
}

func (a *Alerter) loc() *time.Location {
	if a.o.Location != nil {
		if l := a.o.Location(); l != nil {
			return l
		}
	}
	return time.UTC
}

// raisedText is the page: what, where, how many, which rules, since when, and a
// few examples.
func (a *Alerter) raisedText(w wave.Wave) string {
	loc := a.loc()
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", w.Alert, cmp.Or(w.Message, "crisis alert"))
	if w.Counted != "" {
		// an alert over counters: what they count, in how long
		fmt.Fprintf(&b, "%d %s", w.Count, w.Counted)
		if w.Span > 0 {
			fmt.Fprintf(&b, " in %s", bot.FormatDuration(w.Span))
		}
		fmt.Fprintf(&b, " on %s, counted at %s", a.where(w), w.From.In(loc).Format("15:04"))
	} else {
		fmt.Fprintf(&b, "%d hits on %s since %s", w.Count, a.where(w), w.From.In(loc).Format("15:04"))
	}
	if len(w.ByRule) > 0 {
		fmt.Fprintf(&b, " (%s)", countList(w.ByRule))
	}
	b.WriteString(".")
	// The examples are the members' words and names: a mention there is
	// theirs, and calls nobody from vigie's page.
	for _, ex := range w.Examples {
		fmt.Fprintf(&b, "\n– %s %s", ex.At.In(loc).Format("15:04"), bot.InertMentions(ex.Author))
		if text := bot.InertMentions(truncate(oneLine(ex.Text), 120)); text != "" {
			b.WriteString(": " + text)
		}
		if ex.Link != "" {
			b.WriteString(" " + ex.Link)
		}
	}
	fmt.Fprintf(&b, "\nvigie keeps moderating; you will be told when it is over.")
	return b.String()
}

func (a *Alerter) overText(w wave.Wave) string {
	loc := a.loc()
	var b strings.Builder
	fmt.Fprintf(&b, "Over: %s on %s, %d %s from %s to %s", w.Alert, a.where(w), w.Count, cmp.Or(w.Counted, "hits"),
		w.From.In(loc).Format("15:04"), w.To.In(loc).Format("15:04"))
	if len(w.ByRule) > 0 {
		fmt.Fprintf(&b, " (%s)", countList(w.ByRule))
	}
	fmt.Fprintf(&b, "; quiet for %s.", bot.FormatDuration(w.Window))
	return b.String()
}

func (a *Alerter) where(w wave.Wave) string {
	if a.o.PlaceName != nil && w.Space != "" {
		if name := bot.InertMentions(bot.Shown(a.o.PlaceName(w.Platform, w.Space), 60)); name != "" {
			return w.Platform + " · " + name + " (" + w.Space + ")"
		}
	}
	return strings.TrimSpace(w.Platform + " " + cmp.Or(w.Space, "(no space)"))
}

func countList(m map[string]int) string {
	type kv struct {
		k string
		v int
	}
	var list []kv
	for k, v := range m {
		list = append(list, kv{k, v})
	}
	// highest first, then by name
	for i := 1; i < len(list); i++ {
		for j := i; j > 0 && (list[j].v > list[j-1].v || list[j].v == list[j-1].v && list[j].k < list[j-1].k); j-- {
			list[j], list[j-1] = list[j-1], list[j]
		}
	}
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = fmt.Sprintf("%s %d", x.k, x.v)
	}
	return strings.Join(parts, ", ")
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
