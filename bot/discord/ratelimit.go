package discord

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// libraryWait is the longest discordgo may sleep before a call on its own,
// out of reach of the call's context: its rate limiter sleeps until a bucket
// resets, and a global limit or a channel edit's bucket (two in ten minutes)
// resets minutes later.
const libraryWait = 5 * time.Second

// refusalHold is how long a call Discord refused for a missing permission is
// refused here again without asking Discord: the time for an admin to fix
// the permission, at most, before vigie sees it.
const refusalHold = time.Minute

// rateGate stands between discordgo and the network. It keeps the global
// rate limit, however short, and the others when longer than libraryWait:
// discordgo is told of them as if they ended after libraryWait, and until
// they really end the calls they hold are
// answered here, at once, with a 429 that says how long is left, without
// reaching Discord (calls that would earn 429s count towards Cloudflare's ban
// of invalid requests). The retry stage then waits, or gives the action up as
// a case, as for any 429.
//
// It keeps a refusal of the token (401) for refusalHold too: every call
// made with it is answered here the same, but the token checks, which see
// when a token is taken again. Restarting vigie with a new token is what
// ends a refusal.
//
// It also keeps Discord's refusals for a missing permission (403, code 50013)
// for refusalHold: Discord bans for a while the address that makes 10,000
// invalid requests (401, 403, 429) in ten minutes, and a raid in a channel
// where vigie lost Manage Messages would get there with one refused delete a
// message. A channel's route is held for the channel; any other (a member's,
// whom a role above vigie's protects) for its exact path.
type rateGate struct {
	next http.RoundTripper
	now  func() time.Time
	log  *slog.Logger
	held *prometheus.CounterVec // calls answered here, by reason

	mu      sync.Mutex
	global  time.Time
	buckets map[string]time.Time // by route
	refused map[string]refusal   // by route for channels, by method and path otherwise
	// tokenRefusals counts the 401s kept: a call answered well lifts the
	// token's refusal only if it was sent after the last one, not if it
	// was under way while Discord began refusing the token.
	tokenRefusals uint64
}

// refusal is a 403 Discord gave, answered again until the hold ends.
type refusal struct {
	until time.Time
	body  []byte
}

func newRateGate(next http.RoundTripper, log *slog.Logger, held *prometheus.CounterVec) *rateGate {
	if next == nil {
		next = http.DefaultTransport
	}
	return &rateGate{next: next, now: time.Now, log: log, held: held, buckets: make(map[string]time.Time), refused: make(map[string]refusal)}
}

// withRateGate returns a copy of hc whose requests go through a rateGate.
func withRateGate(hc *http.Client, log *slog.Logger, held *prometheus.CounterVec) *http.Client {
	c := *hc
	c.Transport = newRateGate(hc.Transport, log, held)
	return &c
}

func (g *rateGate) RoundTrip(req *http.Request) (*http.Response, error) {
	route := routeOf(req.Method, req.URL.Path)
	tokenCall := usesToken(route)
	if body, ok := g.refusing(tokenRefused); ok && tokenCall && !tokenCheck(route) {
		if req.Body != nil {
			req.Body.Close()
		}
		g.held.WithLabelValues("token_refused").Inc()
		return answer(req, http.StatusUnauthorized, body), nil
	}
	refusedKey := refusalKey(route, req.Method, req.URL.Path)
	body, ok := g.refusing(refusedKey)
	if !ok && refusedKey != route {
		body, ok = g.refusing(route)
	}
	if ok {
		if req.Body != nil {
			req.Body.Close()
		}
		g.held.WithLabelValues("missing_permission").Inc()
		return answer(req, http.StatusForbidden, body), nil
	}
	if wait, global := g.holding(route); wait > 0 {
		if req.Body != nil {
			req.Body.Close()
		}
		reason := "rate_limit"
		if global {
			reason = "global_rate_limit"
		}
		g.held.WithLabelValues(reason).Inc()
		raw, _ := json.Marshal(map[string]any{
			"message":     "You are being rate limited (held by vigie until the limit Discord set ends).",
			"retry_after": wait.Seconds(), "global": global,
		})
		return answer(req, http.StatusTooManyRequests, raw), nil
	}
	g.mu.Lock()
	refusalsBefore := g.tokenRefusals
	g.mu.Unlock()
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch {
	case resp.StatusCode == http.StatusForbidden:
		g.observeRefusal(refusedKey, resp)
	case resp.StatusCode == http.StatusUnauthorized && tokenCall:
		g.observeTokenRefusal(resp)
	case resp.StatusCode < 400 && tokenCall:
		g.mu.Lock()
		// A call sent before the refusal (a registration under way while
		// the token was reset) says nothing of the token now.
		if g.tokenRefusals == refusalsBefore {
			delete(g.refused, tokenRefused)
		}
		g.mu.Unlock()
	}
	g.observe(route, resp)
	return resp, nil
}

// tokenRefused keys the refusal of the bot's token (401) among the refusals:
// it holds every call made with the token.
const tokenRefused = "token"

// usesToken reports whether a call on route is made with the bot's token:
// an interaction's answers and webhooks carry a token of their own.
func usesToken(route string) bool { return !exemptFromGlobal(route) }

// tokenCheck reports whether route is the token check's (GET /users/@me),
// which goes to Discord whatever is held: its own spacing bounds it, and
// its 200 lifts the hold.
func tokenCheck(route string) bool {
	method, path, _ := strings.Cut(route, " ")
	return method == http.MethodGet && strings.HasSuffix(path, "/users/@me")
}

// observeTokenRefusal keeps a 401: the token is refused (reset or revoked in
// the Developer Portal), and every call made with it will be, until vigie is
// given another.
func (g *rateGate) observeTokenRefusal(resp *http.Response) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if err != nil {
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	_, held := g.refused[tokenRefused]
	g.refused[tokenRefused] = refusal{until: now.Add(refusalHold), body: raw}
	g.tokenRefusals++
	if !held {
		g.log.Warn("Discord refused the token (401): calls are refused without asking Discord for " + refusalHold.String() +
			", but the token checks")
	}
}

// refusalKey is what a refusal holds: the route of a channel's call, the exact
// path of any other.
func refusalKey(route, method, path string) string {
	if _, p, _ := strings.Cut(route, " "); strings.Contains(p, "/channels/") {
		return route
	}
	return method + " " + path
}

// refusing returns the refusal held for key, if one is.
func (g *rateGate) refusing(key string) ([]byte, bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	r, ok := g.refused[key]
	if !ok {
		return nil, false
	}
	if !r.until.After(now) {
		delete(g.refused, key)
		return nil, false
	}
	return r.body, true
}

// holdRoute refuses every call of route for refusalHold, with Discord's
// refusal body: a member's route (PUT /guilds/{id}/bans/:id), once the state
// shows vigie without the permission in the whole server, whoever the member.
func (g *rateGate) holdRoute(route string, body []byte) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if r, ok := g.refused[route]; ok && r.until.After(now) {
		return
	}
	if len(g.refused) >= 1024 {
		return
	}
	g.refused[route] = refusal{until: now.Add(refusalHold), body: body}
	g.log.Warn("a permission vigie lacks in the server: these calls are refused without asking Discord for "+refusalHold.String(),
		"route", route)
}

// observeRefusal keeps a 403 for a missing permission, or for a channel
// vigie cannot see (Missing Access, 50001).
func (g *rateGate) observeRefusal(key string, resp *http.Response) {
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	var body struct {
		Code int `json:"code"`
	}
	if err != nil || json.Unmarshal(raw, &body) != nil || body.Code != codeMissingPermissions && body.Code != codeMissingAccess {
		return
	}
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.refused) >= 1024 {
		for k, r := range g.refused {
			if !r.until.After(now) {
				delete(g.refused, k)
			}
		}
	}
	if len(g.refused) >= 1024 {
		return
	}
	g.refused[key] = refusal{until: now.Add(refusalHold), body: raw}
	g.log.Warn("Discord refused a call for a missing permission: the same calls are refused without asking Discord for "+refusalHold.String(),
		"route", key)
}

// holding is how long route is still held, and whether by a global limit.
func (g *rateGate) holding(route string) (time.Duration, bool) {
	now := g.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	// Interactions are not bound to the global limit: a CM's button press is
	// still acknowledged.
	if !exemptFromGlobal(route) && g.global.After(now) {
		return g.global.Sub(now), true
	}
	if until, ok := g.buckets[route]; ok {
		if until.After(now) {
			return until.Sub(now), false
		}
		delete(g.buckets, route)
	}
	return 0, false
}

// observe reads the rate limit an answer tells of, keeps it when it is long,
// and leaves discordgo a wait of libraryWait at most.
func (g *rateGate) observe(route string, resp *http.Response) {
	h := resp.Header
	global := h.Get("X-RateLimit-Global") != "" || h.Get("X-RateLimit-Scope") == "global"
	var wait time.Duration
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		var body struct {
			RetryAfter *float64 `json:"retry_after"`
			Global     bool     `json:"global"`
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if err == nil && json.Unmarshal(raw, &body) == nil && body.RetryAfter != nil {
			wait, global = seconds(*body.RetryAfter), global || body.Global
		} else {
			// Not Discord's JSON: a proxy's or Cloudflare's page. discordgo
			// could not read it; say the same in Discord's words.
			wait = headerSeconds(h, "Retry-After")
			if wait == 0 {
				wait = headerSeconds(h, "X-RateLimit-Reset-After")
			}
			raw, _ = json.Marshal(map[string]any{
				"message":     fmt.Sprintf("rate limited (HTTP 429, %s)", strings.TrimSpace(h.Get("Content-Type"))),
				"retry_after": wait.Seconds(), "global": global,
			})
			h.Set("Content-Type", "application/json")
		}
		resp.Body = io.NopCloser(bytes.NewReader(raw))
		resp.ContentLength = int64(len(raw))
		h.Del("Content-Length")
	case h.Get("X-RateLimit-Remaining") == "0":
		wait = headerSeconds(h, "X-RateLimit-Reset-After")
	}
	// discordgo reads the reset from Reset-After, else from Reset and Date:
	// it only ever sees the first, capped.
	h.Del("X-RateLimit-Reset")
	if headerSeconds(h, "X-RateLimit-Reset-After") > libraryWait {
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(libraryWait.Seconds(), 'f', 3, 64))
	}
	// A short bucket limit discordgo waits out itself, from the bucket's
	// headers; a global one it does not see (Discord sends it without
	// them), and every other route would earn a 429 of its own meanwhile.
	if wait <= 0 || wait <= libraryWait && !global {
		return
	}
	now := g.now()
	until := now.Add(wait)
	g.mu.Lock()
	defer g.mu.Unlock()
	var started bool
	if global {
		started = !g.global.After(now)
		g.global = later(g.global, until)
	} else {
		started = !g.buckets[route].After(now)
		if len(g.buckets) >= 1024 {
			for r, t := range g.buckets {
				if !t.After(now) {
					delete(g.buckets, r)
				}
			}
		}
		g.buckets[route] = later(g.buckets[route], until)
	}
	if started {
		g.log.Warn("Discord rate limit: calls held until it ends, answered as rate limited meanwhile",
			"route", route, "global", global, "for", wait.Round(time.Second).String())
	}
}

// answer is the answer Discord would give a call made now.
func answer(req *http.Request, status int, raw []byte) *http.Response {
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", status, http.StatusText(status)),
		StatusCode:    status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(raw)),
		ContentLength: int64(len(raw)),
		Request:       req,
	}
}

// routeOf names a rate limit bucket as Discord draws them: per method and path,
// the ids of channels, guilds and webhooks kept (the "major parameters"), the
// others (messages, members, ...) shared.
func routeOf(method, path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range parts {
		if i > 0 && isSnowflake(p) {
			switch parts[i-1] {
			case "channels", "guilds", "webhooks":
			default:
				parts[i] = ":id"
			}
		}
	}
	return method + " /" + strings.Join(parts, "/")
}

func exemptFromGlobal(route string) bool {
	_, path, _ := strings.Cut(route, " ")
	return strings.Contains(path, "/interactions/") || strings.Contains(path, "/webhooks/")
}

func headerSeconds(h http.Header, key string) time.Duration {
	f, err := strconv.ParseFloat(strings.TrimSpace(h.Get(key)), 64)
	if err != nil {
		return 0
	}
	return seconds(f)
}

// seconds turns Discord's float seconds into a duration, 0 for nonsense and at
// most a day.
func seconds(f float64) time.Duration {
	if !(f > 0) {
		return 0
	}
	return time.Duration(min(f, 86400) * float64(time.Second))
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
