package daemon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/rules"
)

// A draft whose own tests fail: the new rule greet flags "hello there",
// and its test expects it not to.
const failingTestsRules = casesRules + `  - name: greet
    when: 'lower(text) contains "hello"'
    do: [forward("hi")]
tests:
  - name: a greeting is left alone
    events:
      - {text: "hello there", author: {id: u1}}
    expect:
      - {event: 1, rules: []}
`

// failLines are what vigie test prints of text's failed tests, as the file
// path: "FAIL FILE:LINE: NAME", then each failure indented.
func failLines(t *testing.T, path, text string) []string {
	t.Helper()
	rs, err := rules.Parse(path, []byte(text), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs.RunTests(context.Background()) {
		if r.Passed() {
			continue
		}
		out = append(out, fmt.Sprintf("FAIL %s:%d: %s", path, r.Line, r.Name))
		for _, msg := range r.Failures {
			out = append(out, "    "+msg)
		}
	}
	if len(out) == 0 {
		t.Fatal("the draft's tests pass")
	}
	return out
}

// TestApplyRunsTheFileTests: the console's Apply refuses a draft whose own
// tests fail, saying which test failed and why as vigie test does; the file
// and the running rules stay. POST /-/reload refuses such a file the same
// way (SIGHUP and a desk's /reload go through the same reload).
func TestApplyRunsTheFileTests(t *testing.T) {
	ctx := newTab(t)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ada", []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ada = %d %s", r.code, r.body)
	}
	want := failLines(t, in.file, failingTestsRules)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/login?next=/rules"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ada"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#draft`),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const d = document.getElementById('draft'); d.value = %q; d.dispatchEvent(new Event('input')); })()`, failingTestsRules)),
		chromedp.WaitVisible(`#problems.good`),
		chromedp.Click(`#apply`),
		chromedp.WaitVisible(`p.flash`),
	); err != nil {
		t.Fatalf("apply: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('p.flash').innerText`))
	if err != nil {
		t.Fatal(err)
	}
	wantFlash := "Not applied: 1 of its 1 tests failed, the running rules stay:\n" + strings.Join(want, "\n")
	if flash != wantFlash {
		t.Errorf("after apply the page says\n%s\nwant\n%s", flash, wantFlash)
	}
	if failed, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('p.flash').classList.contains('failed')`)); !failed {
		t.Error("the refusal is not shown as a failure")
	}
	screenshot(t, ctx, "console-rules-tests-fail")
	if now, _ := os.ReadFile(in.file); string(now) != casesRules {
		t.Errorf("the rule file after a refused apply:\n%s", now)
	}
	if v := in.post(t, message("h1", "u1", "hello there")); slices.Contains(rulesOf(v), "greet") {
		t.Error("the refused rule runs")
	}

	// The same file written by hand, then reloaded over HTTP.
	if err := os.WriteFile(in.file, []byte(failingTestsRules), 0o600); err != nil {
		t.Fatal(err)
	}
	r := in.do(t, "POST", "/-/reload", nil, nil)
	var refused struct {
		Status   string
		Problems []string
		Running  string
	}
	if err := json.Unmarshal(r.body, &refused); err != nil {
		t.Fatalf("POST /-/reload: %d %s", r.code, r.body)
	}
	if r.code != http.StatusUnprocessableEntity || refused.Status != "refused" || !slices.Equal(refused.Problems, want) {
		t.Errorf("POST /-/reload = %d %s, want 422 with the problems %q", r.code, r.body, want)
	}
	if v := in.post(t, message("h2", "u2", "hello there")); slices.Contains(rulesOf(v), "greet") {
		t.Error("the refused rule runs after the reload")
	}
}
