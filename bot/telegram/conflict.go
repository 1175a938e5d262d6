package telegram

import (
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// A 409 from another getUpdates is one poller too many on vigie's token.
// Once, it is a restart overlapping the poller before, or a second vigie
// starting: the log says it. Going on for conflictTell, it is another
// program polling for good (a second vigie left running, a test, another
// bot given the same token): Telegram gives each update to one of the two,
// so the messages it takes are not judged, nor the CMs' commands and
// presses it takes carried out. The desk is told then, once, and /healthz
// says it (Troubles) until no 409 came for conflictQuiet while vigie polled.
const (
	conflictTell  = time.Minute
	conflictQuiet = 10 * time.Minute
)

// pollConflicts is what the poller saw of another one on the token.
type pollConflicts struct {
	mu sync.Mutex
	// first and last are the first and last 409 of the conflicts under
	// way, one no more than conflictQuiet after the one before.
	first, last time.Time
	// told: the conflicts under way were told, at first+conflictTell or
	// later.
	told bool
	// webhookLast is the last 409 of a webhook set over the poller.
	webhookLast time.Time
}

// trouble is /healthz's line while the conflicts are told, "" otherwise.
func (p *pollConflicts) trouble() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.told {
		return ""
	}
	return "telegram: another program polls Telegram with vigie's token (TELEGRAM_TOKEN) since " + p.first.UTC().Format(time.RFC3339) +
		": the updates it takes are not judged by vigie; the last 409 Conflict at " + p.last.UTC().Format(time.RFC3339)
}

// clockBack moves the conflicts under way back with the clock, when now is
// before the last (the clock was set back): how long they went on is kept,
// and the quiet after them counts from now, rather than both waiting for
// the clock to catch up. mu is held.
func (p *pollConflicts) clockBack(now time.Time) {
	if p.last.IsZero() || !now.Before(p.last) {
		return
	}
	p.first = p.first.Add(now.Sub(p.last))
	p.last = now
}

// pollConflict records a 409 from another getUpdates at now; once they have
// gone on for conflictTell, the log and the desk are told, once.
func (c *Client) pollConflict(now time.Time) {
	p := &c.conflicts
	p.mu.Lock()
	p.clockBack(now)
	if p.last.IsZero() || now.Sub(p.last) > conflictQuiet {
		p.first, p.told = now, false
	}
	p.last = now
	tell := !p.told && now.Sub(p.first) >= conflictTell
	if tell {
		p.told = true
	}
	since := p.first
	p.mu.Unlock()
	if !tell {
		return
	}
	c.log.Error("another program polls Telegram with this bot's token: the updates it takes are not judged by vigie; stop it, or give vigie a token of its own",
		"since", since.UTC().Format(time.RFC3339), "audit", true)
	c.alertDesk("⚠️ Another program polls Telegram with vigie's bot token (TELEGRAM_TOKEN) since " + since.UTC().Format("15:04") + " UTC: " +
		"Telegram hands each message to one of the two, so those it takes are not judged by vigie, and commands and buttons here may go to it. " +
		"Stop it (a second vigie left running, a test, another bot given this token), or give vigie a token of its own (@BotFather, /revoke, then TELEGRAM_TOKEN).")
}

// pollTaken records a long poll that ended without a 409 at now: once none
// came for conflictQuiet, conflicts that were told are over, and said so.
func (c *Client) pollTaken(now time.Time) {
	p := &c.conflicts
	p.mu.Lock()
	p.clockBack(now)
	if p.last.IsZero() || now.Sub(p.last) < conflictQuiet {
		p.mu.Unlock()
		return
	}
	told, since := p.told, p.first
	p.first, p.last, p.told = time.Time{}, time.Time{}, false
	p.mu.Unlock()
	if !told {
		return
	}
	c.log.Info("no other program has polled Telegram with this bot's token for "+bot.FormatDuration(conflictQuiet)+": vigie gets all the updates again",
		"since", since.UTC().Format(time.RFC3339), "audit", true)
	c.alertDesk("✅ No other program has polled Telegram with vigie's token for " + bot.FormatDuration(conflictQuiet) +
		": vigie gets every message again. Those the other took meanwhile were not judged.")
}

// webhookSet records a 409 at now that ended the poll for a webhook set with
// vigie's token (another program in webhook mode, a test): the run's restart
// removes it and polls again, but the messages Telegram sent there meanwhile
// were not judged. The log and the desk are told, once for the conflicts
// that follow each other within conflictQuiet.
func (c *Client) webhookSet(now time.Time) {
	p := &c.conflicts
	p.mu.Lock()
	tell := p.webhookLast.IsZero() || now.Sub(p.webhookLast) > conflictQuiet
	p.webhookLast = now
	p.mu.Unlock()
	if !tell {
		return
	}
	c.log.Error("another program set a webhook with this bot's token: vigie removes it and polls again; the updates sent to it were not judged",
		"at", now.UTC().Format(time.RFC3339), "audit", true)
	c.alertDesk("⚠️ Another program set a webhook for vigie's bot token (TELEGRAM_TOKEN) at " + now.UTC().Format("15:04") + " UTC: " +
		"Telegram ended vigie's long poll to send the messages there. vigie removes it and polls again; those sent to the webhook meanwhile were not judged. " +
		"Stop the other program (a vigie in webhook mode, a test), or give it a token of its own.")
}
