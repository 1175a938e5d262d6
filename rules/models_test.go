package rules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/rules/classify"
	"github.com/vigie-bot/vigie/store/memory"
)

// spamModel is a model trained on a handful of texts: enough to tell
// "subscribe to my channel" from "great song".
func spamModel(t *testing.T) []byte {
	t.Helper()
	var exs []classify.Example
	for _, s := range []string{"check out my channel", "subscribe to my channel", "sub4sub my videos", "visit my page and subscribe"} {
		exs = append(exs, classify.Example{Text: s, Positive: true})
	}
	for _, s := range []string{"great song", "I love this video", "what a voice", "the chorus is so good"} {
		exs = append(exs, classify.Example{Text: s})
	}
	m, err := classify.Train("spam", exs, classify.Options{Bits: 10, Epochs: 30})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parseWithModel(t *testing.T, src string, model []byte, opts rules.LoadOptions) (*rules.Ruleset, error) {
	t.Helper()
	opts.LookupEnv = noEnv
	opts.ReadFile = func(name string) ([]byte, error) {
		if name == "models/spam.bin" {
			return model, nil
		}
		return nil, &notFound{name}
	}
	return rules.Parse("rules.yaml", []byte(src), opts)
}

type notFound struct{ name string }

func (e *notFound) Error() string { return "no such file" }

const modelFile = `models:
  spam: {file: models/spam.bin}
rules:
  - name: spam-model
    category: spam
    when: score("spam") > 0.5
    do: [delete]
`

func TestScoreReadsTheModelAndSaysWhy(t *testing.T) {
	rs, err := parseWithModel(t, modelFile, spamModel(t), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rs.Models) != 1 || rs.Models[0].Name != "spam" || rs.Models[0].Label != "spam" || rs.Models[0].Examples != 8 {
		t.Errorf("models = %+v", rs.Models)
	}
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	at := time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)
	for i, c := range []struct {
		text  string
		match bool
	}{
		{"Subscribe to my channel!!", true},
		{"SUBSCR1BE to my ch4nnel", true},
		{"what a great song", false},
	} {
		v, err := eng.Evaluate(context.Background(), bot.Event{ID: string(rune('a' + i)), Text: c.text, At: at, Author: bot.Author{ID: "u"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(v.Matches) == 1; got != c.match {
			t.Errorf("%q: matches %+v, want a match %v", c.text, v.Matches, c.match)
			continue
		}
		if c.match && !strings.HasPrefix(v.Matches[0].Reason, `score("spam") = `) {
			t.Errorf("%q: reason %q, want the score", c.text, v.Matches[0].Reason)
		}
	}
}

func TestModelSwitchedOffScoresZero(t *testing.T) {
	src := strings.Replace(modelFile, `score("spam") > 0.5`, `score("spam") == 0`, 1)
	rs, err := parseWithModel(t, src, spamModel(t), rules.LoadOptions{Models: map[string]*classify.Model{"spam": nil}})
	if err != nil {
		t.Fatal(err)
	}
	if !rs.Models[0].Off {
		t.Errorf("model not off: %+v", rs.Models[0])
	}
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	v, err := eng.Evaluate(context.Background(), bot.Event{ID: "x", Text: "subscribe to my channel", At: time.Unix(0, 0), Author: bot.Author{ID: "u"}})
	if err != nil || len(v.Matches) != 1 {
		t.Errorf("verdict %+v, %v: want score 0 with the model off", v, err)
	}
}

func TestBadModels(t *testing.T) {
	good := spamModel(t)
	corrupt := append([]byte(nil), good...)
	corrupt[100] ^= 0xff
	for _, c := range []struct {
		name, src string
		model     []byte
		want      []string
	}{
		{"corrupt", modelFile, corrupt, []string{
			`rules.yaml:2:16: model "spam": models/spam.bin: corrupt model file: checksum mismatch (cut short or changed since it was written)`}},
		{"not a model", modelFile, []byte("hello"), []string{
			`rules.yaml:2:16: model "spam": models/spam.bin: not a vigie model file (made by vigie train)`}},
		{"missing file", strings.Replace(modelFile, "models/spam.bin", "models/nope.bin", 1), good, []string{
			`rules.yaml:2:16: model "spam": cannot read models/nope.bin: no such file`}},
		{"unknown model", strings.Replace(modelFile, `score("spam")`, `score("spma")`, 1), good, []string{
			`rules.yaml:6:17: rule "spam-model": when: score: unknown model "spma" (did you mean "spam"?)`}},
		{"name not constant", strings.Replace(modelFile, `score("spam")`, `score(text)`, 1), good, []string{
			`rules.yaml:6:17: rule "spam-model": when: write score("NAME") with the name of a model of the models: section`}},
		{"no file key", "models:\n  spam: {path: x}\nrules: []\n", good, []string{
			`rules.yaml:2:9: model "spam": missing key "file"`,
			`rules.yaml:2:10: model "spam": unknown key "path"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := parseWithModel(t, c.src, c.model, rules.LoadOptions{})
			if err == nil {
				t.Fatal("loaded")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}
