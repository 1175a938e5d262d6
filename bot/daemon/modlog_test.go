package daemon_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const modLogRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
modlog:
  telegram_chat: "-100600"
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

// TestTelegramModLog drives vigie through a Bot API: the rules' actions and a
// CM's /ban in the group are written in the log chat, with links to the
// console; a CM's /note shows on the member's next card.
func TestTelegramModLog(t *testing.T) {
	api := tgfake.New(t)
	in := start(t, modLogRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"VIGIE_PUBLIC_URL": "https://vigie.example"})
	const group, desk, logChat = -100200, -100500, -100600

	api.Push(groupMessage(group, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})
	for i := range 3 {
		api.Push(groupMessage(group, 7, "Bob", "spam "+strconv.Itoa(i)))
	}
	testsync.Eventually(t, "the flood's lines", func() bool { return len(find(api, "sendMessage", "chat_id", strconv.Itoa(logChat))) == 2 })
	lines := find(api, "sendMessage", "chat_id", strconv.Itoa(logChat))
	for i, want := range []string{
		"🗑 delete in fans — rule flood",
		"🔇 timeout(10m) in fans — rule flood",
	} {
		if text := lines[i].Get("text"); !strings.HasPrefix(text, want) || !strings.Contains(text, "Bob (telegram 7) · https://vigie.example/people/telegram/-100200/7") {
			t.Errorf("line %d = %q, want it to start with %q", i+1, text, want)
		}
	}

	// The CM bans Bob by answering his message in the group.
	bobs := groupMessage(group, 7, "Bob", "more spam")
	api.Push(bobs)
	ban := groupMessage(group, 42, "Ann", "/ban 1d spam")
	ban["message"].(map[string]any)["reply_to_message"] = bobs["message"]
	api.Push(ban)
	testsync.Eventually(t, "the ban", func() bool { return len(find(api, "banChatMember", "user_id", "7")) == 1 })
	testsync.Eventually(t, "the answer in the group", func() bool { return len(find(api, "sendMessage", "text", "Banned Bob for 1d.")) == 1 })
	testsync.Eventually(t, "the ban's line", func() bool {
		return len(find(api, "sendMessage", "text", "⛔ ban(1d) in fans — by telegram:42: spam · Bob (telegram 7)")) == 1
	})

	// A note on Eve, then her scam: the card shows the note.
	note := groupMessage(group, 42, "Ann", "/note 8 sold fake accounts last week")
	api.Push(note)
	testsync.Eventually(t, "the note kept", func() bool { return len(find(api, "sendMessage", "text", "Note kept on")) == 1 })
	api.Push(groupMessage(group, 8, "Eve", "FREE NITRO here"))
	testsync.Eventually(t, "the card with the note", func() bool {
		return len(find(api, "sendMessage", "chat_id", strconv.Itoa(desk))) == 1
	})
	card := find(api, "sendMessage", "chat_id", strconv.Itoa(desk))[0]
	if text := card.Get("text"); !strings.Contains(text, "📝 telegram:42, ") || !strings.Contains(text, ": sold fake accounts last week") {
		t.Errorf("card = %q, want the note", card.Get("text"))
	}
	// The mod-log's own metric counts what it wrote.
	testsync.Eventually(t, "the lines counted", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_modlog_lines_total{result="posted"} 3`)
	})
}
