package daemon_test

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// {{space}} in a rule's message writes the group's title, as its members
// read it, not its id.
func TestTelegramSpaceIsTheGroupsName(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	rules := telegramRules + `  - name: rules-asked
    when: 'text == "where am I?"'
    do: ['warn("You are in {{space}}: read its rules.")']
`
	start(t, rules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	api.Push(groupMessage(group, 8, "Eve", "where am I?"))
	testsync.Eventually(t, "the warning", func() bool { return len(find(api, "sendMessage", "chat_id", "-100200")) == 1 })
	got := find(api, "sendMessage", "chat_id", "-100200")[0].Get("text")
	if !strings.Contains(got, "You are in fans: read its rules.") {
		t.Errorf("warning = %q, want the group named fans", got)
	}
}

// So does {{space}} in a FAQ answer.
func TestTelegramFAQSpaceIsTheGroupsName(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	rules := telegramRules + `faq:
  cooldown: {channel: off, user: off}
  entries:
    - id: hours
      questions: ["when are you open?"]
      answer: "{{space}} is open 9am-7pm."
`
	start(t, rules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	api.Push(groupMessage(group, 8, "Eve", "when are you open?"))
	testsync.Eventually(t, "the answer", func() bool { return len(find(api, "sendMessage", "chat_id", "-100200")) == 1 })
	if got := find(api, "sendMessage", "chat_id", "-100200")[0].Get("text"); got != "fans is open 9am-7pm." {
		t.Errorf("answer = %q, want the group named fans", got)
	}
}
