package daemon_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

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

// TestFAQInTheVerdict: POST /v1/events answers what the FAQ decided with the
// verdict, so that a caller for a platform vigie has no connector for can post
// the reply itself; the lane then does that same decision, once, and a
// cooldown it started keeps the next answer out of the verdict too.
func TestFAQInTheVerdict(t *testing.T) {
	rules := strings.Replace(rulesFAQ, "cooldown: {channel: off, user: off}", "cooldown: {channel: 1h, user: off}", 1)
	in := start(t, rules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	post := func(ev map[string]any) string { return string(in.postAnswer(t, ev).body) }
	shop := message("s-1", "c-1", "vous êtes ouverts quand ?")
	shop["platform"] = "shop"
	for _, tt := range []struct {
		name string
		ev   map[string]any
		faq  string // the answer's "faq" member, "" for none
	}{
		{"a connector's question", message("q-1", "u-1", "when are you open?"),
			`"faq":{"decision":"answer","answer":"hours","language":"en","text":"9am-7pm, Bob."}`},
		{"a question a rule deleted", message("q-2", "u-2", "free nitro, when are you open?"), ""},
		{"a platform without a connector", shop,
			`"faq":{"decision":"answer","answer":"hours","language":"fr","text":"9h-19h, Bob."}`},
		{"chat", message("q-3", "u-3", "gg everyone"), ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := post(tt.ev)
			if tt.faq == "" && strings.Contains(got, `"faq"`) {
				t.Errorf("answer %s has a faq member", got)
			}
			if tt.faq != "" && !strings.HasSuffix(got, ","+tt.faq+"}\n") {
				t.Errorf("answer %s\nwant it to end with %s", got, tt.faq)
			}
		})
	}
	want := []string{`delete q-2`, `reply q-1 "9am-7pm, Bob."`}
	testsync.Eventually(t, "the FAQ replies", func() bool { return len(in.chat.Calls()) >= len(want) })
	// The cooldown of q-1's channel is counted once its reply is out.
	testsync.Eventually(t, "the cooldown holds", func() bool {
		return !strings.Contains(post(message(fmt.Sprintf("q-4-%d", time.Now().UnixNano()), "u-4", "when are you open?")), `"faq"`)
	})
	// A question asked while the reply was going out is answered: it is
	// not what this checks.
	calls := slices.DeleteFunc(in.chat.Calls(), func(c string) bool { return strings.HasPrefix(c, "reply q-4-") })
	slices.Sort(calls)
	if !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q: one reply, by the lane", calls, want)
	}
}

const rulesFAQLearn = `timezone: UTC
http_events: {act_on: [discord]}
faq:
  cooldown: {channel: off, user: off}
  entries:
    - id: hours
      questions: ["quels sont vos horaires ?", "when are you open?"]
      answer: {fr: "9h-19h.", en: "9am-7pm."}
`

// TestFAQLearnsFromTheDesk: a question the FAQ is unsure of goes to the desk
// with the answer suggested; the CM sends it (outcome answer), and the next
// member who asks it that way is answered by vigie.
func TestFAQLearnsFromTheDesk(t *testing.T) {
	const token = "t0ken"
	in := start(t, rulesFAQLearn, map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_ADMIN_TOKEN": token})
	auth := map[string]string{"Authorization": "Bearer " + token}
	const q = "la boutique du centre commercial ouvre durant les travaux de la galerie ?"
	in.post(t, message("q-1", "u-1", q))
	var id string
	testsync.Eventually(t, "the near miss's case", func() bool {
		var p apiPage
		in.do(t, "GET", "/v1/cases", nil, auth).json(t, &p)
		for _, c := range p.Cases {
			if c.Rule == "faq:hours" && c.Event.ID == "q-1" {
				id = c.ID
			}
		}
		return id != ""
	})
	if r := in.do(t, "POST", "/v1/cases/"+id+"/decision", []byte(`{"outcome":"answer","by":"lea"}`), auth); r.code != http.StatusOK {
		t.Fatalf("decide %s: %d %s", id, r.code, r.body)
	}
	testsync.Eventually(t, "the wording read", func() bool { return strings.Contains(in.logs.String(), "faq: taught wordings read") })
	in.post(t, message("q-2", "u-2", q))
	want := []string{`reply q-1 "9h-19h."`, `reply q-2 "9h-19h."`}
	testsync.Eventually(t, "the FAQ answers the taught wording", func() bool { return len(in.chat.Calls()) >= len(want) })
	if calls := in.chat.Calls(); !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}

// The FAQ never answers a bot (another assistant asking "when are you
// open?" in its own answer would otherwise start a loop between the two),
// nor staff; the same question from a member is answered.
func TestFAQNeverAnswersABot(t *testing.T) {
	in := start(t, rulesFAQ, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	other := message("b-1", "bot-7", "when are you open?")
	other["author"] = map[string]any{"id": "bot-7", "name": "ShopBot", "bot": true}
	staff := message("s-1", "mod-1", "when are you open?")
	staff["author"] = map[string]any{"id": "mod-1", "name": "Mod", "staff": true}
	for _, ev := range []map[string]any{other, staff} {
		if got := string(in.postAnswer(t, ev).body); strings.Contains(got, `"faq"`) {
			t.Errorf("%s: answer %s has a faq member", ev["id"], got)
		}
	}
	in.post(t, message("q-1", "u-1", "when are you open?"))
	want := []string{`reply q-1 "9am-7pm, Bob."`}
	testsync.Eventually(t, "the FAQ replies", func() bool { return len(in.chat.Calls()) >= len(want) })
	if calls := in.chat.Calls(); !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q", calls, want)
	}
}
