package daemon_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const faqRaidRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
counters:
  joins: {key: space, window: 10m, when: 'kind == "join"'}
rules:
  - name: noop
    when: "false"
alerts:
  - name: raid
    when: kind == "join" and counters.joins >= 3
    do: ['alert("Possible raid")']
faq:
  cooldown: {channel: 5m, user: 1h}
  entries:
    - id: join
      questions: ["how do I join the club?"]
      answer: "Fill in the form on our site."
`

// questionInThread is a member's question in a forum topic, thread, as a
// raid's accounts spread over a forum's topics ask it.
func questionInThread(chat, user int64, thread int, text string) map[string]any {
	return namedMessage(chat, "fans", user, fmt.Sprint("Acc", user), "", text, thread, fmt.Sprint("Topic ", thread))
}

// answers are the FAQ's answers posted in the group.
func answers(api *tgfake.Server, group int64) int {
	n := 0
	for _, c := range find(api, "sendMessage", "chat_id", strconv.FormatInt(group, 10)) {
		if strings.Contains(c.Get("text"), "Fill in the form") {
			n++
		}
	}
	return n
}

// Fifty accounts asking the same question in one forum group, each in a
// topic of its own (where the channel cooldown does not reach), get five
// answers in all: an entry is answered at most five times a place in ten
// minutes.
func TestFAQRaidInThreadsGetsFewAnswers(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	api.SetAdmins(group, 1)
	in := start(t, faqRaidRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	for i := range 50 {
		api.Push(questionInThread(group, int64(300+i), 5000+i, "how do I join the club?"))
	}
	decided := func(decision string) int {
		body := string(in.do(t, "GET", "/metrics", nil, nil).body)
		_, rest, _ := strings.Cut(body, `vigie_faq_decisions_total{decision="`+decision+`",entry="join"} `)
		n, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(rest, "\n", 2)[0]))
		return n
	}
	testsync.Eventually(t, "the fifty questions decided", func() bool { return decided("answer")+decided("cooldown") == 50 })
	if n := decided("answer"); n != 5 {
		t.Fatalf("%d questions answered, want 5", n)
	}
	testsync.Eventually(t, "the answers out", func() bool { return answers(api, group) == 5 })
}

// While a join raid is on in a group, an account that joined during it
// gets no answer; a member from before the raid does.
func TestFAQHoldsBackARaidsAccounts(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	api.SetAdmins(group, 1)
	start(t, faqRaidRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	for i := range 3 {
		msgID++
		api.Push(map[string]any{"message": map[string]any{
			"message_id": msgID, "date": time.Now().Unix(),
			"chat":             map[string]any{"id": group, "type": "supergroup", "title": "fans"},
			"from":             map[string]any{"id": 200 + i, "is_bot": false, "first_name": "New"},
			"new_chat_members": []any{map[string]any{"id": 200 + i, "is_bot": false, "first_name": "New"}},
		}})
	}
	testsync.Eventually(t, "the raid's alert", func() bool { return len(find(api, "sendMessage", "text", "Possible raid")) == 1 })
	api.Push(questionInThread(group, 202, 6000, "how do I join the club?"))
	api.Push(questionInThread(group, 9, 6001, "how do I join the club?"))
	testsync.Eventually(t, "the older member's answer", func() bool { return answers(api, group) == 1 })
	for _, c := range find(api, "sendMessage", "chat_id", strconv.FormatInt(group, 10)) {
		if strings.Contains(c.Get("text"), "Fill in the form") && c.Get("message_thread_id") != "6001" {
			t.Errorf("answered the raid's account: %v", c)
		}
	}
}
