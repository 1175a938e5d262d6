package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
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

// applyRefused logs in as ada, types draft in the rules editor, waits
// for its live check to show wait, and applies it; it checks that Apply is
// refused as a failure and that the editor still holds draft as typed, and
// returns what the page says.
func applyRefused(t *testing.T, ctx context.Context, in *instance, draft, wait string) string {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/login?next=/rules"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ada"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#draft`),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const d = document.getElementById('draft'); d.value = %q; d.dispatchEvent(new Event('input')); })()`, draft)),
		chromedp.WaitVisible(wait),
		chromedp.Click(`#apply`),
		chromedp.WaitVisible(`p.flash`),
	); err != nil {
		t.Fatalf("apply: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('p.flash').innerText`))
	if err != nil {
		t.Fatal(err)
	}
	if failed, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('p.flash').classList.contains('failed')`)); !failed {
		t.Error("the refusal is not shown as a failure")
	}
	if kept, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('draft').value`)); err != nil || kept != draft {
		t.Errorf("after a refused apply the editor holds (%v)\n%s\nwant the draft\n%s", err, kept, draft)
	}
	return flash
}

// TestApplyRunsTheFileTests: the console's Apply refuses a draft whose own
// tests fail, saying which test failed and why as vigie test does, with the
// draft still in the editor; the file and the running rules stay. POST /-/reload refuses such a file the same
// way (SIGHUP and a desk's /reload go through the same reload).
func TestApplyRunsTheFileTests(t *testing.T) {
	ctx := newTab(t)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ada", []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ada = %d %s", r.code, r.body)
	}
	want := failLines(t, in.file, failingTestsRules)
	flash := applyRefused(t, ctx, in, failingTestsRules, `#problems.good`)
	wantFlash := "Not applied: 1 of its 1 tests failed, the running rules stay:\n" + strings.Join(want, "\n")
	if flash != wantFlash {
		t.Errorf("after apply the page says\n%s\nwant\n%s", flash, wantFlash)
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

// A draft that does not load: greet's condition ends on an operator.
const brokenRules = casesRules + `  - name: greet
    when: 'lower(text) contains'
    do: [forward("hi")]
`

// TestRefusedApplyKeepsTheDraft: Apply refuses a draft that does not load,
// saying where, and the editor still holds the draft as typed, with its
// problem shown at its line and column, for the CM to correct; the file and
// the running rules stay.
func TestRefusedApplyKeepsTheDraft(t *testing.T) {
	ctx := newTab(t)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ada", []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ada = %d %s", r.code, r.body)
	}
	_, err := rules.Parse(in.file, []byte(brokenRules), rules.LoadOptions{})
	var le *rules.LoadError
	if !errors.As(err, &le) {
		t.Fatalf("the broken draft loads: %v", err)
	}
	p := le.Problems[0]
	flash := applyRefused(t, ctx, in, brokenRules, `#problems.bad`)
	if want := fmt.Sprintf("Not applied: line %d:%d: %s", p.Line, p.Col, p.Msg); flash != want {
		t.Errorf("after apply the page says\n%s\nwant\n%s", flash, want)
	}
	at := fmt.Sprintf("%d:%d", p.Line, p.Col)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(fmt.Sprintf(`#problems.bad a.at[data-line="%d"]`, p.Line))); err != nil {
		t.Fatalf("the kept draft's problem at %s is not shown: %v", at, err)
	}
	screenshot(t, ctx, "console-rules-refused-draft")
	if now, _ := os.ReadFile(in.file); string(now) != casesRules {
		t.Errorf("the rule file after a refused apply:\n%s", now)
	}
	if v := in.post(t, message("h1", "u1", "hello there")); slices.Contains(rulesOf(v), "greet") {
		t.Error("the refused rule runs")
	}
}

// TestApplyOverAChangedFileInABrowser: the rule file changes (by hand)
// while ada edits it; her Apply is refused, saying so, with her draft still
// in the editor and the file as it is now below it; once she has seen it,
// Apply goes ahead.
func TestApplyOverAChangedFileInABrowser(t *testing.T) {
	ctx := newTab(t)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ada", []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ada = %d %s", r.code, r.body)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/login?next=/rules"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ada"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#draft`),
	); err != nil {
		t.Fatalf("log in: %v", err)
	}
	if err := os.WriteFile(in.file, []byte(withRule("op")), 0o600); err != nil {
		t.Fatal(err)
	}
	draft := withRule("ada")
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const d = document.getElementById('draft'); d.value = %q; d.dispatchEvent(new Event('input')); })()`, draft)),
		chromedp.WaitVisible(`#problems.good`),
		chromedp.Click(`#apply`),
		chromedp.WaitVisible(`#current textarea`),
	); err != nil {
		t.Fatalf("apply: %v", err)
	}
	flash, _ := chromedp.Run(ctx, chromedp.Text(`p.flash.failed`))
	if !strings.HasPrefix(flash, "Not applied: the rule file changed since this draft was made (it was changed outside the console") {
		t.Errorf("after apply the page says %q", flash)
	}
	if kept, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('draft').value`)); kept != draft {
		t.Errorf("the editor holds\n%s\nwant the draft", kept)
	}
	if cur, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#current textarea').value`)); cur != withRule("op") {
		t.Errorf("the file shown as it is now:\n%s", cur)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#problems.good`)); err != nil {
		t.Errorf("the kept draft is not checked: %v", err)
	}
	screenshot(t, ctx, "console-rules-changed")
	if now, _ := os.ReadFile(in.file); string(now) != withRule("op") {
		t.Errorf("the rule file after the refused apply:\n%s", now)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#apply`)); err != nil {
		t.Fatal(err)
	}
	if flash := waitText(t, ctx, `p.flash`, "Rules applied and running"); !strings.HasPrefix(flash, "Rules applied and running") {
		t.Errorf("the second apply says %q", flash)
	}
	if now, _ := os.ReadFile(in.file); string(now) != draft {
		t.Errorf("the rule file after the second apply:\n%s", now)
	}
}
