package faq

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestResultJSON(t *testing.T) {
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ question, want string }{
		{"what are your opening hours?",
			`{"decision":"answer","answer":"hours","language":"en","text":"9am-7pm, member.","candidates":[{"id":"hours","score":0.708}]}`},
		{"qui a vu le match ?",
			`{"decision":"silent","answer":null,"language":"fr","text":null,"candidates":[]}`},
	} {
		b, err := json.Marshal(m.DecideText(tt.question, testTime).Result())
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tt.want {
			t.Errorf("%q:\n got %s\nwant %s", tt.question, b, tt.want)
		}
	}
}

func TestWriteText(t *testing.T) {
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := m.WriteText(&b, m.DecideText("comment signaler un joueur ?", testTime)); err != nil {
		t.Fatal(err)
	}
	want := `decision: forward (entry report, score 0.854): the entry is answered by the CMs
language: fr
suggested reply: Ouvrez un ticket.
words: sign joueur
candidates (answer from 0.60, near miss from 0.40):
  report               0.854
`
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestRunTests(t *testing.T) {
	m, err := NewMatcher(smallConfig())
	if err != nil {
		t.Fatal(err)
	}
	res := m.RunTests([]Test{
		{Question: "vos horaires ?", Expect: "hours", Decision: Answer, Line: 3},
		{Question: "gg wp", Expect: None, Line: 4},
		{Question: "vos horaires ?", Expect: "delivery", Line: 5},
		{Question: "vos horaires ?", Expect: "hours", Decision: Suggest, Line: 6},
	})
	var failures []string
	for _, r := range res {
		failures = append(failures, strings.Join(r.Failures, "; "))
	}
	want := []string{"", "", "got hours (answer, hours 0.708), want delivery", "decision answer, want suggest"}
	if strings.Join(failures, "|") != strings.Join(want, "|") {
		t.Errorf("failures = %q, want %q", failures, want)
	}
	if res[0].Name != `faq: "vos horaires ?"` || res[0].Line != 3 {
		t.Errorf("result = %+v", res[0])
	}
}
