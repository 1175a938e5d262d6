package daemon

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/handlers/faq"
	"github.com/vigie-bot/vigie/handlers/report"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store"
)

// routes is the HTTP API of vigie run, with the platforms' webhooks.
func (d *daemon) routes() (_ http.Handler, err error) {
	// ServeMux panics on a pattern that clashes with another: a wiring mistake,
	// reported as an error at start.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("http routes: %v", r)
		}
	}()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", d.handleHealth)
	mux.HandleFunc("GET /-/healthy", d.handleHealthy)
	mux.HandleFunc("GET /-/ready", d.handleReady)
	mux.Handle("GET /metrics", promhttp.HandlerFor(d.registry, promhttp.HandlerOpts{Registry: d.registry}))
	mux.HandleFunc("POST /v1/events", d.handleEvent)
	mux.Handle("GET /v1/cases", d.adminOnly(d.handleCases))
	mux.Handle("GET /v1/cases/{id}", d.adminOnly(d.handleCase))
	mux.Handle("POST /v1/cases/{id}/decision", d.adminOnly(d.handleDecision))
	mux.Handle("GET /v1/accounts", d.adminOnly(d.handleAccounts))
	mux.Handle("PUT /v1/accounts/{name}", d.adminOnly(d.handlePutAccount))
	mux.Handle("DELETE /v1/accounts/{name}", d.adminOnly(d.handleDeleteAccount))
	mux.Handle("GET /v1/report", d.adminOnly(d.handleReport))
	mux.Handle("POST /-/reload", d.adminOnly(d.handleReload))
	// Profiles of the running process: fetched with the token (curl -H
	// "Authorization: Bearer …"), then read with go tool pprof. They show
	// the process's memory and command line (a Redis URL may carry a
	// password there): behind the token like the cases.
	mux.Handle("/debug/pprof/", d.adminOnly(pprof.Index))
	mux.Handle("/debug/pprof/cmdline", d.adminOnly(pprof.Cmdline))
	mux.Handle("/debug/pprof/profile", d.adminOnly(pprof.Profile))
	mux.Handle("/debug/pprof/symbol", d.adminOnly(pprof.Symbol))
	mux.Handle("/debug/pprof/trace", d.adminOnly(pprof.Trace))
	// The console, for the CMs, at / (handlers/console).
	if acc, ok := d.store.(store.Accounts); ok {
		d.console = console.New(console.Options{
			Store: d.store, Accounts: acc, Decide: d.commands.DecideNoted, Outcomes: d.mod.OutcomesFor,
			Insecure: d.cfg.Insecure, TrustedProxies: d.proxies, Log: d.log, Now: d.cfg.Now, Refusals: d.cfg.refusals,
			Report: d.reportNow, Communities: d.communityNames, Health: d.consoleHealth, Rules: d.ruleFile(), LiftTimeout: d.mod.LiftTimeout,
		})
		for pattern, h := range d.console.Routes() {
			mux.Handle(pattern, h)
		}
	}
	for _, c := range d.conns {
		for pattern, h := range c.Routes {
			mux.Handle(pattern, h)
		}
	}
	return secureHeaders((&bodyShares{refusals: d.cfg.refusals}).limit(eventsFirst(mux, d.handleEvent))), nil
}

// eventsFirst hands POST /v1/events, the route of every event, to events
// without the mux, and the rest to mux: the mux finds it as surely (a path
// that is exactly /v1/events needs no cleaning, and no other pattern of it
// can match it), but it escapes the path again to match it segment by
// segment, and takes a lock that the cores share, for each request.
func eventsFirst(mux *http.ServeMux, events http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Path == "/v1/events" {
			events(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// secureHeaders sets, on every answer (the routes', their errors, the
// mux's 404 and 405): X-Content-Type-Options: nosniff, so that no browser
// takes a JSON answer or the echo of Meta's handshake, which carries what
// the request said, for a page or a script; and, on a request that came
// over vigie's own TLS (VIGIE_TLS_CERT), Strict-Transport-Security, so that
// a browser that saw it once never asks over plain HTTP again. Behind a
// proxy, HSTS is the proxy's to send. The values are set in the map as
// net/http spells them: Header.Set would check and canonicalise the key for
// every event.
func secureHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		if r.TLS != nil {
			h["Strict-Transport-Security"] = hsts
		}
		next.ServeHTTP(w, r)
	})
}

// nosniff and hsts are header values shared by the answers: net/http only
// reads them.
var (
	nosniff = []string{"nosniff"}
	hsts    = []string{"max-age=31536000"}
)

// adminOnly guards the endpoints that read cases or change the running rules:
// they need "Authorization: Bearer TOKEN", the token being VIGIE_ADMIN_TOKEN,
// or, when it is not set, the one vigie made at start and wrote in a file
// only its user may read (admintoken.go). The made token is meant for this
// machine's programs of that user: what a proxy forwards is refused, and so
// is what a web page makes a browser send (fromThisMachine), before the token
// is looked at.
func (d *daemon) adminOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		made := d.adminTokenDir != ""
		if made && !d.cfg.Insecure && bot.Proxied(r) {
			d.cfg.refusals.Refuse(route(r), "proxied", "admin route refused: forwarded by a proxy, and VIGIE_ADMIN_TOKEN is not set", "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, "forwarded by a proxy"+proxyWhy(r)+": set VIGIE_ADMIN_TOKEN and send Authorization: Bearer $VIGIE_ADMIN_TOKEN")
			return
		}
		if made && !d.fromThisMachine(w, r, "VIGIE_ADMIN_TOKEN") {
			return
		}
		got, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok || !hmac.Equal([]byte(got), d.adminToken) {
			reason := "bad_token"
			if !ok {
				reason = "no_token"
			}
			d.cfg.refusals.Refuse(route(r), reason, "admin route refused: missing or wrong admin token (Authorization: Bearer)", "remote", r.RemoteAddr)
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			writeError(w, http.StatusUnauthorized, d.tokenRefused())
			return
		}
		h(w, r)
	})
}

// route is the pattern r was routed by, a label of vigie's own words for
// its refusals: its path could be anything a stranger asked for. The
// events' route is taken before the mux (eventsFirst), without a pattern.
func route(r *http.Request) string {
	switch {
	case r.Pattern != "":
		return r.Pattern
	case r.Method == http.MethodPost && r.URL.Path == "/v1/events":
		return "POST /v1/events"
	}
	return "other"
}

// proxyWhy says why a request bot.Proxied refuses was taken as a proxy's,
// when its headers do not show it: a local client that speaks HTTP/1.0
// (ApacheBench) would not know.
func proxyWhy(r *http.Request) string {
	if r.ProtoMajor == 1 && r.ProtoMinor == 0 {
		return " (HTTP/1.0, as nginx forwards unless told otherwise; a local client should speak HTTP/1.1)"
	}
	return ""
}

// tokenRefused is what a request without the right admin token is told.
func (d *daemon) tokenRefused() string {
	if d.adminTokenDir == "" {
		return "missing or wrong admin token (Authorization: Bearer $VIGIE_ADMIN_TOKEN)"
	}
	where := "wrote it to a file"
	if d.adminTokenFile != "" && loopbackListen(d.cfg.Listen) {
		// Said to this machine only: the path names that user.
		where = "wrote it to " + d.adminTokenFile
		if d.adminTokenUnwritten.Load() {
			where = "could not write it yet to " + d.adminTokenFile + " (the disk refused it; see its log)"
		}
	}
	return "missing or wrong admin token (Authorization: Bearer TOKEN): VIGIE_ADMIN_TOKEN is not set, so vigie run made one and " +
		where + ", which only the user who started it may read: run vigie cases, users or report as that user"
}

// bearerToken is the token of an "Authorization: Bearer TOKEN" header. The
// scheme is case-insensitive and may be followed by more than one space
// (RFC 9110, 11.1 and 11.4): "bearer TOKEN" is as good.
func bearerToken(h string) (string, bool) {
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimLeft(token, " ")
	return token, token != ""
}

// fromThisMachine refuses, on the routes whose secret the operator did not
// set (POST /v1/events then trusts whoever reaches it; the admin routes take
// the token vigie made for this machine's user), what a web page can
// make the operator's browser send there: a request from a page of another
// site (Sec-Fetch-Site, Origin: a form or fetch() posting a decision or an
// event), and, but for --insecure, one whose Host is a name other than
// localhost (a page whose name was pointed at 127.0.0.1, DNS rebinding,
// which may read the answers and send any method). Scripts and curl send
// neither. It answers the refusal itself and reports whether r may go on.
//
// Both checks are made for every event posted without a secret, so the usual
// request is let through quickly: the cross-origin check can refuse only a
// request that has Sec-Fetch-Site or Origin (it reads no other header, and
// net/http keeps them under these spellings), and the last Host found to be
// this machine's is remembered (a client's connection names the same Host
// on every request).
func (d *daemon) fromThisMachine(w http.ResponseWriter, r *http.Request, secret string) bool {
	if h := r.Header; len(h["Sec-Fetch-Site"]) > 0 || len(h["Origin"]) > 0 {
		if err := d.crossOrigin.Check(r); err != nil {
			d.cfg.refusals.Refuse(route(r), "cross_site", "request refused: sent by a web page of another site (Origin, Sec-Fetch-Site)", "remote", r.RemoteAddr)
			writeError(w, http.StatusForbidden, "refused: sent by a web page of another site (Origin, Sec-Fetch-Site)")
			return false
		}
	}
	if !d.cfg.Insecure && !d.localHost(r.Host) {
		d.cfg.refusals.Refuse(route(r), "foreign_host", "request refused: its Host is not this machine's, and "+secret+" is not set", "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, fmt.Sprintf("Host %q is not this machine's: ask for 127.0.0.1 or localhost, or set %s", r.Host, secret))
		return false
	}
	return true
}

// localHost is bot.LocalHost(host), the last host it found local kept.
// The host a request names is copied to the heap only when it is kept
// (keepLocalHost), not for every request that names the one kept already.
func (d *daemon) localHost(host string) bool {
	if last := d.lastLocalHost.Load(); last != nil && *last == host {
		return true
	}
	if !bot.LocalHost(host) {
		return false
	}
	d.keepLocalHost(host)
	return true
}

// keepLocalHost keeps host as the last local host found.
//
//go:noinline
func (d *daemon) keepLocalHost(host string) { d.lastLocalHost.Store(&host) }

type healthReply struct {
	Status    string      `json:"status"`
	Version   string      `json:"version,omitempty"`
	Rules     healthRules `json:"rules"`
	Store     string      `json:"store"`
	Platforms []string    `json:"platforms"`
	Paused    bool        `json:"paused"`
	Until     *time.Time  `json:"paused_until,omitempty"`
	Degraded  []string    `json:"degraded,omitempty"`
	Signature string      `json:"signature"`
}

type healthRules struct {
	File     string    `json:"file"`
	Count    int       `json:"count"`
	LoadedAt time.Time `json:"loaded_at"`
}

// pinger is a store that can tell whether it is reachable (Redis).
type pinger interface {
	Ping(ctx context.Context) error
}

// handleHealth answers 200 as long as vigie serves; what does not work fully is
// listed in degraded: what /-/ready reports, and a refused reload.
func (d *daemon) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, d.healthNow(r.Context()))
}

// healthNow is what /healthz answers.
func (d *daemon) healthNow(ctx context.Context) healthReply {
	l := d.current.Load()
	rep := healthReply{
		Status:    "ok",
		Version:   d.cfg.Version,
		Rules:     healthRules{File: l.file, Count: len(l.engine.Ruleset().Rules), LoadedAt: l.at.UTC()},
		Store:     d.storeKind,
		Platforms: d.platforms,
		Degraded:  slices.Concat(d.health.list(), d.notReady(ctx), d.actions.problems()),
		Signature: "off",
	}
	if d.secret != nil {
		rep.Signature = "required"
	}
	if paused, until := d.mod.Paused(); paused {
		rep.Paused = true
		if !until.IsZero() {
			rep.Until = &until
		}
	}
	for _, c := range d.conns {
		for _, p := range c.Platforms {
			if t, ok := p.(bot.Troubler); ok {
				rep.Degraded = append(rep.Degraded, t.Troubles()...)
			}
		}
	}
	if p := d.ahead.problem(d.now()); p != "" {
		rep.Degraded = append(rep.Degraded, p)
	}
	if lw := d.cfg.Logs; lw != nil {
		if since, lines, err, losing := lw.Losing(); losing {
			rep.Degraded = append(rep.Degraded, fmt.Sprintf("log: its destination refuses the lines since %s (%d lost so far): %v",
				since.UTC().Format(time.RFC3339), lines, err))
		}
	}
	// A Redis that answers but loses vigie's data (evicts its keys, or lost
	// them all) is no outage: /-/ready stays 200, and this says it.
	if w, ok := d.store.(interface{ Warnings() []string }); ok {
		rep.Degraded = append(rep.Degraded, w.Warnings()...)
	}
	// A restarting source is in both lists.
	slices.Sort(rep.Degraded)
	rep.Degraded = slices.Compact(rep.Degraded)
	return rep
}

// consoleHealth is the health page's view: /healthz's, and the desk's backlog.
func (d *daemon) consoleHealth(ctx context.Context) console.Health {
	h := d.healthNow(ctx)
	out := console.Health{
		Version: h.Version, RulesFile: h.Rules.File, Rules: h.Rules.Count, RulesLoaded: h.Rules.LoadedAt,
		Store: h.Store, Platforms: h.Platforms, Paused: h.Paused, Degraded: h.Degraded,
	}
	if h.Until != nil {
		out.PausedUntil = *h.Until
	}
	if open, err := d.store.Cases(ctx, store.CaseOpen); err == nil {
		out.OpenCases = len(open)
		if len(open) > 0 {
			out.OldestOpen = open[0].Opened
		}
	} else {
		out.Degraded = append(out.Degraded, "cases: "+err.Error())
	}
	return out
}

// reportNow is the report of the period that ends now: GET /v1/report's
// and the console's.
// A community's report ("" for all) keeps to its places.
func (d *daemon) reportNow(ctx context.Context, period time.Duration, community string) (*report.Report, error) {
	d.syncAlerts(ctx)
	src := d.reportSource()
	if community != "" {
		var err error
		if src, err = report.ForCommunity(src, d.current.Load().engine.Ruleset(), community); err != nil {
			return nil, err
		}
	}
	now := d.now()
	return report.Build(ctx, src, now.Add(-period), now)
}

// communityNames are the rule file's communities, for the console's filters.
func (d *daemon) communityNames() []string {
	var out []string
	for _, c := range d.current.Load().engine.Ruleset().Communities {
		out = append(out, c.Name)
	}
	return out
}

// handleEvent evaluates one event, answers its verdict, then carries out the
// actions: the caller (a webhook relay, a script) is not kept waiting for the
// platforms, and a shutdown still waits for the actions through d.inflight.
func (d *daemon) handleEvent(w http.ResponseWriter, r *http.Request) {
	if !d.inflight.add() {
		writeError(w, http.StatusServiceUnavailable, "shutting down")
		return
	}
	defer d.inflight.done()
	// The body is read into a buffer used again by the next requests: the
	// event decoded from it copies what it keeps.
	bp, _ := d.bodies.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	// A body of an announced length within the bound is read as it is:
	// net/http hands no more than its Content-Length. The rest (too long,
	// chunked) goes through MaxBytesReader, which also has the connection
	// closed after a refusal.
	var src io.Reader = r.Body
	if r.ContentLength < 0 || r.ContentLength > maxEventBody {
		src = http.MaxBytesReader(w, r.Body, maxEventBody)
	}
	body, err := readBody((*bp)[:0], src, r.ContentLength)
	defer func() {
		if cap(body) <= maxKeptAnswer {
			*bp = body
			d.bodies.Put(bp)
		}
	}()
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "body larger than 1 MiB")
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	// Read to its end, the body is closed now: net/http then has nothing to
	// discard once the handler returns (it copied what was left to
	// io.Discard, finding the end again, for every request).
	r.Body.Close()
	if d.secret == nil && !d.cfg.Insecure && bot.Proxied(r) {
		d.cfg.refusals.Refuse(route(r), "proxied", "event refused: forwarded by a proxy, and VIGIE_WEBHOOK_SECRET is not set", "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "forwarded by a proxy"+proxyWhy(r)+": set VIGIE_WEBHOOK_SECRET and sign the events (X-Vigie-Signature)")
		return
	}
	if d.secret == nil && !d.fromThisMachine(w, r, "VIGIE_WEBHOOK_SECRET") {
		return
	}
	if d.secret != nil {
		// on the wall clock: the sender signs on its own
		if err := checkSignature(d.secret, body, r.Header.Get("X-Vigie-Signature"), time.Now()); err != nil {
			reason := "bad_signature"
			if r.Header.Get("X-Vigie-Signature") == "" {
				reason = "no_signature"
			}
			d.cfg.refusals.Refuse(route(r), reason, "event refused: X-Vigie-Signature: "+err.Error(), "remote", r.RemoteAddr)
			writeError(w, http.StatusUnauthorized, "X-Vigie-Signature: "+err.Error()+
				" (want t=<unix time>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">)")
			return
		}
	}
	// The event and its verdict are kept in the job that carries them out,
	// and handed on by pointer: a job is about 600 bytes.
	var j job
	ev := &j.ev
	*ev, err = bot.DecodeEvent(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if now := d.now(); ev.CheckClock(now) != nil {
		// Judged as of now by the engine, as a platform's event is: one
		// of the clocks is wrong, and it may be this machine's.
		d.ahead.note(d.log, ev, ev.At.Sub(now), now)
	}
	// Its ids go into the platform's API paths as they are (a member's
	// roles read, an action, a CM's button): on Discord, "../.." or
	// "123?x=" must never reach it. Without the connector, nothing of the
	// event does.
	if c := d.idCheckers[ev.Platform]; c != nil {
		if err := c.CheckIDs(*ev); err != nil {
			writeError(w, http.StatusBadRequest, ev.Platform+" event: "+err.Error())
			return
		}
	}
	if d.resolvers[ev.Platform] != nil && slices.Contains(d.current.Load().engine.Ruleset().HTTPActOn, ev.Platform) {
		d.staffFromPlatform(r.Context(), ev)
	}
	v := &j.v
	var l *loaded // the rule file that judges the event, its FAQ too
	var unverified bool
	*v, l, unverified, err = d.evaluate(r.Context(), *ev, true, &j.seen)
	if err != nil && r.Context().Err() != nil {
		// The sender gave up (its timeout, a closed connection): no one
		// reads the answer, and its retry, if any, is judged then.
		if d.metrics.abandon(d.now()) {
			d.log.Warn("events not evaluated: their senders went away first (vigie too slow for them?); logged once a minute, counted in vigie_events_abandoned_total",
				"event", ev.Key(), "err", err)
		}
		return
	}
	if err != nil {
		d.log.Error("event not evaluated", "event", ev.Key(), "err", err)
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	if j.seen.ID != "" && needsJournal(ev, v) && (!unverified || withheldNeedsJournal(ev, v)) {
		defer d.judging.remove(d.judging.add(j.seen, j.seen.At))
	}
	if h := d.cfg.afterJudging; h != nil {
		h(ev)
	}
	if v.Matches == nil {
		v.Matches = []bot.Match{} // [] rather than null for clients
	}
	j.rules = l.engine.Ruleset()
	// An event posted here about a platform whose own connector is on may
	// be forged: it opens cases but does not act there, unless the rule file
	// allows it; what it counted was kept apart from the members' (evaluate).
	// Withheld too when no rule matched it: the FAQ does not answer it there
	// (faqAsked), in a member's channel, to words they may never have written.
	if unverified {
		if len(v.Actions()) > 0 {
			*v = v.WithoutPlatformActions()
		}
		v.Withheld = "events posted over HTTP do not act on " + ev.Platform + ", whose connector is on (allow it with http_events.act_on)"
	}
	// The FAQ is asked now rather than in the lane, so that the answer says
	// what it decided: a caller for a platform vigie has no connector for
	// posts the reply itself. The lane then does this decision.
	var fd faq.Decision
	asked := faqAsked(*ev, *v, d.now())
	if asked {
		m := l.faq
		fd, err = d.faq.Decide(r.Context(), m, ev, *v)
		if err != nil {
			d.log.Warn("faq decided without its cooldowns", "event", ev.Key(), "err", err)
		}
		j.faq.matcher = m
	}
	// Journaled before the answer: once the caller has its 200, the actions
	// survive a crash. Where the job may be carried out on this goroutine
	// (d.inline: the memory store, whose journal ends with the process),
	// carryOut journals it only if it is not carried out here in full.
	if !d.inline {
		d.begin(&j)
	}
	j.faq.decision, j.faqDecided = fd, asked
	// No flush: the verdict goes out with its length, in one write, when the
	// handler returns right after handing it to its lane.
	answer := eventAnswer{Verdict: *v}
	if asked {
		answer.FAQ = newFAQAnswer(fd)
	}
	d.writeVerdict(w, &answer)
	d.carryOut(&j)
}

// withheldNeedsJournal reports whether v, its platform actions withheld
// (an event posted over HTTP that may be forged), still has something to
// journal: a case, an alert.
func withheldNeedsJournal(ev *bot.Event, v *bot.Verdict) bool {
	w := v.WithoutPlatformActions()
	return needsJournal(ev, &w)
}

// staffFromPlatform sets whether the author of ev, an event posted over HTTP
// that acts on a platform whose connector is on (http_events.act_on), is
// staff, as that platform says: an event that names a group's moderator
// "staff": false would otherwise have them banned, and "staff": true spare
// anyone the rules. When the platform cannot say in time, the author is
// judged as not staff with roles unknown, so that the actions wait for the
// platform's word in the lane, and become a case without it. After such a
// miss, the place's next events are judged so at once for a while
// (staffMisses), rather than each wait: the miss is logged once a window.
func (d *daemon) staffFromPlatform(ctx context.Context, ev *bot.Event) {
	d.resolveStaff(ctx, ev, "events posted over HTTP")
}

// resolveStaff asks ev's platform whether its author is staff, for events of
// kind what (in the logs), as staffFromPlatform says.
func (d *daemon) resolveStaff(ctx context.Context, ev *bot.Event, what string) {
	key := staffMissKey(ev.Platform, ev.Space)
	if d.staffMisses.missing(key, d.now()) {
		ev.Author.Staff, ev.Author.RolesUnknown = false, true
		return
	}
	wctx, cancel := context.WithTimeout(ctx, staffLookupWait)
	defer cancel()
	roles, staff, known := d.resolvers[ev.Platform].ResolveRoles(wctx, *ev)
	ev.Author.Staff, ev.Author.RolesUnknown = staff && known, !known
	switch {
	case known:
		// the platform's roles, not those an event posted over HTTP claimed
		ev.Author.Roles = roles
		if n := d.staffMisses.answered(key); n > 0 {
			d.log.Info(what+": the platform says again who is staff there",
				"platform", ev.Platform, "place", ev.Space, "missed", n)
		}
	case ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded):
		// No answer in time; not the caller gone (ctx), nor an author the
		// platform has no roles for, which it says at once.
		if window, n, first := d.staffMisses.missed(key, d.now()); first {
			d.log.Warn(what+": the platform did not say in time whether the author is staff; "+
				"the place's authors are judged as not staff with roles unknown (their actions become cases) for a while",
				"platform", ev.Platform, "place", ev.Space, "wait", staffLookupWait, "for", window, "missed", n, "event", ev.Key())
		}
	}
}

// staffLookupWait bounds how long an event posted over HTTP waits for its
// platform to say whether the author is staff: the first event of a
// Telegram group waits for the group's list of administrators.
const staffLookupWait = 5 * time.Second

// unverifiedPrefix is put before the platform of an event posted over HTTP
// that may be forged (evaluate): its counters, strikes and id are kept in the
// store under http:discord, not under discord with the members' own.
const unverifiedPrefix = "http:"

// readBody reads r to its end after what buf holds, as io.ReadAll does, but
// in buf's room, grown once to the length the request announced.
func readBody(buf []byte, r io.Reader, announced int64) ([]byte, error) {
	if announced > 0 && announced < maxEventBody {
		// One more byte, for the end to be seen without growing.
		buf = slices.Grow(buf, int(announced)+1)
	}
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// eventAnswer is what POST /v1/events answers: the verdict, and what the FAQ
// decided about the event when it answers it, suggests an answer or hands it
// to the desk.
type eventAnswer struct {
	bot.Verdict
	FAQ *faqAnswer `json:"faq,omitempty"`
}

// faqAnswer is the FAQ's decision in the shape `vigie faq --format json` prints,
// without the candidates: answer is the entry's id and text the reply (for
// forward, the reply the case suggests), null when there is none; private
// says the reply is for the author alone.
type faqAnswer struct {
	Decision string  `json:"decision"`
	Answer   *string `json:"answer"`
	Language string  `json:"language"`
	Text     *string `json:"text"`
	Private  bool    `json:"private,omitempty"`
}

// newFAQAnswer is nil for a decision to stay silent: nothing for the caller
// to do.
func newFAQAnswer(d faq.Decision) *faqAnswer {
	if d.Kind != faq.Answer && d.Kind != faq.Suggest && d.Kind != faq.Forward {
		return nil
	}
	r := d.Result()
	return &faqAnswer{Decision: string(r.Decision), Answer: r.Answer, Language: r.Language, Text: r.Text, Private: d.Private}
}

// signatureTolerance is how far the time of a signature may be from now: a
// request captured and sent again later is refused.
const signatureTolerance = 5 * time.Minute

// checkSignature checks X-Vigie-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of
// "<t>.<body>">, in constant time, with t within signatureTolerance of now.
func checkSignature(secret, body []byte, header string, now time.Time) error {
	var ts, sig string
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	if ts == "" || sig == "" {
		if ts == "" && sig == "" && strings.HasPrefix(strings.TrimSpace(header), "sha256=") {
			// the form vigie once took, and older guides still show
			return errors.New("the sha256=<hex> form is refused: it carries no time, so a captured request could be replayed forever; sign \"<t>.<body>\" with the time")
		}
		return errors.New("missing or malformed")
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("t is not a unix time")
	}
	if d := now.Sub(time.Unix(unix, 0)); d > signatureTolerance || d < -signatureTolerance {
		return fmt.Errorf("t is %s away from now, more than %s", bot.FormatDuration(d.Abs().Round(time.Second)), bot.FormatDuration(signatureTolerance))
	}
	sum, err := hex.DecodeString(sig)
	if err != nil {
		return errors.New("v1 is not hex")
	}
	if !hmac.Equal(sum, Sign(secret, unix, body)) {
		return errors.New("wrong signature")
	}
	return nil
}

// IdleTimeout is how long vigie keeps a keep-alive connection that carries
// no request. It then closes it, which a client may learn only when its next
// request on it fails: a client that posts to vigie and keeps its idle
// connections longer should close them sooner (Go: Transport.IdleConnTimeout
// below this), as cmd/vigie-load does.
const IdleTimeout = 2 * time.Minute

// Sign is the HMAC-SHA256 of "<t>.<body>" that X-Vigie-Signature carries as v1.
func Sign(secret []byte, t int64, body []byte) []byte {
	mac := hmac.New(sha256.New, secret)
	mac.Write(strconv.AppendInt(nil, t, 10))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return mac.Sum(nil)
}

// handleReload reloads the rule file: 200 when the new rules run, 422 with the
// problems when the file was refused and the old rules keep running.
func (d *daemon) handleReload(w http.ResponseWriter, r *http.Request) {
	l, err := d.reload("http", false)
	if err != nil {
		d.log.Error("reload refused, the old rules keep running", "err", err)
		writeJSON(w, http.StatusUnprocessableEntity, struct {
			Status   string   `json:"status"`
			Error    string   `json:"error"`
			Problems []string `json:"problems"`
			Running  string   `json:"running"`
		}{"refused", err.Error(), problems(err), d.current.Load().file})
		return
	}
	rs := l.engine.Ruleset()
	warnings := make([]string, len(l.warnings))
	for i, p := range l.warnings {
		warnings[i] = p.String()
	}
	writeJSON(w, http.StatusOK, struct {
		Status   string   `json:"status"`
		File     string   `json:"file"`
		Rules    int      `json:"rules"`
		Warnings []string `json:"warnings"`
	}{"reloaded", l.file, len(rs.Rules), warnings})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client hung up: nothing left to tell it
}

// writeVerdict answers a verdict, as writeJSON would but at a fraction of
// its cost (verdictjson.go), in a buffer used again by the next answers (a
// verdict with its reasons and counters is a kilobyte or two).
func (d *daemon) writeVerdict(w http.ResponseWriter, v *eventAnswer) {
	bp, _ := d.answers.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	buf := appendVerdict((*bp)[:0], v, &d.counterNames)
	// Set in the map as net/http spells them: Header.Set checks and
	// canonicalises each key, for every answer. net/http formats a Date
	// through time's layouts for every response that has none (more than
	// it costs to write one more key of the map); the Content-Length of an
	// answer that fits its buffer it writes itself, without sorting it with
	// the map's keys.
	h := w.Header()
	h["Content-Type"] = jsonContentType
	// On the wall clock: an HTTP answer's Date is the server's time (RFC 9110).
	h["Date"] = d.date.header(time.Now())
	if len(buf) >= answerBuffered {
		// Otherwise written through before the handler returns, without
		// its length: chunked.
		h["Content-Length"] = []string{strconv.Itoa(len(buf))}
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf) // the client hung up: nothing left to tell it
	if cap(buf) <= maxKeptAnswer {
		*bp = buf
		d.answers.Put(bp)
	}
}

// jsonContentType is the answers' Content-Type, shared: net/http only reads
// a response's header values.
var jsonContentType = []string{"application/json"}

// httpDate is the Date header of the answers to POST /v1/events, formatted
// once a second: net/http formats it for each response that has none, about
// one percent of what an event costs.
type httpDate struct {
	v atomic.Pointer[dateValue]
}

type dateValue struct {
	sec int64
	h   []string // read by net/http, never written
}

// header is the Date header's value at now.
func (d *httpDate) header(now time.Time) []string {
	sec := now.Unix()
	if v := d.v.Load(); v != nil && v.sec == sec {
		return v.h
	}
	v := &dateValue{sec: sec, h: []string{now.UTC().Format(http.TimeFormat)}}
	d.v.Store(v)
	return v.h
}

// answerBuffered is the size of net/http's buffer of a response's body (its
// bufferBeforeChunkingSize): an answer shorter than that is still in it when
// the handler returns, and net/http gives it its Content-Length then.
const answerBuffered = 2048

// maxKeptAnswer is the largest answer buffer kept for the next: one event's
// verdict, with many rules matched, is rarely more than a few kilobytes.
const maxKeptAnswer = 64 << 10

// decodeBody reads r's body, at most limit bytes, into v: one JSON object, no
// unknown field, nothing after it. It answers a refusal itself, 413 for a
// body too large (as POST /v1/events does) and 400 otherwise, and reports
// whether v was filled.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// A second value would be ignored: a second decision, a second role.
		var more json.RawMessage
		if err = dec.Decode(&more); err == io.EOF {
			return true
		} else if err == nil {
			err = errors.New("more after the JSON object")
		}
	}
	if tooBig := (*http.MaxBytesError)(nil); errors.As(err, &tooBig) {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body larger than %d KiB", limit>>10))
		return false
	}
	writeError(w, http.StatusBadRequest, "body: "+err.Error())
	return false
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, struct {
		Error string `json:"error"`
	}{msg})
}

// ruleFile is the rules page's view of the rule file that runs.
func (d *daemon) ruleFile() *console.RuleFile {
	embedded, _ := fs.ReadFile(vigie.StarterPack(), vigie.ExampleFile)
	return &console.RuleFile{
		Path: func() string {
			if f := d.current.Load().file; f != vigie.EmbeddedName {
				return f
			}
			return ""
		},
		Reload: func(by string) error {
			_, err := d.reload(by, true)
			return err
		},
		History:  func(ctx context.Context) ([]bot.Event, error) { return d.history.events(ctx, d.now()) },
		Running:  func() *rules.Ruleset { return d.current.Load().engine.Ruleset() },
		Embedded: embedded,
	}
}

// serverErrors is net/http's error log. A TLS handshake that fails (a port
// scanner, plain HTTP sent to the HTTPS port, a client that does not trust
// the certificate) is a stranger's doing, at the stranger's pace: it is a
// refusal like the others, counted in vigie_refused_requests_total and
// logged a few times a minute, not a line each. The rest (a panic in a
// handler, an accept error) is logged as it comes.
type serverErrors struct {
	refusals *bot.Refusals
	log      *slog.Logger
}

func (s serverErrors) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	if rest, ok := strings.CutPrefix(line, "http: TLS handshake error from "); ok {
		addr, why, _ := strings.Cut(rest, ": ")
		s.refusals.Refuse("TLS", "tls_handshake", "TLS handshake failed (not TLS, or a client that does not trust the certificate)",
			"remote", addr, "err", why)
		return len(p), nil
	}
	s.log.Warn(line)
	return len(p), nil
}
