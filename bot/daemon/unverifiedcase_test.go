package daemon_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// A case opened from an event posted over HTTP about a platform whose
// connector is on may be about words the member named never wrote. Its card
// on the Telegram desk and in the console says it came over HTTP and was not
// seen on the platform, and offers Keep only; a Ban pressed anyway (an old
// card, a forged callback), a Delete sent from the console and a decision
// over the HTTP API are refused, and nothing is done to the member. The
// member's own message, from the connector, opens a case of its own, with
// every button, not grouped with the unverified one.
func TestUnverifiedCasesAreNotActedOn(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, deskRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret,
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	in.post(t, message("forged-1", "u-7", "free nitro"))

	var card url.Values
	testsync.Eventually(t, "the card on the desk", func() bool {
		cards := find(api, "sendMessage", "chat_id", strconv.Itoa(tgDesk))
		if len(cards) > 0 {
			card = cards[0]
		}
		return len(cards) == 1
	})
	if text := card.Get("text"); !strings.Contains(text, "Unverified: this message came over HTTP (/v1/events), not from discord") {
		t.Errorf("the card does not say the message is unverified:\n%s", text)
	}
	var markup struct {
		Rows [][]struct {
			Data string `json:"callback_data"`
		} `json:"inline_keyboard"`
	}
	if err := json.Unmarshal([]byte(card.Get("reply_markup")), &markup); err != nil {
		t.Fatal(err)
	}
	var buttons []string
	for _, row := range markup.Rows {
		for _, b := range row {
			buttons = append(buttons, b.Data)
		}
	}
	if len(buttons) != 1 || !strings.HasSuffix(buttons[0], ":keep") {
		t.Fatalf("the card's buttons are %q, want keep only", buttons)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(buttons[0], buttons[0][:strings.Index(buttons[0], ":")+1]), ":keep")

	// Ban pressed all the same.
	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-1", "data": strings.TrimSuffix(buttons[0], ":keep") + ":ban", "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann"},
		"message": map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": map[string]any{"id": tgDesk, "type": "supergroup"}},
	}})
	testsync.Eventually(t, "the CM told why the ban is refused", func() bool {
		return len(deskCards(api, "could not decide case "+id+": case "+id+": not possible on this platform: its message came over HTTP and was not seen on discord (unverified)")) == 1
	})

	// The console shows the same, and refuses a delete.
	if r := in.do(t, "PUT", "/v1/accounts/ann", []byte(`{"role":"moderator","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ann = %d %s", r.code, r.body)
	}
	ann := newBrowser(t, in.base)
	ann.do("POST", "/login", url.Values{"name": {"ann"}, "password": {"correct horse"}}, nil)
	_, page, _ := ann.do("GET", "/queue", nil, nil)
	if !strings.Contains(page, "Unverified: this message came over HTTP") {
		t.Errorf("the queue does not say the case is unverified:\n%s", page)
	}
	if outcomes := regexp.MustCompile(`data-outcome="([a-z]+)"`).FindAllStringSubmatch(page, -1); len(outcomes) != 1 || outcomes[0][1] != "keep" {
		t.Errorf("the queue offers %q, want keep only", outcomes)
	}
	token := csrfField.FindStringSubmatch(page)[1]
	_, _, h := ann.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"delete"}, "csrf": {token}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "unverified") {
		t.Errorf("a delete from the console: → %q, want refused as unverified", loc)
	}
	// And over the HTTP API.
	if r := in.do(t, "POST", "/v1/cases/"+id+"/decision", []byte(`{"outcome":"timeout","by":"ops"}`), nil); r.code != http.StatusUnprocessableEntity {
		t.Errorf("a timeout over the API: %d %s, want 422", r.code, r.body)
	}

	// u-7's own message, from the connector: a case of its own, with the
	// buttons of what its platform can do (delete, timeout; it cannot ban).
	in.feed.in <- bot.Event{ID: "real-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "free nitro", At: time.Now()}
	var real url.Values
	testsync.Eventually(t, "the real message's card", func() bool {
		cards := find(api, "sendMessage", "text", "free nitro")
		if len(cards) > 1 {
			real = cards[1]
		}
		return len(cards) == 2
	})
	if strings.Contains(real.Get("text"), "Unverified") || !strings.Contains(real.Get("reply_markup"), `:delete"`) ||
		!strings.Contains(real.Get("reply_markup"), `:mute"`) || strings.Contains(real.Get("reply_markup"), `:ban"`) {
		t.Errorf("the real message's card:\n%s\n%s", real.Get("text"), real.Get("reply_markup"))
	}
	if calls := in.chat.Calls(); len(calls) != 0 {
		t.Errorf("platform calls = %q, want none on the unverified case", calls)
	}
	var cases struct {
		Cases []struct {
			ID         string
			Unverified bool
			Count      int
		}
	}
	in.do(t, "GET", "/v1/cases?status=open", nil, nil).json(t, &cases)
	if len(cases.Cases) != 2 || !slices.ContainsFunc(cases.Cases, func(c struct {
		ID         string
		Unverified bool
		Count      int
	}) bool {
		return c.ID == id && c.Unverified
	}) {
		t.Errorf("open cases = %+v, want the unverified one and the real one apart", cases.Cases)
	}
}
