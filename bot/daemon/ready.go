package daemon

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/meta"
	"github.com/vigie-bot/vigie/bot/telegram"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/handlers/alert"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/store"
)

// handleHealthy answers GET /-/healthy: the process is alive and serves HTTP.
func (d *daemon) handleHealthy(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Status string `json:"status"`
	}{"ok"})
}

// handleReady answers GET /-/ready: 200 while vigie does its work, 503 with the
// reasons while a source is down, the store unreachable or a desk unreachable.
// The platforms whose actions keep failing are reasons too, on a 200 as well
// (actionWatch.problems says why they do not make it 503 for a load
// balancer). GET /-/ready?strict answers 503 for them too: it is for a
// monitor that alerts a CM (an uptime check) rather than for routing, and
// nothing being removed on a platform is worth waking someone.
func (d *daemon) handleReady(w http.ResponseWriter, r *http.Request) {
	reasons := d.notReady(r.Context())
	failing := d.actions.problems()
	if r.URL.Query().Has("strict") && len(failing) > 0 {
		reasons = append(reasons, failing...)
		failing = nil
	}
	if len(reasons) > 0 {
		reasons = append(reasons, failing...)
		slices.Sort(reasons)
		writeJSON(w, http.StatusServiceUnavailable, struct {
			Status  string   `json:"status"`
			Reasons []string `json:"reasons"`
		}{"not ready", reasons})
		return
	}
	if failing == nil {
		failing = []string{}
	}
	writeJSON(w, http.StatusOK, struct {
		Status  string   `json:"status"`
		Reasons []string `json:"reasons"`
	}{"ready", failing})
}

// notReady lists, sorted, what keeps vigie from doing its work now: each source
// restarting or disconnected from its platform, the store unreachable, each
// desk that could not be reached the last time it was used. Of the
// single-owner jobs, only those this process holds count: one that owns
// none, with the store reachable, is ready to take them over, and to take
// webhooks behind a load balancer.
func (d *daemon) notReady(ctx context.Context) []string {
	var out []string
	for _, c := range d.conns {
		for _, j := range c.Jobs {
			if !d.leases.owns(j.Name) {
				continue
			}
			if p, ok := d.health.get(j.Name); ok {
				out = append(out, j.Name+": "+p)
				continue
			}
			if j.Link != nil {
				if link := j.Link(); !link.Up {
					out = append(out, j.Name+": "+linkProblem(link))
				}
			}
		}
		if c.Source == nil {
			continue
		}
		if p, ok := d.health.get(c.Source.Name()); ok {
			out = append(out, c.Source.Name()+": "+p)
			continue
		}
		if l, ok := c.Source.(bot.Linker); ok {
			if link := l.Link(); !link.Up {
				out = append(out, c.Name+": "+linkProblem(link))
			}
		}
	}
	out = append(out, d.storeProblems(ctx)...)
	for _, w := range d.desks {
		out = append(out, w.problems()...)
	}
	slices.Sort(out)
	return out
}

func linkProblem(l bot.Link) string {
	s := "down"
	if l.Since.IsZero() {
		s = "not connected yet"
	} else {
		s += " since " + l.Since.UTC().Format(time.RFC3339)
	}
	if l.Problem != "" {
		s += ": " + l.Problem
	}
	return s
}

// storeProblem is what the store says of itself without being asked
// (Redis known to be away), "" when nothing.
func (d *daemon) storeProblem() string {
	if f, ok := d.store.(interface{ Problem() string }); ok {
		return f.Problem()
	}
	if f, ok := d.store.(interface{ Degraded() bool }); ok && f.Degraded() {
		return "unreachable, moderating from memory until it returns"
	}
	return ""
}

// storeProblems says whether the store is reachable (Redis).
func (d *daemon) storeProblems(ctx context.Context) []string {
	// Unreachable, full, or refusing the password: each says what to do.
	// Known to be away, the store is not pinged: the fallback pings it every
	// second already, and a frozen Redis would hold each check for the
	// ping's timeout (a load balancer's gives up sooner, and sees no answer).
	if why := d.storeProblem(); why != "" {
		return []string{"store: " + d.storeKind + " " + why}
	}
	return d.storeCheck.do(ctx, d.probeStore)
}

// sharedProbe runs one probe at a time for whoever asks while it runs:
// /healthz and /-/ready need no token, and a stranger asking them hundreds
// of times at once would otherwise have vigie ping Redis as often, on as
// many connections of the pool its events need.
type sharedProbe struct {
	mu sync.Mutex
	// running is the probe under way, nil when none is.
	running *probeRun
}

type probeRun struct {
	done chan struct{}
	out  []string
}

// do returns what probe says, from the probe under way when there is one
// (begun after the caller asked, or just before), else from a new one. The
// probe runs without the caller's cancellation: others wait for it too.
func (s *sharedProbe) do(ctx context.Context, probe func(context.Context) []string) []string {
	s.mu.Lock()
	if run := s.running; run != nil {
		s.mu.Unlock()
		select {
		case <-run.done:
			return run.out
		case <-ctx.Done():
			return []string{"store: not known, the check was given up: " + ctx.Err().Error()}
		}
	}
	run := &probeRun{done: make(chan struct{})}
	s.running = run
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.running = nil
		s.mu.Unlock()
		close(run.done)
	}()
	run.out = probe(context.WithoutCancel(ctx))
	return run.out
}

// probeStore asks the store whether it answers: Probe, or Ping.
func (d *daemon) probeStore(ctx context.Context) []string {
	var out []string
	if p, ok := d.store.(interface{ Probe(context.Context) error }); ok {
		// A Redis that does not answer within a second is taken for away,
		// as by an event: the next checks answer at once.
		if err := p.Probe(ctx); err != nil {
			if why := d.storeProblem(); why != "" {
				return []string{"store: " + d.storeKind + " " + why}
			}
			out = append(out, "store: "+err.Error())
		}
	} else if p, ok := d.store.(pinger); ok {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err := p.Ping(ctx)
		cancel()
		if err != nil {
			out = append(out, "store: "+err.Error())
		}
	}
	return out
}

// sourceMetrics are vigie_source_up and vigie_last_event_timestamp_seconds, read
// from the sources when /metrics is scraped.
type sourceMetrics struct {
	d        *daemon
	up, last *prometheus.Desc
}

func newSourceMetrics(d *daemon) *sourceMetrics {
	return &sourceMetrics{
		d: d,
		up: prometheus.NewDesc("vigie_source_up",
			"By platform and part: events, 1 while a source is connected to its platform and running, 0 while it is down or restarting; actions, 1 while the platform carries out vigie's actions, 0 while they keep failing (3 in a row could not reach it, none done since).",
			[]string{"platform", "part"}, nil),
		last: prometheus.NewDesc("vigie_last_event_timestamp_seconds",
			"When a source last handed an event over; absent before the first.",
			[]string{"platform"}, nil),
	}
}

func (m *sourceMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.up
	ch <- m.last
}

func (m *sourceMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.d.conns {
		if c.Source == nil {
			m.collectJobs(ch, c)
			continue
		}
		_, failing := m.d.health.get(c.Source.Name())
		up := !failing
		if l, ok := c.Source.(bot.Linker); ok {
			link := l.Link()
			up = up && link.Up
			if !link.LastEvent.IsZero() {
				ch <- prometheus.MustNewConstMetric(m.last, prometheus.GaugeValue, float64(link.LastEvent.UnixNano())/1e9, c.Name)
			}
		}
		v := 0.0
		if up {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, v, c.Name, "events")
	}
	for _, name := range m.d.actions.names {
		v := 1.0
		if m.d.actions.failing(name) {
			v = 0
		}
		ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, v, name, "actions")
	}
}

// collectJobs reports the jobs this process holds of a connector without a
// source of its own, as its source: up while all of them are; no series
// while it holds none (vigie_lease_owned says who does).
func (m *sourceMetrics) collectJobs(ch chan<- prometheus.Metric, c Connector) {
	held, up := 0, true
	var last time.Time
	for _, j := range c.Jobs {
		if !m.d.leases.owns(j.Name) {
			continue
		}
		held++
		_, failing := m.d.health.get(j.Name)
		up = up && !failing
		if j.Link != nil {
			link := j.Link()
			up = up && link.Up
			if link.LastEvent.After(last) {
				last = link.LastEvent
			}
		}
	}
	if held == 0 {
		return
	}
	if !last.IsZero() {
		ch <- prometheus.MustNewConstMetric(m.last, prometheus.GaugeValue, float64(last.UnixNano())/1e9, c.Name)
	}
	v := 0.0
	if up {
		v = 1
	}
	ch <- prometheus.MustNewConstMetric(m.up, prometheus.GaugeValue, v, c.Name, "events")
}

// watchedDesk is a connector's desk, remembering whether the platform could be
// reached the last time vigie posted there.
type watchedDesk struct {
	name string
	desk handlers.Desk
	// now is the daemon's clock, which says since when a chat is down.
	now func() time.Time

	// failing are the desk's chats that could not be reached the last time
	// vigie posted there, by chat ("" for the rule file's desk chat, else a
	// community's own): a community's desk chat that refuses vigie does not
	// make the desk's look reachable or not.
	mu      sync.Mutex
	failing map[string]deskDown
}

// deskDown is since when, and why, a desk chat cannot be reached.
type deskDown struct {
	since time.Time
	err   error
}

var (
	_ handlers.Desk   = (*watchedDesk)(nil)
	_ alert.Pager     = (*watchedDesk)(nil)
	_ report.Picturer = (*watchedDesk)(nil)
)

// record keeps the outcome of one call and returns its error: a failure worth
// retrying (the network, a 5xx) makes the desk unreachable, and so does a
// refused token (marked handlers.ErrDeskTokenRefused: nothing is shown there
// until it is renewed); any other answer from the platform, even a refusal,
// makes it reachable. A call cancelled by vigie itself says nothing.
func (w *watchedDesk) record(ctx context.Context, err error) error {
	return w.recordIn(ctx, "", err)
}

// recordIn is record for the desk chat of community: its own, or the desk's.
func (w *watchedDesk) recordIn(ctx context.Context, community string, err error) error {
	chat := ""
	if cd, ok := w.desk.(interface{ communityDesk(string) string }); ok {
		chat = cd.communityDesk(community)
	}
	switch {
	case tokenRefused(err):
		err = fmt.Errorf("%w (renew it): %w", handlers.ErrDeskTokenRefused, err)
	case deskChatRefused(err):
		err = fmt.Errorf("%w: %w", handlers.ErrDeskChatRefused, err)
	}
	if err != nil && ctx.Err() != nil {
		return err
	}
	var ae *bot.ActionError
	unreachable := err != nil && (errors.Is(err, handlers.ErrDeskTokenRefused) ||
		errors.Is(err, handlers.ErrDeskChatRefused) ||
		!errors.As(err, &ae) || ae.Retryable && ae.RetryAfter == 0)
	w.mu.Lock()
	defer w.mu.Unlock()
	down, was := w.failing[chat]
	switch {
	case !unreachable:
		delete(w.failing, chat)
	case !was:
		if w.failing == nil {
			w.failing = map[string]deskDown{}
		}
		w.failing[chat] = deskDown{since: w.now(), err: err}
	default:
		down.err = err
		w.failing[chat] = down
	}
	return err
}

// tokenRefused reports whether a platform answered that vigie's token is not
// valid: a Bot API 401 (404 for a token of the wrong form, as the poller
// reads it too), a Discord 401, a Graph code 190 or a refused appsecret_proof.
func tokenRefused(err error) bool {
	var te *telegram.APIError
	if errors.As(err, &te) {
		return te.Code == http.StatusUnauthorized || te.Code == http.StatusNotFound
	}
	var de *discord.APIError
	if errors.As(err, &de) {
		return de.Status == http.StatusUnauthorized
	}
	var ge *meta.GraphError
	if errors.As(err, &ge) {
		return ge.CredentialsRefused()
	}
	return false
}

// deskChatRefused reports whether a platform refused vigie itself in the
// desk chat or channel, rather than the card it was given: a Bot API 403
// (removed from the chat, blocked by the CM in a private chat, no right to
// post) or a 400 for a chat vigie may not post in or that it cannot see; a
// Discord 403 Missing Access or Missing Permissions (50001, 50013) or 404
// Unknown Channel (10003). Every card would be refused the same until a
// member of the chat or server mends it, and then every one is taken.
func deskChatRefused(err error) bool {
	var te *telegram.APIError
	if errors.As(err, &te) {
		if te.Code == http.StatusForbidden {
			return true
		}
		d := strings.ToLower(te.Description)
		return te.Code == http.StatusBadRequest && (strings.Contains(d, "chat not found") ||
			strings.Contains(d, "not enough rights to send") || strings.Contains(d, "have no rights to send") ||
			strings.Contains(d, "chat_write_forbidden") || strings.Contains(d, "chat_restricted"))
	}
	var de *discord.APIError
	if errors.As(err, &de) {
		return de.Code == 50001 || de.Code == 50013 || de.Code == 10003
	}
	return false
}

// problems say, sorted, why the desk chat, or a community's, is unreachable.
// A community's chat that is no desk any more (the rule file gave the
// community another, or none) is forgotten: nothing is posted there to say
// it is reachable again, and it would keep vigie not ready for good.
func (w *watchedDesk) problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	cd, _ := w.desk.(interface{ namesDesk(chat string) bool })
	var out []string
	for chat, down := range w.failing {
		if chat != "" && cd != nil && !cd.namesDesk(chat) {
			delete(w.failing, chat)
			continue
		}
		desk := "desk " + w.name
		if chat != "" {
			desk += " (a community's desk chat, " + chat + ")"
		}
		out = append(out, fmt.Sprintf("%s: unreachable since %s: %v", desk, down.since.UTC().Format(time.RFC3339), down.err))
	}
	slices.Sort(out)
	return out
}

func (w *watchedDesk) PostCase(ctx context.Context, c store.Case) error {
	return w.recordIn(ctx, c.Community, w.desk.PostCase(ctx, c))
}

func (w *watchedDesk) Alert(ctx context.Context, text string) error {
	return w.record(ctx, w.desk.Alert(ctx, text))
}

// AlertCommunity alerts on the community's desk where the desk knows it.
func (w *watchedDesk) AlertCommunity(ctx context.Context, community, text string) error {
	cd, ok := w.desk.(handlers.CommunityDesk)
	if !ok {
		return w.Alert(ctx, text)
	}
	return w.recordIn(ctx, community, cd.AlertCommunity(ctx, community, text))
}

// Page pages where the desk can, and alerts where it cannot.
func (w *watchedDesk) Page(ctx context.Context, text string) error {
	p, ok := w.desk.(alert.Pager)
	if !ok {
		return w.Alert(ctx, text)
	}
	return w.record(ctx, p.Page(ctx, text))
}

// Picture sends a picture where the desk can, and the text alone where it cannot.
func (w *watchedDesk) Picture(ctx context.Context, text, name string, png []byte) error {
	p, ok := w.desk.(report.Picturer)
	if !ok {
		return w.Alert(ctx, text)
	}
	return w.record(ctx, p.Picture(ctx, text, name, png))
}
