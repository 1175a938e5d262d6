package daemon_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const rulesFAQ = `timezone: UTC
http_events: {act_on: [discord]}
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete]
faq:
  synonyms: [[horaires, hours, ouvert, open]]
  cooldown: {channel: off, user: off}
  entries:
    - id: hours
      questions: ["quels sont vos horaires ?", "when are you open?"]
      answer: {fr: "9h-19h, {{author.name}}.", en: "9am-7pm, {{author.name}}."}
`

// TestFAQ drives a question through the daemon: the rules first, then the FAQ
// answers in the asker's language, and never a message a rule deleted.
func TestFAQ(t *testing.T) {
	in := start(t, rulesFAQ, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})

	in.post(t, message("q-1", "u-1", "vous êtes ouverts quand ?"))
	in.post(t, message("q-2", "u-2", "free nitro, when are you open?"))
	in.post(t, message("q-3", "u-3", "when are you open?"))
	want := []string{`reply q-1 "9h-19h, Bob."`, `delete q-2`, `reply q-3 "9am-7pm, Bob."`}
	testsync.Eventually(t, "the FAQ replies", func() bool { return len(in.chat.Calls()) >= len(want) })
	calls := in.chat.Calls()
	slices.Sort(calls)
	slices.Sort(want)
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}

	r := in.do(t, "GET", "/metrics", nil, nil)
	text := string(r.body)
	for _, line := range []string{
		`vigie_faq_decisions_total{decision="answer",entry="hours"} 2`,
		`vigie_faq_decisions_total{decision="silent",entry="none"} 1`,
		`vigie_faq_replies_total{platform="discord",result="done"} 2`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %s\n%s", line, grep(text, "vigie_faq"))
		}
	}
}
