package faq

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// realData are recorded public messages (tweets, video comments) from
// ../shared/data: none asks the starter pack's brand or server anything, so
// every answer there is an answer beside the point.
var realData = []string{"abuse-fr.dev.jsonl", "abuse-en.dev.jsonl", "youtube-spam.dev.jsonl"}

func readTexts(t testing.TB) []string {
	t.Helper()
	var texts []string
	for _, name := range realData {
		f, err := os.Open(filepath.Join("..", "..", "..", "shared", "data", name))
		if err != nil {
			t.Skipf("no recorded messages: %v", err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev struct{ Text string }
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				texts = append(texts, ev.Text)
			}
		}
		f.Close()
	}
	return texts
}

type realQuality struct{ messages, questions, answered int }

func (q realQuality) String() string {
	return fmt.Sprintf("%d messages, %d look like questions, %d answered (%.2f%% of the questions)",
		q.messages, q.questions, q.answered, 100*float64(q.answered)/float64(max(q.questions, 1)))
}

func measureReal(m *Matcher, texts []string, misses *[]string) realQuality {
	var q realQuality
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for _, s := range texts {
		q.messages++
		d := m.DecideText(s, at)
		if d.Why == WhyNotAsked {
			continue
		}
		q.questions++
		if d.Kind == Answer || d.Kind == Suggest {
			q.answered++
			if misses != nil {
				*misses = append(*misses, fmt.Sprintf("%s %s %.3f: %q", d.Kind, d.Entry, d.Score, s))
			}
		}
	}
	return q
}

// TestRealOffTopic measures how often the starter pack's FAQ answers recorded
// messages that ask it nothing.
func TestRealOffTopic(t *testing.T) {
	texts := readTexts(t)
	var misses []string
	q := measureReal(starterMatcher(t), texts, &misses)
	t.Logf("recorded messages: %s", q)
	if testing.Verbose() {
		for _, m := range misses {
			t.Logf("  %s", m)
		}
	}
	if got := float64(q.answered) / float64(max(q.questions, 1)); got > realCeiling {
		t.Errorf("answered %.4f of the question-like messages, ceiling %.4f", got, realCeiling)
	}
}

const realCeiling = 0.012

// TestGridReal compares the constants on the three sets (FAQ_GRID=1).
func TestGridReal(t *testing.T) {
	if os.Getenv("FAQ_GRID") == "" {
		t.Skip("FAQ_GRID not set")
	}
	texts := readTexts(t)
	b, h := loadBench(t, "testdata/bench.yaml"), loadBench(t, "testdata/heldout.yaml")
	for _, u := range []float64{0.5, 0.6, 0.7} {
		for _, th := range []float64{0.55, 0.6} {
			m := starterMatcherTuned(t, tuning{scoring: Cosine, blend: defaultBlend, unknownShare: u, minTypo: minTypoLen})
			m.cfg.Threshold = th
			t.Logf("unknown %.1f threshold %.2f:\n  bench %s\n  held out %s\n  recorded %s", u, th, measure(m, b), measure(m, h), measureReal(m, texts, nil))
		}
	}
}

// Decide skips the scoring of what is no question; its decisions must be
// those of the whole match, which DecideText always runs.
func TestDecideSkipsOnlyWhatIsNoQuestion(t *testing.T) {
	texts := []string{"salut tout le monde", "vous êtes ouverts dimanche ?", "c'est ouvert lundi",
		"how long does shipping take", "gg", "livrez-vous en Belgique", "any email to write to?", "je joue ce soir"}
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "data")); err == nil {
		texts = append(texts, readTexts(t)...)
	}
	m := starterMatcher(t)
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	skipped := 0
	for _, s := range texts {
		ev := bot.Event{Kind: bot.KindMessage, Text: s, At: at, Author: bot.Author{Name: "member"}}
		got, want := m.Decide(&ev, bot.Verdict{}), m.DecideText(s, at)
		if got.Kind != want.Kind || got.Why != want.Why || got.Entry != want.Entry || got.Language != want.Language || got.Text != want.Text {
			t.Errorf("%q: Decide %s/%s/%s/%s, the whole match %s/%s/%s/%s", s,
				got.Kind, got.Why, got.Entry, got.Language, want.Kind, want.Why, want.Entry, want.Language)
		}
		if got.Why == WhyNotAsked {
			skipped++
		}
	}
	if skipped == 0 || skipped == len(texts) {
		t.Errorf("%d of %d skipped: the test does not tell the two paths apart", skipped, len(texts))
	}
}
