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

// rateGate stands between discordgo and the network. It keeps the rate limits
// longer than libraryWait itself: discordgo is told of them as if they ended
// after libraryWait, and until they really end the calls they hold are
// answered here, at once, with a 429 that says how long is left, without
// reaching Discord (calls that would earn 429s count towards Cloudflare's ban
// of invalid requests). The retry stage then waits, or gives the action up as
// a case, as for any 429.
type rateGate struct {
	next http.RoundTripper
	now  func() time.Time
	log  *slog.Logger
	held *prometheus.CounterVec // calls answered here, by scope

	mu      sync.Mutex
	global  time.Time
	buckets map[string]time.Time // by route
}

func newRateGate(next http.RoundTripper, log *slog.Logger, held *prometheus.CounterVec) *rateGate {
	if next == nil {
		next = http.DefaultTransport
	}
	return &rateGate{next: next, now: time.Now, log: log, held: held, buckets: make(map[string]time.Time)}
}

// withRateGate returns a copy of hc whose requests go through a rateGate.
func withRateGate(hc *http.Client, log *slog.Logger, held *prometheus.CounterVec) *http.Client {
	c := *hc
	c.Transport = newRateGate(hc.Transport, log, held)
	return &c
}

func (g *rateGate) RoundTrip(req *http.Request) (*http.Response, error) {
	route := routeOf(req.Method, req.URL.Path)
	if wait, global := g.holding(route); wait > 0 {
		if req.Body != nil {
			req.Body.Close()
		}
		scope := "route"
		if global {
			scope = "global"
		}
		g.held.WithLabelValues(scope).Inc()
		return heldResponse(req, wait, global), nil
	}
	resp, err := g.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	g.observe(route, resp)
	return resp, nil
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
	if wait <= libraryWait {
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

// heldResponse is the 429 Discord would give a call made now.
func heldResponse(req *http.Request, wait time.Duration, global bool) *http.Response {
	raw, _ := json.Marshal(map[string]any{
		"message":     "You are being rate limited (held by vigie until the limit Discord set ends).",
		"retry_after": wait.Seconds(), "global": global,
	})
	return &http.Response{
		Status:        "429 Too Many Requests",
		StatusCode:    http.StatusTooManyRequests,
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
