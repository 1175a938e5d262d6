package daemon_test

import (
	"net/http"
	"os"
	"slices"
	"testing"
)

// faqOnly is a file with only faq:, no rules: key: what a CM gets who saves
// the FAQ part of the file alone, or the wrong file, in its place.
const faqOnly = `faq:
  threshold: 0.6
  entries:
    - id: hours
      questions: ["what are your opening hours?"]
      answer: "9am-7pm."
`

// TestReloadRefusesFAQOnlyOverRules: a reload to a file with only faq: over
// rules that run is refused, at 1:1, and the rules keep running; rules: []
// says it on purpose and is taken; once no rule runs, an FAQ-only file
// reloads as it starts.
func TestReloadRefusesFAQOnlyOverRules(t *testing.T) {
	in := start(t, rulesV1, nil)
	reload := func(src string) (int, []string) {
		t.Helper()
		if err := os.WriteFile(in.file, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		r := in.do(t, "POST", "/-/reload", nil, nil)
		var got struct {
			Status   string
			Problems []string
			Rules    int
		}
		r.json(t, &got)
		return r.code, got.Problems
	}
	code, problems := reload(faqOnly)
	want := in.file + `:1:1: rule file: no "rules" key, only "faq": loading it would stop the 2 rules that run; write "rules: []" to keep only the FAQ on purpose`
	if code != http.StatusUnprocessableEntity || !slices.Equal(problems, []string{want}) {
		t.Errorf("reload to an FAQ-only file over 2 rules = %d %q, want 422 with %q", code, problems, want)
	}
	if v := in.post(t, message("f-1", "u-1", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("after the refused reload: matched %q, want scam (the rules kept)", rulesOf(v))
	}
	if code, problems := reload("rules: []\n" + faqOnly); code != http.StatusOK {
		t.Errorf("reload to rules: [] and the FAQ = %d %q, want 200", code, problems)
	}
	if v := in.post(t, message("f-2", "u-2", "free nitro")); len(v.Matches) != 0 {
		t.Errorf("after rules: []: matched %q, want none", rulesOf(v))
	}
	if code, problems := reload(faqOnly); code != http.StatusOK {
		t.Errorf("reload to an FAQ-only file over no rule = %d %q, want 200", code, problems)
	}
}
