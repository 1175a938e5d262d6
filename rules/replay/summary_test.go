package replay

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

func match(rule, category string) bot.Match {
	return bot.Match{Rule: rule, Category: category}
}

// tallied replays a hand-made history through a Tally. The expected counts in the
// tests below were worked out by hand, event by event, in the comments.
func tallied() *Tally {
	t := NewTally([]rules.RuleInfo{
		{Name: "r-spam", Category: "spam"},
		{Name: "r-abuse", Category: "abuse"},
		{Name: "r-flood", Category: "flood"}, // no event is labelled flood
		{Name: "r-none"},                     // a rule without a category
		{Name: "r-never", Category: "spam"},  // never matches
	})
	add := func(label string, dup bool, m ...bot.Match) {
		t.Add(bot.Event{Label: label}, bot.Verdict{Duplicate: dup, Matches: m})
	}
	add("spam", false, match("r-spam", "spam"))                             // e1 spam tp, overall tp
	add("spam", false)                                                      // e2 spam fn, overall fn
	add("ok", false, match("r-abuse", "abuse"))                             // e3 abuse fp, overall fp
	add("ok", false)                                                        // e4 tn everywhere
	add("abuse", false, match("r-spam", "spam"), match("r-abuse", "abuse")) // e5 spam fp, abuse tp, overall tp
	add("abuse", false, match("r-none", ""))                                // e6 abuse fn, overall tp
	add("", false, match("r-spam", "spam"))                                 // e7 unlabelled: hits only
	add("spam", true)                                                       // e8 duplicate: not scored
	add("scam", false, match("r-flood", "flood"))                           // e9 scam fn (met late), flood fp, overall tp
	t.Skip()
	return t
}

func TestTallyCounts(t *testing.T) {
	s := tallied().Summary()
	got, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"events":9,"flagged":6,"skipped":1,"duplicates":1,"labelled":7,` +
		`"by_rule":{"r-abuse":2,"r-flood":1,"r-never":0,"r-none":1,"r-spam":3},` +
		`"by_category":{` +
		`"abuse":{"tp":1,"fp":1,"fn":1,"tn":4,"precision":0.5,"recall":0.5,"f1":0.5,"false_positive_rate":0.2},` +
		`"flood":{"tp":0,"fp":1,"fn":0,"tn":6,"precision":0,"recall":0,"f1":0,"false_positive_rate":0.143},` +
		`"scam":{"tp":0,"fp":0,"fn":1,"tn":6,"precision":0,"recall":0,"f1":0,"false_positive_rate":0},` +
		`"spam":{"tp":1,"fp":1,"fn":1,"tn":4,"precision":0.5,"recall":0.5,"f1":0.5,"false_positive_rate":0.2}},` +
		`"overall":{"tp":4,"fp":1,"fn":1,"tn":1,"precision":0.8,"recall":0.8,"f1":0.8,"false_positive_rate":0.5}}`
	if string(got) != want {
		t.Errorf("summary\n got %s\nwant %s", got, want)
	}
}

func TestScoreRatios(t *testing.T) {
	tests := []struct {
		name           string
		tp, fp, fn, tn int
		p, r, f1, fpr  float64
	}{
		{"nothing at all", 0, 0, 0, 0, 0, 0, 0, 0},
		{"never flagged", 0, 0, 5, 5, 0, 0, 0, 0},
		{"all wrong", 0, 3, 0, 1, 0, 0, 0, 0.75},
		{"thirds round to 3 decimals", 2, 1, 1, 2, 0.667, 0.667, 0.667, 0.333},
		{"perfect", 7, 0, 0, 3, 1, 1, 1, 0},
		{"f1 from unequal p and r", 1, 0, 3, 9, 1, 0.25, 0.4, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := Score{TP: tt.tp, FP: tt.fp, FN: tt.fn, TN: tt.tn}
			s.compute()
			if s.Precision != tt.p || s.Recall != tt.r || s.F1 != tt.f1 || s.FalsePositiveRate != tt.fpr {
				t.Errorf("got precision %v recall %v f1 %v fpr %v, want %v %v %v %v",
					s.Precision, s.Recall, s.F1, s.FalsePositiveRate, tt.p, tt.r, tt.f1, tt.fpr)
			}
		})
	}
}

func TestUnlabelledHasNoScores(t *testing.T) {
	tl := NewTally([]rules.RuleInfo{{Name: "r", Category: "spam"}})
	tl.Add(bot.Event{}, bot.Verdict{Matches: []bot.Match{match("r", "spam")}})
	tl.Add(bot.Event{}, bot.Verdict{})
	got, err := json.Marshal(tl.Summary())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"events":2,"flagged":1,"skipped":0,"duplicates":0,"labelled":0,"by_rule":{"r":1}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestWriteText(t *testing.T) {
	var buf bytes.Buffer
	if err := tallied().Summary().WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"events      9",
		"flagged     6  66.7%",
		"skipped     1",
		"duplicates  1  11.1%",
		"labelled    7  77.8%",
		"",
		"rule     hits",
		"r-spam      3",
		"r-abuse     2",
		"r-flood     1",
		"r-none      1",
		"r-never     0",
		"",
		"category   tp  fp  fn  tn  precision  recall     f1  fp rate",
		"abuse       1   1   1   4      0.500   0.500  0.500    0.200",
		"flood       0   1   0   6      0.000   0.000  0.000    0.143",
		"scam        0   0   1   6      0.000   0.000  0.000    0.000",
		"spam        1   1   1   4      0.500   0.500  0.500    0.200",
		"(overall)   4   1   1   1      0.800   0.800  0.800    0.500",
		"",
	}, "\n")
	if buf.String() != want {
		t.Errorf("text\n%s\nwant\n%s", buf.String(), want)
	}
}
