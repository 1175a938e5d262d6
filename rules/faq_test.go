package rules_test

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
)

func TestFAQSettings(t *testing.T) {
	for _, tt := range []struct {
		name string
		src  string
		want rules.FAQ // Entries left out of the comparison
	}{
		{name: "defaults", src: `
rules: []
faq:
  entries:
    - {id: hours, questions: ["horaires ?"], answer: "9h-19h"}
`, want: rules.FAQ{Threshold: 0.55, SuggestThreshold: 0.44, Language: "fr", QuestionsOnly: true,
			AfterHours: "forward", ChannelCooldown: 5 * time.Minute, UserCooldown: time.Hour}},
		{name: "every key", src: `
rules: []
faq:
  threshold: 0.7
  suggest_threshold: 0.5
  language: en
  synonyms:
    - [livraison, colis, delivery]
    - ["service client", support]
  questions_only: false
  after_hours: silent
  cooldown: {channel: off, user: 30m}
  entries:
    - {id: hours, questions: ["horaires ?"], answer: "9h-19h", mode: forward}
  tests:
    - {question: "vos horaires ?", expect: hours, decision: forward}
    - {question: "gg", expect: none}
`, want: rules.FAQ{Threshold: 0.7, SuggestThreshold: 0.5, Language: "en",
			Synonyms:      [][]string{{"livraison", "colis", "delivery"}, {"service client", "support"}},
			QuestionsOnly: false, AfterHours: "silent", ChannelCooldown: 0, UserCooldown: 30 * time.Minute,
			Tests: []rules.FAQTest{
				{Question: "vos horaires ?", Expect: "hours", Decision: "forward", Line: 16},
				{Question: "gg", Expect: "none", Line: 17},
			}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := rules.Parse("r.yaml", []byte(tt.src), rules.LoadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := rs.FAQ
			got.Entries = nil
			got.SuggestThreshold = math.Round(got.SuggestThreshold*1e9) / 1e9 // 0.8 × 0.55 in floating point
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("faq =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestFAQSettingsErrors(t *testing.T) {
	src := `rules: []
faq:
  threshold: 0.5
  suggest_threshold: 0.7
  synonyms: [[colis]]
  after_hours: never
  cooldown: {channel: soon}
  entries:
    - {id: hours, questions: ["horaires ?"], answer: "9h-19h", mode: sugest}
  tests:
    - {question: "vos horaires ?", expect: hour}
    - {question: "x", expect: none, decision: reply}
    - {expect: none}
`
	_, err := rules.Parse("r.yaml", []byte(src), rules.LoadOptions{})
	var le *rules.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	var got []string
	for _, p := range le.Problems {
		got = append(got, p.String())
	}
	want := []string{
		`r.yaml:4:22: faq: suggest_threshold 0.7 is above threshold 0.5`,
		`r.yaml:5:14: faq: synonyms group 1: a group needs two words or more`,
		`r.yaml:6:16: faq: after_hours: expected forward or silent, got "never"`,
		`r.yaml:7:23: faq: cooldown: channel: invalid duration "soon" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
		`r.yaml:9:70: faq entry "hours": mode: expected answer, suggest or forward, got "sugest"`,
		`r.yaml:11:44: faq test 1: expect: no faq entry "hour" (an entry id, or none)`,
		`r.yaml:12:47: faq test 2: decision: expected answer, suggest, forward or silent, got "reply"`,
		`r.yaml:13:7: faq test 3: missing key "question"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// A CM who wants only the assistant writes only faq:; a file with neither rules
// nor faq is still refused, with its position.
func TestFAQOnlyFile(t *testing.T) {
	src := `faq:
  entries:
    - {id: hours, questions: ["horaires ?"], answer: "9h-19h"}
`
	rs, err := rules.Parse("faq.yaml", []byte(src), rules.LoadOptions{})
	if err != nil {
		t.Fatalf("a faq-only file is refused: %v", err)
	}
	if len(rs.Rules) != 0 || len(rs.FAQ.Entries) != 1 || rs.FAQ.Entries[0].ID != "hours" {
		t.Errorf("rules %d, faq entries %+v; want no rule and the entry hours", len(rs.Rules), rs.FAQ.Entries)
	}
	// vigie check says what a reload over running rules would refuse.
	warn := `faq.yaml:1:1: no "rules" key: this file only answers questions; write "rules: []" to say so (a vigie whose rules run refuses to reload a file without it)`
	if len(rs.Warnings) != 1 || rs.Warnings[0].String() != warn {
		t.Errorf("warnings %q, want %q", rs.Warnings, warn)
	}
	if rs, err := rules.Parse("faq.yaml", []byte("rules: []\n"+src), rules.LoadOptions{}); err != nil || len(rs.Warnings) != 0 || rs.FAQOnly {
		t.Errorf("rules: [] and the faq: %v, warnings %v; want it loaded, no warning", err, rs.Warnings)
	}
	_, err = rules.Parse("none.yaml", []byte("timezone: UTC\n"), rules.LoadOptions{})
	want := `none.yaml:1:1: rule file: missing key "rules" (or "faq" for a file that only answers questions)`
	if err == nil || err.Error() != want {
		t.Errorf("a file with neither rules nor faq: %v, want %s", err, want)
	}
}
