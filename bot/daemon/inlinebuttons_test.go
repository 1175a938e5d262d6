package daemon_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// TestLinkBehindAnInlineButton: a member posting through an inline bot
// (via_bot) sends a message with buttons under it, and a button may open an
// address its words hide ("🎁 Claim"): a scam's link, with an innocent text.
// Those addresses are links of the message, as a text_link's are: before,
// vigie did not read them, and the scam stayed.
func TestLinkBehindAnInlineButton(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	start(t, linkedRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_CHATS": strconv.Itoa(group)})
	msg := func(id int, text string, buttons ...map[string]any) map[string]any {
		m := map[string]any{"message_id": id, "date": time.Now().Unix(), "text": text,
			"chat":    map[string]any{"id": group, "type": "supergroup", "title": "fans"},
			"from":    map[string]any{"id": 7, "is_bot": false, "first_name": "Eve"},
			"via_bot": map[string]any{"id": 555, "is_bot": true, "first_name": "Gifts", "username": "gifts_bot"}}
		if len(buttons) > 0 {
			row := []any{}
			for _, b := range buttons {
				row = append(row, b)
			}
			m["reply_markup"] = map[string]any{"inline_keyboard": []any{row}}
		}
		return map[string]any{"message": m}
	}
	deleted := func() []string {
		var ids []string
		for _, c := range api.CallsOf("deleteMessage") {
			ids = append(ids, c.Params.Get("message_id"))
		}
		return ids
	}
	// A button that answers the bot (callback_data) opens no address.
	api.Push(msg(40, "Vote for the best goal", map[string]any{"text": "👍", "callback_data": "up"}))
	api.Push(msg(41, "You won a gift! Press below", map[string]any{"text": "🎁 Claim", "url": "https://gift-claim.example.net/x"}))
	api.Push(msg(42, "Log in for your prize", map[string]any{"text": "Log in", "login_url": map[string]any{"url": "https://login.example.net/p"}}))
	// The group's lane takes its messages in order: once the last is
	// judged, the first were too.
	api.Push(msg(43, "see https://plain.example.net"))
	testsync.Eventually(t, "the plain link deleted", func() bool { return slices.Contains(deleted(), "43") })
	if got := deleted(); !slices.Equal(got, []string{"41", "42", "43"}) {
		t.Errorf("deleted %q, want the messages whose buttons open an address, and the plain link: 41, 42, 43", got)
	}
}
