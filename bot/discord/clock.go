package discord

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vigie-bot/vigie/bot"
)

// clockSkewWarn is how far the host's clock may be from Discord's before
// vigie warns: the catch-up's window, the memory's marks and a timeout's end
// are measured on Discord's clock, but the logs, the rules' windows and the
// other platforms go by the host's.
const clockSkewWarn = time.Minute

// discordClock tells the time on Discord's clock, which dates the ids of
// its messages (snowflakes) and their edits: the catch-up's window, the
// gap's start and the marks' ages are compared with those, not with the
// host's clock, which may be minutes off (a VM after a suspend, no NTP).
// The offset between the two is read from the Date header of Discord's
// answers (REST), on the host's clock as each arrives; the newest message id
// delivered is a floor (that message exists).
type discordClock struct {
	host func() time.Time
	log  *slog.Logger
	skew prometheus.Gauge

	mu     sync.Mutex
	offset time.Duration // Discord's clock less the host's
	floor  time.Time     // the newest message id seen, as a time
	// heardOnce: offset was read from one of Discord's answers.
	heardOnce bool
	warned    bool // the skew was warned of, and not yet back
	// disbelieved is the last Date not believed (clockBelieved), "" once
	// one is again.
	disbelieved string
}

// now is the time on Discord's clock, as best known: the host's while no
// answer of Discord's was read.
func (k *discordClock) now() time.Time {
	t := k.host()
	k.mu.Lock()
	defer k.mu.Unlock()
	t = t.Add(k.offset)
	if k.floor.After(t) {
		return k.floor
	}
	return t
}

// heard records the Date header of one of Discord's answers, to a request
// sent at the host's time sent and answered at the host's time at. The
// header says Discord's clock when the answer was made, between the two,
// rounded down to the second: the offset read is never ahead of Discord's,
// so that the gap's start a runner writes is not after a message posted in
// the gap (which would be judged as a message and as an edit).
func (k *discordClock) heard(date string, sent, at time.Time) {
	d, err := http.ParseTime(date)
	if err != nil {
		return
	}
	offset := d.Sub(at)
	// The most the offset can be: the answer made as the request left, at
	// the end of the header's second.
	most := d.Add(time.Second).Sub(sent)
	if offset > clockBelieved || offset < -clockBelieved {
		k.disbelieve(date, offset)
		return
	}
	k.mu.Lock()
	back := k.disbelieved != ""
	k.disbelieved = ""
	// A reading that allows the offset kept says nothing new: behind it by
	// up to offsetJitter (the header's second), or by the time the answer
	// took (an answer slow to come back on a busy host reads Discord's
	// clock that much behind). A later one is better (each is behind
	// Discord's clock), and one that does not allow it is the host's clock
	// stepping forward. The clock does not step back and forth between two
	// of Discord's answers.
	same := k.heardOnce && offset <= k.offset && (k.offset-offset <= offsetJitter || k.offset <= most)
	k.heardOnce = true
	k.mu.Unlock()
	if back {
		k.log.Info("Discord's answers carry a Date near the host's clock again: Discord's clock read from it", "date", date)
	}
	if !same {
		k.set(offset)
	}
}

// clockBelieved is how far from the host's clock a Date header is believed.
// The host's clock minutes off (a VM after a suspend, no NTP) is what the
// reading corrects; a Date hours or years away is more likely a proxy's on
// the way, or a broken answer: believed, it would move the catch-up's window
// off the gap (nothing read) and set timeouts' ends in the past (none given)
// or beyond Discord's 28 days (refused). The host's clock, or the offset
// last believed, is kept instead.
const clockBelieved = time.Hour

// disbelieve says once, until a Date is believed again, that the answers'
// Date is too far from the host's clock to be believed.
func (k *discordClock) disbelieve(date string, offset time.Duration) {
	k.mu.Lock()
	first := k.disbelieved == ""
	k.disbelieved = date
	k.mu.Unlock()
	if first {
		k.log.Warn("Discord's answers carry a Date too far from the host's clock to be Discord's: not believed (a proxy on the way, or the host's clock hours off); the catch-up's window and timeouts go by the host's clock, or the offset last believed, meanwhile",
			"date", date, "host_clock_off_by", skewWords(offset), "believed_within", bot.FormatDuration(clockBelieved))
	}
}

// offsetJitter is how far apart two readings of the offset may be and tell
// the same: the Date header says the second, not the millisecond.
const offsetJitter = 1500 * time.Millisecond

// sawID records a message id delivered live: Discord's clock reads at
// least its time.
func (k *discordClock) sawID(id string) {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return
	}
	t := snowflakeTime(id)
	k.mu.Lock()
	defer k.mu.Unlock()
	if t.After(k.floor) {
		k.floor = t
	}
}

// set takes offset as the host's clock's distance to Discord's, and warns
// once when it is more than clockSkewWarn, then tells once when it is back.
func (k *discordClock) set(offset time.Duration) {
	k.mu.Lock()
	k.offset = offset
	// Back only once well within the bound: an offset read near it, a
	// second off each time, does not warn again and again.
	bound := clockSkewWarn
	if k.warned {
		bound = clockSkewWarn * 5 / 6
	}
	far := offset > bound || offset < -bound
	tell := far != k.warned
	k.warned = far
	k.mu.Unlock()
	k.skew.Set(offset.Seconds())
	switch {
	case tell && far:
		k.log.Warn("the host's clock is "+skewWords(offset)+": vigie measures the catch-up's window and the channels' marks on Discord's clock, but the logs, timers and other platforms go by the host's; set the host's clock right (NTP)",
			"offset", offset.Round(time.Second).String())
	case tell:
		k.log.Info("the host's clock agrees with Discord's again", "offset", offset.Round(time.Second).String())
	}
}

// trouble is the host's clock's distance to Discord's, for /healthz, when
// more than clockSkewWarn; "" otherwise.
func (k *discordClock) trouble() string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	if k.disbelieved != "" {
		out = append(out, fmt.Sprintf("discord: Discord's answers carry a Date more than %s from the host's clock (%q), not believed: a proxy on the way rewrites it, or the host's clock is hours off", bot.FormatDuration(clockBelieved), k.disbelieved))
	}
	if k.warned {
		out = append(out, fmt.Sprintf("discord: the host's clock is %s: set it right (NTP); the catch-up goes by Discord's, the logs and timers by the host's", skewWords(k.offset)))
	}
	return strings.Join(out, "; ")
}

// skewWords says how far, and which way, the host's clock is from Discord's.
func skewWords(offset time.Duration) string {
	if offset < 0 {
		return bot.FormatDuration((-offset).Round(time.Second)) + " ahead of Discord's"
	}
	return bot.FormatDuration(offset.Round(time.Second)) + " behind Discord's"
}

// clockReader reads the Date header of Discord's answers into the clock.
type clockReader struct {
	next  http.RoundTripper
	clock *discordClock
}

func (r clockReader) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := r.clock.host()
	resp, err := r.next.RoundTrip(req)
	if err == nil {
		if d := resp.Header.Get("Date"); d != "" {
			r.clock.heard(d, sent, r.clock.host())
		}
	}
	return resp, err
}
