package replay_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules/replay"
)

// TestRunCountsFAQ: the replay asks the FAQ about every event after its
// verdict and counts its decisions in the summary and the decisions file.
func TestRunCountsFAQ(t *testing.T) {
	var asked []string
	faq := func(_ context.Context, ev *bot.Event, v bot.Verdict) string {
		asked = append(asked, ev.ID)
		if strings.Contains(ev.Text, "?") {
			return "answer"
		}
		return "silent"
	}
	events := `{"id":"a","platform":"p","author":{"id":"u"},"text":"vos horaires ?","at":"2026-01-05T10:00:00Z"}
{"id":"b","platform":"p","author":{"id":"u"},"text":"salut","at":"2026-01-05T10:00:01Z"}
{"id":"c","platform":"p","author":{"id":"u"},"text":"free money?","at":"2026-01-05T10:00:02Z"}
`
	var decisions bytes.Buffer
	sum, err := replay.Run(context.Background(), loadRules(t), []replay.Input{replay.Stream("e", strings.NewReader(events))},
		replay.Options{FAQ: faq, Decisions: &decisions, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(asked, ",") != "a,b,c" {
		t.Errorf("asked %v", asked)
	}
	if sum.FAQ["answer"] != 2 || sum.FAQ["silent"] != 1 || len(sum.FAQ) != 2 {
		t.Errorf("faq = %v", sum.FAQ)
	}
	b, err := sum.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"faq": {
    "answer": 2,
    "silent": 1
  }`) {
		t.Errorf("json lacks the faq counts:\n%s", b)
	}
	if !strings.Contains(decisions.String(), `"id":"a",`) || !strings.Contains(decisions.String(), `"faq":"answer"}`) {
		t.Errorf("decisions:\n%s", decisions.String())
	}
	var text strings.Builder
	if err := sum.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, row := range []string{"faq       events\n", "answer         2\n", "cooldown       0\n", "silent         1\n"} {
		if !strings.Contains(text.String(), row) {
			t.Errorf("text lacks %q:\n%s", row, text.String())
		}
	}
	// Without the FAQ asked, the summary has no faq key.
	sum, err = replay.Run(context.Background(), loadRules(t), []replay.Input{replay.Stream("e", strings.NewReader(events))}, replay.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := sum.JSON(); strings.Contains(string(b), "faq") || sum.FAQ != nil {
		t.Errorf("faq without asking: %s", b)
	}
}
