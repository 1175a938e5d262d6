package daemon_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// find returns the params of the calls of a method to api whose parameter key
// contains want.
func find(api *tgfake.Server, method, key, want string) []url.Values {
	var out []url.Values
	for _, c := range api.CallsOf(method) {
		if strings.Contains(c.Params.Get(key), want) {
			out = append(out, c.Params)
		}
	}
	return out
}

// refusing is a trouble (tgfake.Server.SetTrouble) that refuses the messages
// whose text holds text, as Telegram refuses HTML it cannot parse.
func refusing(text string) func(method string, p url.Values) (int, string, bool) {
	return func(method string, p url.Values) (int, string, bool) {
		if method == "sendMessage" && strings.Contains(p.Get("text"), text) {
			return http.StatusBadRequest, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: unsupported start tag"}`, false
		}
		return 0, "", false
	}
}

var msgID = 0

func groupMessage(chat, user int64, name, text string) map[string]any {
	msgID++
	return map[string]any{"message": map[string]any{
		"message_id": msgID, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": chat, "type": "supergroup", "title": "fans"},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": name},
	}}
}

const telegramRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
counters:
  msgs: {key: author.id, window: 1h}
rules:
  - name: flood
    category: flood
    when: not author.staff and counters.msgs > 2
    do: [delete, timeout(10m)]
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// TestTelegram drives vigie through a Bot API: a group flood is muted, a case is
// posted to the desk and decided by a CM's button, /status and /pause answer.
func TestTelegram(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	const group, desk = -100200, -100500

	// vigie lists a group's admins at its first message, in the background; until
	// the list comes, authors there may be staff, and a rule hit is only a case.
	api.Push(groupMessage(group, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})

	// A flood: the third message is deleted and its author muted.
	for i := range 3 {
		api.Push(groupMessage(group, 7, "Bob", "spam "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the mute", func() bool { return len(find(api, "restrictChatMember", "user_id", "7")) == 1 })
	if got := find(api, "deleteMessage", "chat_id", strconv.Itoa(group)); len(got) != 1 {
		t.Errorf("%d deletes, want 1", len(got))
	}

	// A scam is forwarded: a card with buttons in the desk chat.
	api.Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	var card url.Values
	testsync.Eventually(t, "the case card", func() bool {
		cards := find(api, "sendMessage", "chat_id", strconv.Itoa(desk))
		if len(cards) > 0 {
			card = cards[0]
		}
		return len(cards) == 1
	})
	if !strings.Contains(card.Get("text"), "scam") || !strings.Contains(card.Get("reply_markup"), "callback_data") {
		t.Fatalf("card = %v, want the scam case with buttons", card)
	}
	var markup struct {
		Rows [][]struct {
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(card.Get("reply_markup")), &markup); err != nil {
		t.Fatal(err)
	}
	var ban string
	for _, row := range markup.Rows {
		for _, b := range row {
			if strings.HasSuffix(b.Data, ":ban") {
				ban = b.Data
			}
		}
	}
	if ban == "" {
		t.Fatalf("no ban button in %s", card.Get("reply_markup"))
	}

	// The CM bans from the card: the ban happens on the group, the card is updated.
	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-1", "data": ban, "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann"},
		"message": map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": map[string]any{"id": desk, "type": "supergroup"}},
	}})
	testsync.Eventually(t, "the ban", func() bool { return len(find(api, "banChatMember", "user_id", "8")) == 1 })
	testsync.Eventually(t, "the card's update", func() bool { return len(find(api, "editMessageText", "chat_id", strconv.Itoa(desk))) == 1 })
	var cases struct {
		Cases []struct {
			Outcome   string
			DecidedBy string `json:"decided_by"`
		}
	}
	in.do(t, "GET", "/v1/cases?status=decided", nil, nil).json(t, &cases)
	if len(cases.Cases) != 1 || cases.Cases[0].Outcome != "ban" || cases.Cases[0].DecidedBy != "telegram:42" {
		t.Errorf("decided cases = %+v, want one ban by telegram:42", cases.Cases)
	}

	// /status and /pause from the CM, in the desk chat.
	api.Push(groupMessage(desk, 42, "Ann", "/status"))
	testsync.Eventually(t, "the status", func() bool { return len(find(api, "sendMessage", "text", "enforcing")) == 1 })
	api.Push(groupMessage(desk, 42, "Ann", "/pause 1h"))
	testsync.Eventually(t, "the pause", func() bool { return len(find(api, "sendMessage", "text", "Paused for 1h")) == 1 })

	// Paused: a flood is only forwarded.
	for i := range 3 {
		api.Push(groupMessage(group, 9, "Zed", "again "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the paused flood's card", func() bool { return len(find(api, "sendMessage", "text", "paused: would")) == 1 })
	if got := find(api, "restrictChatMember", "user_id", "9"); len(got) != 0 {
		t.Errorf("muted while paused: %v", got)
	}

	var h struct{ Platforms []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if h.Platforms[1] != "telegram on" {
		t.Errorf("platforms = %q, want telegram on", h.Platforms)
	}
}

// A CM whose rights are a community's, in the desk chat, through the
// daemon's own desk commands: /status counts only their community, /pause
// acts on every community and is refused them, and vigie is not paused.
func TestTelegramCommunityCMDeskCommands(t *testing.T) {
	api := tgfake.New(t)
	start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
communities:
  shop:
    places: ["telegram:-100200"]
    desk: {cms: ["telegram:8"]}
rules:
  - {name: r, when: 'false', do: [strike]}
`, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	const desk = -100500
	api.Push(groupMessage(desk, 8, "Sam", "/status"))
	testsync.Eventually(t, "the status", func() bool { return len(find(api, "sendMessage", "text", "Figures of community shop only.")) == 1 })
	api.Push(groupMessage(desk, 8, "Sam", "/pause 1h"))
	testsync.Eventually(t, "the refusal", func() bool {
		return len(find(api, "sendMessage", "text", "Sorry, /pause acts on every community: your rights are community shop's.")) == 1
	})
	api.Push(groupMessage(desk, 42, "Ann", "/status"))
	testsync.Eventually(t, "the file's CM's status", func() bool { return len(find(api, "sendMessage", "text", "enforcing")) == 2 })
	if got := find(api, "sendMessage", "text", "PAUSED"); len(got) != 0 {
		t.Errorf("paused by the community's CM: %v", got)
	}
}
