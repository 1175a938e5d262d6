package daemon

import (
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// An event POST /v1/events receives dated more than bot.MaxFutureSkew ahead
// of this machine's clock says that one of the two clocks is wrong: the
// sender's, or this machine's (a VM restored from a snapshot, a clock NTP
// has not stepped yet). Refused, every event of a sender with the right time
// was lost while this machine's clock was behind (a 400 is not retried);
// judged as of now, as the platforms' events are, nothing is lost, and the
// log and /healthz say the clocks disagree.

// aheadToldEvery bounds the log's lines about such events.
const aheadToldEvery = time.Minute

// aheadShownFor is how long /healthz lists them after the last one came.
const aheadShownFor = 10 * time.Minute

// aheadEvents keeps what the log and /healthz say of the events dated ahead.
type aheadEvents struct {
	mu      sync.Mutex
	last    time.Time     // when the last came, on the daemon's clock
	most    time.Duration // the most ahead among those shown
	told    time.Time     // the last line logged
	unsaid  int           // events since that line
	mostNew time.Duration // the most ahead among them
}

// note records ev, dated ahead by ahead at now, and logs it once a minute at
// most.
func (a *aheadEvents) note(log *slog.Logger, ev *bot.Event, ahead time.Duration, now time.Time) {
	a.mu.Lock()
	if now.Sub(a.last) > aheadShownFor {
		a.most = 0
	}
	a.last = now
	a.most = max(a.most, ahead)
	a.unsaid++
	a.mostNew = max(a.mostNew, ahead)
	if !a.told.IsZero() && now.Sub(a.told) < aheadToldEvery && now.After(a.told) {
		a.mu.Unlock()
		return
	}
	n, most := a.unsaid, a.mostNew
	a.told, a.unsaid, a.mostNew = now, 0, 0
	a.mu.Unlock()
	log.Warn("events dated ahead of this machine's clock: judged as of now; if this machine's clock is behind (a VM restored from a snapshot, NTP not synchronised yet), correct it, else the sender's is ahead",
		"event", ev.Key(), "ahead_by", bot.FormatDuration(most.Round(time.Second)), "events", n,
		"then", "logged once a minute at most")
}

// problem is what /healthz lists, within aheadShownFor of the last such
// event, or "".
func (a *aheadEvents) problem(now time.Time) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.last.IsZero() || now.Sub(a.last) > aheadShownFor {
		return ""
	}
	return fmt.Sprintf("clock: events on /v1/events dated up to %s ahead of this machine's clock, the last at %s: judged as of now; check this machine's clock and the sender's (NTP)",
		bot.FormatDuration(a.most.Round(time.Second)), a.last.UTC().Format(time.RFC3339))
}
