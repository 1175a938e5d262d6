package daemon_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const editRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: hours
    when: 'text contains "horaires"'
    do: ['reply("Nous ouvrons à 9h")']
  - name: rude
    category: abuse
    when: 'text contains "idiot"'
    do: [strike]
  - name: repeat
    category: abuse
    when: 'strikes("24h") >= 2'
    do: [timeout(10m)]
  - name: ping
    when: 'text == "ping"'
    do: ['reply("pong")']
`

// TestTelegramEditNotAnsweredTwice: through the daemon, a question edited
// twice is answered once, and an insult edited twice is one strike (two
// would mute its author).
func TestTelegramEditNotAnsweredTwice(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, editRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	const group = -100200
	api.Push(groupMessage(group, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})
	edits := 0
	edit := func(m map[string]any, text string) {
		edits++
		msg := m["message"].(map[string]any)
		e := map[string]any{}
		for k, v := range msg {
			e[k] = v
		}
		e["text"], e["edit_date"] = text, time.Now().Unix()+int64(edits)
		api.Push(map[string]any{"edited_message": e})
	}
	pings := 0
	settle := func() {
		t.Helper()
		api.Push(groupMessage(group, 7, "Bob", "ping"))
		pings++
		testsync.Eventually(t, "the ping answered", func() bool { return len(find(api, "sendMessage", "text", "pong")) == pings })
	}

	q := groupMessage(group, 7, "Bob", "quels horaires ?")
	api.Push(q)
	edit(q, "quels horaires svp ?")
	edit(q, "quels sont vos horaires svp ?")
	rude := groupMessage(group, 7, "Bob", "t'es un idiot")
	api.Push(rude)
	edit(rude, "t'es vraiment un idiot")
	edit(rude, "t'es vraiment un gros idiot")
	settle()
	if got := find(api, "sendMessage", "text", "Nous ouvrons"); len(got) != 1 {
		t.Errorf("the question edited twice answered %d times, want once", len(got))
	}
	if got := find(api, "restrictChatMember", "user_id", strconv.Itoa(7)); len(got) != 0 {
		t.Errorf("muted for two strikes: one insult edited twice counted more than once")
	}
}
