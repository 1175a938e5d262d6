package telegram

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// In webhook mode vigie only waits for Telegram's calls: a webhook another
// program removed (deleteWebhook, which a poller calls as it starts) or set
// elsewhere, or deliveries Telegram cannot make (a certificate that expired
// in the night, a proxy or firewall in the way), leave it judging nothing,
// with nothing failing on its side. CheckWebhook asks Telegram
// (getWebhookInfo), and says once what it finds, and once its end.

// hookChecksToTell is how many checks in a row must find new delivery
// errors with updates waiting before the desk is told, and find none
// before it is told the trouble is over: one failed delivery (vigie
// restarting) is Telegram's to send again, not a trouble.
const hookChecksToTell = 2

// webhookWatch is what the checks found of the webhook.
type webhookWatch struct {
	mu sync.Mutex
	// lastError is the last_error_date the check before saw.
	lastError int64
	// bad and good count the checks in a row that found new delivery
	// errors with updates waiting, and that found none.
	bad, good int
	// told is the trouble told: "" none, hookElsewhere, hookFailing;
	// trouble is its line for /healthz.
	told, trouble string
}

const (
	hookElsewhere = "elsewhere"
	hookFailing   = "failing"
)

// webhookInfo is what vigie reads of getWebhookInfo's WebhookInfo.
type webhookInfo struct {
	URL              string `json:"url"`
	Pending          int    `json:"pending_update_count"`
	LastErrorDate    int64  `json:"last_error_date"`
	LastErrorMessage string `json:"last_error_message"`
}

// CheckWebhook asks Telegram whether it still sends the updates to
// WebhookURL (any address, when the webhook is registered by hand) and
// manages to: the webhook removed or set elsewhere is told
// at the first check that finds it; deliveries failing, once two checks in
// a row found new delivery errors with updates waiting. Each is logged, told
// in the desk chat and listed by Troubles until a check finds it over, which
// is told too. The daemon's process that registers the webhook calls it
// every few minutes. It returns Telegram's failure to answer.
func (c *Client) CheckWebhook(ctx context.Context) error {
	raw, err := c.call(ctx, "", "getWebhookInfo", nil)
	if err != nil {
		return err
	}
	var info webhookInfo
	if err := json.Unmarshal(raw, &info); err != nil {
		return fmt.Errorf("telegram: getWebhookInfo: %w", err)
	}
	w := &c.hookWatch
	w.mu.Lock()
	newError := info.LastErrorDate != 0 && info.LastErrorDate != w.lastError
	w.lastError = info.LastErrorDate
	state := w.told
	switch {
	case info.URL == "" || (c.cfg.WebhookURL != "" && info.URL != c.cfg.WebhookURL):
		// Registered by hand (no WebhookURL), any address may be vigie's.
		w.bad, w.good = 0, 0
		state = hookElsewhere
	case newError && info.Pending > 0:
		w.bad, w.good = w.bad+1, 0
		switch {
		case w.bad >= hookChecksToTell:
			state = hookFailing
		case state == hookElsewhere:
			state = "" // set again; its deliveries are yet to be judged
		}
	default:
		w.bad, w.good = 0, w.good+1
		if w.told == hookElsewhere || w.good >= hookChecksToTell {
			state = ""
		}
	}
	before := w.told
	w.told = state
	switch state {
	case hookElsewhere:
		w.trouble = "telegram: Telegram no longer sends the updates to vigie's webhook: " + elsewhere(info.URL)
	case hookFailing:
		w.trouble = fmt.Sprintf("telegram: Telegram cannot deliver the updates to vigie's webhook (%s): %q at %s, %d updates waiting",
			c.cfg.WebhookURL, info.LastErrorMessage, time.Unix(info.LastErrorDate, 0).UTC().Format(time.RFC3339), info.Pending)
	default:
		w.trouble = ""
	}
	w.mu.Unlock()
	if state == before {
		return nil
	}
	switch state {
	case hookElsewhere:
		c.log.Error("Telegram no longer sends the updates to vigie's webhook: "+elsewhere(info.URL)+"; nothing is judged until it is set again",
			"webhook", c.cfg.WebhookURL, "audit", true)
		c.alertDesk("⚠️ Telegram no longer sends this bot's messages to vigie: its webhook was " + elsewhere(info.URL) +
			". Nothing is judged until it is set again: stop the other program using TELEGRAM_TOKEN (a test, another bot, a vigie polling), then restart vigie, which sets it.")
	case hookFailing:
		c.log.Error("Telegram cannot deliver the updates to vigie's webhook: nothing is judged until it can",
			"webhook", c.cfg.WebhookURL, "last_error", info.LastErrorMessage, "pending", info.Pending, "audit", true)
		c.alertDesk(fmt.Sprintf("⚠️ Telegram cannot deliver this bot's messages to vigie's webhook (%s): %q at %s UTC; %d wait. "+
			"Nothing is judged until it can: check that the address answers from the internet (its TLS certificate, the proxy, the firewall). "+
			"Telegram keeps them for 24 hours.", c.cfg.WebhookURL, info.LastErrorMessage, time.Unix(info.LastErrorDate, 0).UTC().Format("15:04"), info.Pending))
	default:
		c.log.Info("Telegram sends the updates to vigie's webhook again", "webhook", c.cfg.WebhookURL, "pending", info.Pending, "audit", true)
		c.alertDesk("✅ Telegram delivers this bot's messages to vigie's webhook again (" + strconv.Itoa(info.Pending) + " waiting).")
	}
	return nil
}

// elsewhere says where the webhook went: removed, or another address (its
// host only: the path may hold a secret).
func elsewhere(hook string) string {
	if hook == "" {
		return "removed, or never set (deleteWebhook: another program may poll with the token)"
	}
	host := "another address"
	if u, err := url.Parse(hook); err == nil && u.Host != "" {
		host = u.Host
	}
	return "set to another address, on " + host
}

// alertDesk posts text in the desk chat, when there is one, without holding
// up its caller.
func (c *Client) alertDesk(text string) {
	desk := c.deskChat()
	if desk == 0 {
		return
	}
	c.tell(func(ctx context.Context) {
		if _, err := c.sendMessage(ctx, bot.ActAlert, outgoing{chat: desk, text: text}); err != nil {
			c.log.Warn("an alert was not posted in the desk chat", "alert", text, "err", err)
		}
	})
}
