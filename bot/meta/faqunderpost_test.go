package meta_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// The brand's FAQ, as a CM writes it for the Page.
const pageFAQRules = `
timezone: Europe/Paris
rules: []
faq:
  entries:
    - id: hours
      questions: ["quels sont vos horaires ?", "à quelle heure vous ouvrez ?", "what are your opening hours?"]
      answer: {fr: "Du lundi au samedi, 9h-19h.", en: "Monday to Saturday, 9am-7pm."}
`

// Two visitors ask the opening hours under one post, a minute apart, each in
// a comment of their own. vigie's answer to the first is a reply under the
// first's comment, which the second may never see: each gets the answer
// under their own comment. The same visitor asking again is not answered
// twice.
func TestEachVisitorUnderAPostGetsTheFAQAnswer(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startFAQDaemon(t, g)
	now := time.Now().Unix()
	deliverSigned(t, base, commentOnPost("777", "777_1", "6001", "Bonjour, quels sont vos horaires ?", now-120))
	deliverSigned(t, base, commentOnPost("777", "777_2", "6002", "vous ouvrez à quelle heure le samedi ?", now-60))
	deliverSigned(t, base, commentOnPost("777", "777_3", "6001", "et vos horaires le dimanche ?", now-30))

	answered := func() map[string]int {
		out := map[string]int{}
		for _, c := range g.Calls() {
			if c.Method == "POST" && (c.Path == "/777_1/comments" || c.Path == "/777_2/comments" || c.Path == "/777_3/comments") {
				out[c.Path]++
			}
		}
		return out
	}
	deadline := time.Now().Add(testsync.Patience)
	for len(answered()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// The third comment is judged after the others: wait for the FAQ's
	// three decisions.
	for faqDecisions(t, base) < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	got := answered()
	if got["/777_1/comments"] != 1 || got["/777_2/comments"] != 1 {
		t.Fatalf("answers under the comments = %v, want one under each visitor's question (777_1, 777_2)", got)
	}
	if got["/777_3/comments"] != 0 {
		t.Fatalf("answers = %v: the first visitor, answered a minute ago, was answered again", got)
	}
	_ = logs
}

// faqDecisions is the sum of vigie_faq_decisions_total on the daemon at base.
func faqDecisions(t *testing.T, base string) int {
	t.Helper()
	_, b := daemonGet(t, base+"/metrics")
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "vigie_faq_decisions_total{") {
			f := strings.Fields(line)
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			n += int(v)
		}
	}
	return n
}

// Saturday night the page token expires: a visitor's question the FAQ would
// answer cannot be answered. It is not lost in the log: it is a case on the
// desk, with the answer ready to send; and the cooldown it would have set is
// not, so that once the token is renewed the next visitor is answered.
func TestFAQAnswerRefusedByMetaBecomesACase(t *testing.T) {
	g := newFakeGraph(t)
	base, _ := startFAQDaemon(t, g)
	now := time.Now().Unix()
	g.expire(true)
	deliverSigned(t, base, commentOnPost("778", "778_1", "6101", "Bonjour, quels sont vos horaires ?", now-60))
	testsync.Eventually(t, "a case for the question left unanswered", func() bool {
		return openCasesWith(t, base, "answer") == 1
	})
	_, b := daemonGet(t, base+"/v1/cases?status=open")
	if !strings.Contains(string(b), "Du lundi au samedi, 9h-19h.") || !strings.Contains(string(b), "778_1") {
		t.Fatalf("the case does not carry the question and its answer: %s", b)
	}
	// Its reason says Meta's refusal in a CM's words, not Graph's raw error.
	words := "faq: the answer could not be posted (entry hours, score "
	refusal := "): Meta refused: vigie's page token has expired or was revoked: renew META_PAGE_TOKEN [graph 190/463]"
	if !strings.Contains(string(b), words) || !strings.Contains(string(b), refusal) || strings.Contains(string(b), "code 190") {
		t.Errorf("the case's reason, want %q…%q without Graph's raw error: %s", words, refusal, b)
	}

	// Renewed: the same question from the same visitor, asked again under
	// another comment, is answered (nothing was said to them).
	g.expire(false)
	deliverSigned(t, base, commentOnPost("778", "778_2", "6101", "quels sont vos horaires svp ?", now-30))
	testsync.Eventually(t, "the answer once the token is back", func() bool {
		for _, c := range g.Calls() {
			if c.Method == "POST" && c.Path == "/778_2/comments" {
				return true
			}
		}
		return false
	})
}
