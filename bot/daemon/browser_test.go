package daemon_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers/console/browsertest"
)

// newTab starts a headless Chromium for the test, closed at its end.
func newTab(t *testing.T) context.Context {
	return browsertest.Tab(t, chromedp.WindowSize(1200, 900))
}

// screenshot saves the page as NAME.png in VIGIE_SCREENSHOTS (for the
// README), or in the test's temporary directory.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("VIGIE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestConsoleInABrowser drives the console in Chromium as a CM does: log in,
// see a case arrive without reloading, decide it with its button, and find
// the action carried out on the platform; then the queue at a phone's width.
func TestConsoleInABrowser(t *testing.T) {
	ctx := newTab(t)
	in := start(t, membersCasesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ann", []byte(`{"role":"moderator","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ann = %d %s", r.code, r.body)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#queue h1`),
	)
	if err != nil {
		t.Fatalf("log in: %v", err)
	}
	heading, err := chromedp.Run(ctx, chromedp.Text(`#queue h1`))
	if err != nil {
		t.Fatal(err)
	}
	if heading != "0 open cases" {
		t.Errorf("after login the queue says %q, want 0 open cases", heading)
	}

	// A case opened while the page is open shows up on its own.
	in.post(t, message("m1", "u1", "Free NITRO for everyone: claim it before midnight"))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`article[data-case] blockquote`)); err != nil {
		t.Fatalf("the case did not arrive live: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(`article[data-case] blockquote`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Free NITRO") {
		t.Errorf("the case shows %q", text)
	}
	in.post(t, message("m2", "u2", "you idiot, nitro is a scam and so are you"))
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`article[data-case]:nth-of-type(2)`)); err != nil {
		t.Fatalf("the second case did not arrive live: %v", err)
	}
	// m2 matched two rules that forward it: one card, with both reasons.
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('article[data-case]').length`)); err != nil || n != 2 {
		t.Errorf("the queue shows %d cards for two messages (%v), want 2", n, err)
	}
	reason, err := chromedp.Run(ctx, chromedp.Text(`article[data-case]:nth-of-type(2) p.reason`))
	if err != nil {
		t.Fatal(err)
	}
	if reason != "scam: scam; rude: rude" {
		t.Errorf("m2's card says %q, want both rules' reasons", reason)
	}
	screenshot(t, ctx, "console-queue-arrived") // docs/img/console-queue.png is TestQueueShowsWhatTheCardsShow's
	// The author's page, from the case.
	if err := chromedp.Do(ctx, chromedp.Click(`article[data-case]:first-of-type a.author`), chromedp.WaitVisible(`#strikes`)); err != nil {
		t.Fatalf("the author's page: %v", err)
	}
	screenshot(t, ctx, "console-person")
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/queue"), chromedp.WaitVisible(`article[data-case]:nth-of-type(2)`)); err != nil {
		t.Fatal(err)
	}

	if err := chromedp.Do(ctx,
		chromedp.Click(`article[data-case]:first-of-type button[data-outcome="delete"]`),
		chromedp.WaitVisible(`p.flash`),
	); err != nil {
		t.Fatalf("decide: %v", err)
	}
	flash, err := chromedp.Run(ctx, chromedp.Text(`p.flash`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(flash, ": delete, done.") {
		t.Errorf("after the decision the page says %q", flash)
	}
	deadline := time.Now().Add(testsync.Patience)
	for !slices.Contains(in.chat.Calls(), "delete m1") {
		if time.Now().After(deadline) {
			t.Fatalf("the platform got %q, want delete m1", in.chat.Calls())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The report of the day: the rule's row, and the chart drawn.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(in.base+"/reports"),
		chromedp.WaitVisible(`tr[data-rule="scam"]`),
	); err != nil {
		t.Fatalf("reports: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('.chart img').complete`)); err != nil {
		t.Fatalf("the chart: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(`tr[data-rule="scam"]`))
	if err != nil {
		t.Fatal(err)
	}
	if fields := strings.Fields(row); len(fields) < 3 || fields[0] != "scam" || fields[1] != "spam" || fields[2] != "2" {
		t.Errorf("the report's scam row says %q, want scam, spam, 2 hits", row)
	}
	chartWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelector('.chart img').naturalWidth`))
	if err != nil || chartWidth == 0 {
		t.Errorf("the chart did not load (width %d, %v)", chartWidth, err)
	}
	screenshot(t, ctx, "console-reports")
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/health"), chromedp.WaitVisible(`dl.health`)); err != nil {
		t.Fatalf("health: %v", err)
	}
	desk, err := chromedp.Run(ctx, chromedp.Text(`dl.health dd:last-of-type`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(desk, "1 open case,") {
		t.Errorf("the health page says of the desk %q, want 1 open case (m2's)", desk)
	}
	screenshot(t, ctx, "console-health")
	if err := chromedp.Do(ctx, chromedp.Navigate(in.base+"/queue")); err != nil {
		t.Fatal(err)
	}

	// At a phone's width the queue fits, buttons included.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)),
		chromedp.Reload(),
		chromedp.WaitVisible(`article[data-case] button[data-outcome="keep"]`),
	); err != nil {
		t.Fatalf("phone width: %v", err)
	}
	scrollWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	buttons, err := chromedp.Run(ctx, chromedp.Evaluate[int](
		`[...document.querySelectorAll('button[data-outcome]')].filter(b => b.getBoundingClientRect().right > 390).length`))
	if err != nil {
		t.Fatal(err)
	}
	if scrollWidth > 390 || buttons > 0 {
		t.Errorf("at 390 px the page is %d px wide and %d buttons stick out", scrollWidth, buttons)
	}
	screenshot(t, ctx, "console-phone")
}

// TestRulesInABrowser edits the rule file in the console as an admin: a typo
// is shown at its line and column while typing, the draft's tests run, a
// backtest on the recent events says which rule would flag what, the draft
// is applied (and runs), then rolled back.
func TestRulesInABrowser(t *testing.T) {
	ctx := newTab(t)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ada", []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ada = %d %s", r.code, r.body)
	}
	for i, text := range []string{"free nitro", "hello friends", "you idiot", "hello again, all"} {
		in.post(t, message(fmt.Sprintf("h%d", i), fmt.Sprintf("u%d", i), text))
	}
	original, err := os.ReadFile(in.file)
	if err != nil {
		t.Fatal(err)
	}
	setDraft := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
			`(() => { const d = document.getElementById('draft'); d.value = %q; d.dispatchEvent(new Event('input')); })()`, text))
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
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('draft').value`))
	if err != nil || shown != string(original) {
		t.Fatalf("the editor shows %q (%v), want the rule file", shown, err)
	}

	// A typo, shown where it is.
	broken := strings.Replace(casesRules, `lower(text) contains "nitro"`, `lower(text) contans "nitro"`, 1)
	if err := chromedp.Do(ctx, setDraft(broken), chromedp.WaitVisible(`#problems li.error`)); err != nil {
		t.Fatalf("the typo is not shown: %v", err)
	}
	problem, err := chromedp.Run(ctx, chromedp.Text(`#problems li.error`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(problem, "5:24 ") || !strings.Contains(problem, "contans") {
		t.Errorf("the problem shown is %q, want it at 5:24, naming contans", problem)
	}
	screenshot(t, ctx, "console-rules-problem")

	// A new rule: its tests, then what it would have flagged.
	draft := casesRules + `  - name: greet
    when: 'lower(text) contains "hello"'
    do: [forward("hi")]
  - name: polite
    mode: shadow
    when: 'lower(text) contains "friends"'
    do: [forward("hi")]
`
	if err := chromedp.Do(ctx, setDraft(draft), chromedp.WaitVisible(`#problems.good`),
		chromedp.Click(`#test`), chromedp.WaitVisible(`#results h2`)); err != nil {
		t.Fatalf("tests: %v", err)
	}
	if h, _ := chromedp.Run(ctx, chromedp.Text(`#results h2`)); h != "0 passed, 0 failed" {
		t.Errorf("the draft's tests say %q", h)
	}
	if err := chromedp.Do(ctx, chromedp.Click(`#backtest`), chromedp.WaitVisible(`tr[data-rule="greet"]`)); err != nil {
		t.Fatalf("backtest: %v", err)
	}
	row, err := chromedp.Run(ctx, chromedp.Text(`tr[data-rule="greet"]`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(row, "hello friends") || !strings.Contains(row, "hello again, all") || strings.Contains(row, "nitro") {
		t.Errorf("the backtest's greet row: %q", row)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('table.backtest tr[data-rule]').length`)); n != 2 {
		t.Errorf("%d rules changed in the backtest, want greet and polite (shadow)", n)
	}
	if row, err := chromedp.Run(ctx, chromedp.Text(`tr[data-rule="polite (shadow)"]`)); err != nil || !strings.Contains(row, "hello friends") {
		t.Errorf("the shadow rule's row: %q (%v)", row, err)
	}
	screenshot(t, ctx, "console-rules-backtest")

	// Applied: the file is the draft, the rule runs.
	if err := chromedp.Do(ctx, chromedp.Click(`#apply`), chromedp.WaitVisible(`p.flash`)); err != nil {
		t.Fatalf("apply: %v", err)
	}
	if flash, _ := chromedp.Run(ctx, chromedp.Text(`p.flash`)); !strings.HasPrefix(flash, "Rules applied and running") {
		t.Errorf("after apply: %q", flash)
	}
	if now, _ := os.ReadFile(in.file); string(now) != draft {
		t.Errorf("the rule file after apply:\n%s", now)
	}
	if v := in.post(t, message("h9", "u9", "hello there")); !slices.Contains(rulesOf(v), "greet") {
		t.Errorf("the applied rule does not run: %v", rulesOf(v))
	}
	// Rolled back: the file is the original again.
	// The page shows the apply's message until the rollback's page comes.
	if err := chromedp.Do(ctx, chromedp.Click(`button[data-version]`)); err != nil {
		t.Fatalf("roll back: %v", err)
	}
	if flash := waitText(t, ctx, `p.flash`, "Rules rolled back to "); !strings.HasPrefix(flash, "Rules rolled back to ") {
		t.Fatalf("after the rollback the page says %q", flash)
	}
	if now, _ := os.ReadFile(in.file); string(now) != string(original) {
		t.Errorf("the rule file after the rollback:\n%s", now)
	}
	if v := in.post(t, message("h10", "u10", "hello once more")); slices.Contains(rulesOf(v), "greet") {
		t.Error("the rolled-back rule still runs")
	}
}

// waitText waits up to testsync.Patience for the text of sel to start with
// prefix, across the page loads a click may bring, and returns the last text
// seen.
func waitText(t *testing.T, ctx context.Context, sel, prefix string) string {
	t.Helper()
	var last string
	for deadline := time.Now().Add(testsync.Patience); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		text, err := chromedp.Run(tctx, chromedp.Text(sel))
		cancel()
		if err == nil {
			last = text
			if strings.HasPrefix(text, prefix) {
				break
			}
		}
	}
	return last
}
