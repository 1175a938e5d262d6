package daemon

import (
	"net/http"
	"sync"

	"github.com/vigie-bot/vigie/bot"
)

// Bodies are read before their sender is known: an event's signature, a
// webhook's, is checked over the whole body. A stranger who sends large
// bodies on many connections would have vigie hold each in memory (1 MiB
// for an event, 4 MiB for a Meta delivery) for as long as its last bytes
// take to come (ReadTimeout): thousands of them, gigabytes.
const (
	// smallBody is the most a body may hold without a share of the
	// budget: Telegram's updates, Meta's deliveries and events are a few
	// KiB; the connections' limit bounds what small bodies hold together.
	smallBody = 64 << 10
	// bodyBudget is what the larger bodies being read hold together.
	bodyBudget = 64 << 20
	// largestBody is the most any route reads (a Meta delivery): what a
	// body of unknown length (chunked) is counted for.
	largestBody = 4 << 20
)

// bodyShares is the budget of the larger bodies being read.
type bodyShares struct {
	refusals *bot.Refusals
	mu       sync.Mutex
	held     int64
}

// limit serves a request whose body is larger than smallBody (or of
// unknown length) only while the others being read leave room in the
// budget; past it, the request is answered 503 with Retry-After, before
// its body is read: its sender tries again, as the platforms do.
func (b *bodyShares) limit(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := r.ContentLength
		if n >= 0 && n <= smallBody {
			h.ServeHTTP(w, r)
			return
		}
		if n < 0 || n > largestBody {
			n = largestBody
		}
		b.mu.Lock()
		ok := b.held+n <= bodyBudget
		if ok {
			b.held += n
		}
		b.mu.Unlock()
		if !ok {
			b.refusals.Refuse("bodies", "budget_full", "request refused before its body was read: the large bodies being read hold vigie's budget for them; its sender is asked to try again",
				"remote", r.RemoteAddr)
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusServiceUnavailable, "too many large bodies being read: try again")
			return
		}
		defer func() {
			b.mu.Lock()
			b.held -= n
			b.mu.Unlock()
		}()
		h.ServeHTTP(w, r)
	})
}
