package daemon_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// unauthorized is the Bot API's answer to every call once the bot's token was
// revoked (@BotFather's /revoke).
func unauthorized(method string, p url.Values) (int, string, bool) {
	return http.StatusUnauthorized, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, false
}

// TestDeskTokenRefused: the Telegram desk's token is refused (401) while cases
// are opened at night. The cards are not given up as refused for good: the
// cases wait in the store, vigie says it is not ready and logs an error naming
// the token, and once Telegram takes the token again each card is posted, once.
func TestDeskTokenRefused(t *testing.T) {
	api := tgfake.New(t)
	// Webhook mode, registered by hand: no poller whose own 401 would make
	// vigie unready; what is seen here is the desk's.
	in := start(t, deskRules, map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"VIGIE_WEBHOOK_SECRET": secret,
	})
	testsync.Eventually(t, "ready before the token is revoked", func() bool { return ready(t, in).code == http.StatusOK })

	api.SetTrouble(unauthorized)
	for i, text := range []string{"nitro one", "nitro two"} {
		ev := message("m-"+strings.ReplaceAll(text, " ", "-"), "u-"+strconv.Itoa(9+i), text)
		ev["platform"] = "shop"
		in.post(t, ev)
	}
	testsync.Eventually(t, "a card tried on the desk", func() bool { return len(deskCards(api, "nitro one")) >= 1 })
	testsync.Eventually(t, "not ready, naming the desk's token", func() bool {
		rd := ready(t, in)
		return rd.code == http.StatusServiceUnavailable && len(rd.Reasons) > 0 &&
			strings.HasPrefix(rd.Reasons[0], "desk telegram") && strings.Contains(rd.Reasons[0], "token")
	})
	for text, c := range openCases(t, in) {
		if c.Undeliverable != "" {
			t.Errorf("case %s (%q) was given up as undeliverable (%s): its card would never be posted", c.ID, text, c.Undeliverable)
		}
	}
	// Readiness and the log line are set one after the other: wait for both.
	testsync.Eventually(t, "an error logged about the refused token", func() bool {
		logs := in.logs.String()
		return strings.Contains(logs, "level=ERROR") && strings.Contains(logs, "refused vigie's token")
	})
	if strings.Contains(in.logs.String(), "the desk refused a case for good") {
		t.Errorf("a case was given up for a refused token")
	}

	// The token is taken again: every card is posted, once, and vigie is ready.
	before := map[string]int{"nitro one": len(deskCards(api, "nitro one")), "nitro two": len(deskCards(api, "nitro two"))}
	api.SetTrouble(nil)
	testsync.Eventually(t, "the cards posted once the token is taken", func() bool {
		return len(deskCards(api, "nitro one")) > before["nitro one"] && len(deskCards(api, "nitro two")) > before["nitro two"]
	})
	testsync.Eventually(t, "ready again", func() bool { return ready(t, in).code == http.StatusOK })
	for text, n := range before {
		if got := len(deskCards(api, text)) - n; got != 1 {
			t.Errorf("%q posted %d times once the token was taken, want once", text, got)
		}
	}
}
