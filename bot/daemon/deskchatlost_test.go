package daemon_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// TestDeskChatLost: at night, vigie is removed from the Telegram desk chat,
// or loses the right to post there, while cases are opened. The Bot API
// refuses every card to that chat as it refuses nothing else: no card is
// given up as refused for good (the chat will take them all once vigie is
// let back in), the cases wait in the store, vigie says it is not ready and
// logs one error naming the desk chat, and once the chat takes cards again
// each waiting card is posted, once, without anyone telling vigie.
func TestDeskChatLost(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		desc   string
	}{
		{"kicked", http.StatusForbidden, "Forbidden: bot was kicked from the supergroup chat"},
		{"no right to post", http.StatusBadRequest, "Bad Request: not enough rights to send text messages to the chat"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api := tgfake.New(t)
			in := start(t, deskRules, map[string]string{
				"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
				"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
				"VIGIE_WEBHOOK_SECRET": secret,
			})
			testsync.Eventually(t, "ready before the desk chat is lost", func() bool { return ready(t, in).code == http.StatusOK })

			refusal := fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q}`, tt.status, tt.desc)
			api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
				if method == "sendMessage" && p.Get("chat_id") == strconv.Itoa(tgDesk) {
					return tt.status, refusal, false
				}
				return 0, "", false
			})
			for i, text := range []string{"nitro one", "nitro two"} {
				ev := message("m-"+strings.ReplaceAll(text, " ", "-"), "u-"+strconv.Itoa(9+i), text)
				ev["platform"] = "shop"
				in.post(t, ev)
			}
			testsync.Eventually(t, "a card tried on the desk", func() bool {
				return len(deskCards(api, "nitro one"))+len(deskCards(api, "nitro two")) >= 1
			})
			testsync.Eventually(t, "not ready, naming the desk chat", func() bool {
				rd := ready(t, in)
				return rd.code == http.StatusServiceUnavailable && len(rd.Reasons) > 0 &&
					strings.HasPrefix(rd.Reasons[0], "desk telegram") && strings.Contains(rd.Reasons[0], "desk chat")
			})
			for text, c := range openCases(t, in) {
				if c.Undeliverable != "" {
					t.Errorf("case %s (%q) was given up as undeliverable (%s): its card would never be posted", c.ID, text, c.Undeliverable)
				}
			}
			testsync.Eventually(t, "an error logged about the desk chat", func() bool {
				logs := in.logs.String()
				return strings.Contains(logs, "level=ERROR") && strings.Contains(logs, "the desk chat refuses vigie")
			})
			if strings.Contains(in.logs.String(), "the desk refused a case for good") {
				t.Errorf("a case was given up because vigie was refused in the desk chat")
			}
			if n := strings.Count(in.logs.String(), `msg="the desk chat refuses vigie:`); n != 1 {
				t.Errorf("the refusal was logged %d times, want once", n)
			}

			// vigie is let back in: every card is posted, once, and vigie is ready.
			before := map[string]int{"nitro one": len(deskCards(api, "nitro one")), "nitro two": len(deskCards(api, "nitro two"))}
			api.SetTrouble(nil)
			testsync.Eventually(t, "the cards posted once vigie is back in the desk chat", func() bool {
				return len(deskCards(api, "nitro one")) > before["nitro one"] && len(deskCards(api, "nitro two")) > before["nitro two"]
			})
			testsync.Eventually(t, "ready again", func() bool { return ready(t, in).code == http.StatusOK })
			for text, n := range before {
				if got := len(deskCards(api, text)) - n; got != 1 {
					t.Errorf("%q posted %d times once vigie was back, want once", text, got)
				}
			}
			testsync.Eventually(t, "the recovery logged", func() bool {
				return strings.Contains(in.logs.String(), "the desk chat takes vigie's cards again")
			})
		})
	}
}

const communityDeskRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
communities:
  shop:
    places: [telegram:-100111]
    desk: {telegram_chat: "-100900"}
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "nitro"'
    do: [forward("scam")]
`

// communityDeskChatLost starts vigie with communityDeskRules on a fake
// Telegram that refuses the community's desk chat (-100900: vigie was
// removed from it), and waits for /-/ready to name it once a case of the
// community's waits for it.
func communityDeskChatLost(t *testing.T) (*tgfake.Server, *instance) {
	t.Helper()
	api := tgfake.New(t)
	in := start(t, communityDeskRules, map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"VIGIE_WEBHOOK_SECRET": secret,
	})
	testsync.Eventually(t, "ready before the chat is lost", func() bool { return ready(t, in).code == http.StatusOK })
	api.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "sendMessage" && p.Get("chat_id") == "-100900" {
			return http.StatusForbidden, `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`, false
		}
		return 0, "", false
	})
	shop := message("m-shop", "u-9", "nitro shop")
	shop["platform"], shop["space"] = "telegram", "-100111"
	in.post(t, shop)
	testsync.Eventually(t, "not ready, naming the community's desk chat", func() bool {
		rd := ready(t, in)
		return rd.code == http.StatusServiceUnavailable && len(rd.Reasons) == 1 && strings.Contains(rd.Reasons[0], "-100900")
	})
	return api, in
}

// TestCommunityDeskChatLost: vigie is removed from a community's desk chat
// while the file's desk chat takes its cards. /-/ready names that chat, and
// stays not ready while the other desk chat takes cards (a card taken there
// says nothing of the community's chat); the file's cases are posted.
func TestCommunityDeskChatLost(t *testing.T) {
	api, in := communityDeskChatLost(t)
	// A case for the file's desk is posted there; the community's chat is
	// still refused, and said so.
	other := message("m-other", "u-10", "nitro other")
	other["platform"] = "shop"
	in.post(t, other)
	testsync.Eventually(t, "the file's case posted", func() bool { return len(deskCards(api, "nitro other")) == 1 })
	if rd := ready(t, in); rd.code != http.StatusServiceUnavailable || len(rd.Reasons) != 1 || !strings.Contains(rd.Reasons[0], "-100900") {
		t.Errorf("after a card taken by the file's desk chat: /-/ready %d %q, want 503 naming -100900", rd.code, rd.Reasons)
	}
}

// TestCommunityDeskChatMoved: vigie is removed from a community's desk
// chat; the CM gives the community another desk chat in the rule file and
// reloads. The case that waited is posted in the new chat, and vigie is
// ready again: the old chat, no desk any more, is not named for ever.
func TestCommunityDeskChatMoved(t *testing.T) {
	api, in := communityDeskChatLost(t)

	moved := strings.Replace(communityDeskRules, `telegram_chat: "-100900"`, `telegram_chat: "-100901"`, 1)
	if err := os.WriteFile(in.file, []byte(moved), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := in.do(t, "POST", "/-/reload", nil, nil); r.code != http.StatusOK {
		t.Fatalf("reload: %d %s", r.code, r.body)
	}
	testsync.Eventually(t, "the case posted in the community's new desk chat", func() bool {
		for _, p := range find(api, "sendMessage", "chat_id", "-100901") {
			if strings.Contains(p.Get("text"), "nitro shop") {
				return true
			}
		}
		return false
	})
	testsync.Eventually(t, "ready once the community's desk chat is another", func() bool {
		return ready(t, in).code == http.StatusOK
	})
}
