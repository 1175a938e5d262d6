package discordfake

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"time"
)

// RateLimits are the rate limits the fake keeps, as Discord's rate limit
// documentation describes them: per route (method and route, shared by the
// calls about one top-level resource: a channel, a guild, a webhook and its
// token) and global (every call of the bot but an interaction's callback).
// Every answer under a route's limit carries X-RateLimit-Limit, -Remaining,
// -Reset, -Reset-After and -Bucket; a call past a limit is not carried out
// and answers 429 with Retry-After, X-RateLimit-Scope (user or global),
// X-RateLimit-Global on a global one, and the JSON body {message,
// retry_after, global}. Windows run on Discord's clock (Options.Now).
type RateLimits struct {
	// Route is how many calls a route takes for one top-level resource in
	// Window; 0 keeps no route's limit.
	Route  int
	Window time.Duration
	// Global is how many calls the bot may make in a second, all routes
	// together (Discord's is 50); 0 keeps no global limit.
	Global int
}

// limiter counts the calls of each route's bucket and the global ones.
type limiter struct {
	o       RateLimits
	buckets map[string]*window // by bucket and top-level resource
	global  window
	// taken and refused count the calls carried out and those answered
	// 429, by scope.
	taken   int
	refused map[string]int
}

type window struct {
	start time.Time
	n     int
}

// left is how long the window has to run at now, started anew when past.
func (w *window) roll(now time.Time, length time.Duration) time.Duration {
	if w.start.IsZero() || now.Sub(w.start) >= length {
		w.start, w.n = now, 0
	}
	return length - now.Sub(w.start)
}

// bucketOf is the bucket of a call (its hash, as X-RateLimit-Bucket names
// it without the top-level resource) and the key counting it: the bucket
// and the resource.
func bucketOf(method string, p []string) (hash, key string) {
	route := shape(p)
	major := ""
	switch {
	case p[0] == "webhooks" && len(p) >= 3:
		major = p[1] + "/" + p[2]
	case (p[0] == "channels" || p[0] == "guilds") && len(p) >= 2:
		major = p[1]
	}
	h := fnv.New64a()
	h.Write([]byte(method + " " + route))
	hash = strconv.FormatUint(h.Sum64(), 16)
	return hash, hash + ":" + major
}

// take counts a call at now and, when a limit refuses it, writes the 429
// and reports false; under the limits it sets the route's headers.
func (f *Server) take(w http.ResponseWriter, method string, p []string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	l := f.limits
	if l == nil {
		return true
	}
	now := f.now()
	if l.o.Global > 0 && p[0] != "interactions" {
		left := l.global.roll(now, time.Second)
		if l.global.n >= l.o.Global {
			l.refused["global"]++
			w.Header().Set("X-RateLimit-Global", "true")
			w.Header().Set("X-RateLimit-Scope", "global")
			tooMany(w, left, true)
			return false
		}
		l.global.n++
	}
	if l.o.Route > 0 && l.o.Window > 0 {
		hash, key := bucketOf(method, p)
		b := l.buckets[key]
		if b == nil {
			b = &window{}
			l.buckets[key] = b
		}
		left := b.roll(now, l.o.Window)
		h := w.Header()
		h.Set("X-RateLimit-Limit", strconv.Itoa(l.o.Route))
		h.Set("X-RateLimit-Bucket", hash)
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(left.Seconds(), 'f', 3, 64))
		h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(now.Add(left).UnixMilli())/1000, 'f', 3, 64))
		if b.n >= l.o.Route {
			h.Set("X-RateLimit-Remaining", "0")
			h.Set("X-RateLimit-Scope", "user")
			l.refused["user"]++
			if l.o.Global > 0 && p[0] != "interactions" {
				l.global.n-- // not carried out
			}
			tooMany(w, left, false)
			return false
		}
		b.n++
		h.Set("X-RateLimit-Remaining", strconv.Itoa(l.o.Route-b.n))
	}
	l.taken++
	return true
}

// tooMany writes Discord's 429: Retry-After in whole seconds, rounded up,
// and the body's retry_after in seconds with their fraction.
func tooMany(w http.ResponseWriter, left time.Duration, global bool) {
	w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(left.Seconds()))))
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]any{"message": "You are being rate limited.", "retry_after": math.Round(left.Seconds()*1000) / 1000, "global": global})
}

// RateLimited is how many calls a rate limit refused (429), by scope: user
// for a route's, global for the global one.
func (f *Server) RateLimited() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	if f.limits != nil {
		for k, v := range f.limits.refused {
			out[k] = v
		}
	}
	return out
}

// Requests is how many REST calls reached the fake: those carried out (or
// failed by Fail) and those a rate limit refused.
func (f *Server) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.limits == nil {
		return len(f.calls)
	}
	n := f.limits.taken
	for _, v := range f.limits.refused {
		n += v
	}
	return n
}

func newLimiter(o *RateLimits) *limiter {
	if o == nil {
		return nil
	}
	if o.Route < 0 || o.Global < 0 || o.Route > 0 && o.Window <= 0 {
		panic(fmt.Sprintf("discordfake: rate limits %+v", *o))
	}
	return &limiter{o: *o, buckets: map[string]*window{}, refused: map[string]int{}}
}
