package meta_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers/console/browsertest"
)

// TestDaemonTellsOfFailingGraphActions: the Graph API answers 500 to every
// call in the night while Meta's deliveries keep coming. One hide that fails
// is a case and nothing more; once three in a row failed, /-/ready's reasons,
// /healthz, the console's Health page and vigie_source_up{part="actions"}
// say that Meta's actions fail, since when and why, and one error is logged,
// however many more fail. /-/ready stays 200 (every instance would fail
// alike). The first hide carried out clears it all, and says so once.
func TestDaemonTellsOfFailingGraphActions(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startDaemon(t, metaEnv(g))
	get := func(path string) (int, []byte) { t.Helper(); return daemonGet(t, base+path) }
	readiness := func() (int, []string) { t.Helper(); return daemonReadiness(t, base) }
	const gauge = `vigie_source_up{part="actions",platform="meta"} `
	actionsUp := func() string {
		t.Helper()
		_, b := get("/metrics")
		for line := range strings.Lines(string(b)) {
			if v, ok := strings.CutPrefix(line, gauge); ok {
				return strings.TrimSpace(v)
			}
		}
		return "absent"
	}
	deliver := func(cid string) { t.Helper(); deliverComment(t, base, cid) }
	hides := func(cid string) int { return hidesOf(g, cid) }
	// Each comment is a verdict of hide and warn: the warn is tried after
	// a failed hide the first time only (the author is warned once), so
	// the actions that failed are counted from the log, and the cases of
	// the verdicts from the store.
	failedActions := func() int { return strings.Count(logs.String(), `msg="action failed"`) }
	failedCases := func() int { return openCasesWith(t, base, "Meta's servers failed") }
	testsync.Eventually(t, "ready before Graph fails", func() bool { code, _ := readiness(); return code == http.StatusOK })
	if v := actionsUp(); v != "1" {
		t.Errorf("%s= %s before any action, want 1", gauge, v)
	}

	g.fail(true)
	// One comment's actions fail (its hide, and its warn): a case, not an
	// outage.
	deliver("987654321098765_1000000000000001")
	testsync.Eventually(t, "the case of the first comment", func() bool { return failedCases() == 1 })
	if n := failedActions(); n >= 3 {
		t.Fatalf("%d actions failed for one comment: the test expects fewer than 3", n)
	}
	if code, reasons := readiness(); code != http.StatusOK || len(reasons) != 0 {
		t.Errorf("/-/ready after one comment's failed actions = %d %q, want 200 and no reason", code, reasons)
	}
	if v := actionsUp(); v != "1" {
		t.Errorf("%s= %s after one comment's failed actions, want 1", gauge, v)
	}

	// Another comment's hide fails: three actions in a row, Meta's actions
	// are failing.
	deliver("987654321098765_1000000000000002")
	testsync.Eventually(t, "the case of the second comment", func() bool { return failedCases() == 2 })
	code, reasons := readiness()
	if code != http.StatusOK || len(reasons) != 1 || !strings.HasPrefix(reasons[0], "meta actions: failing since ") ||
		!strings.Contains(reasons[0], fmt.Sprintf(", %d in a row: ", failedActions())) ||
		!strings.Contains(reasons[0], "Service temporarily unavailable") {
		t.Fatalf("/-/ready = %d %q, want 200 with one reason naming meta's actions, since when, %d in a row and Graph's error",
			code, reasons, failedActions())
	}
	var h struct{ Degraded []string }
	if _, b := get("/healthz"); json.Unmarshal(b, &h) != nil || len(h.Degraded) != 1 || h.Degraded[0] != reasons[0] {
		t.Errorf("/healthz degraded = %q, want %q", h.Degraded, reasons[0])
	}
	if v := actionsUp(); v != "0" {
		t.Errorf("%s= %s while Graph fails, want 0", gauge, v)
	}
	if _, b := get("/metrics"); !strings.Contains(string(b), `vigie_source_up{part="events",platform="meta"} 1`) {
		t.Errorf("the webhooks' own vigie_source_up is not 1: they still arrive")
	}

	// Two more comments fail too: still one error logged.
	deliver("987654321098765_1000000000000003")
	deliver("987654321098765_1000000000000004")
	testsync.Eventually(t, "the cases of four comments", func() bool { return failedCases() == 4 })
	if _, reasons := readiness(); len(reasons) != 1 || !strings.Contains(reasons[0], fmt.Sprintf(", %d in a row: ", failedActions())) {
		t.Errorf("/-/ready's reasons after more failures = %q, want %d in a row", reasons, failedActions())
	}
	if n := strings.Count(logs.String(), "actions keep failing"); n != 1 {
		t.Errorf("the failing actions are logged %d times, want once", n)
	}

	healthPage(t, base, "actions-failing", "meta actions: failing since ")

	// Graph answers again: the next hide clears it all.
	g.fail(false)
	const later = "987654321098765_1000000000000005"
	deliver(later)
	testsync.Eventually(t, "the hide once Graph answers", func() bool { return hides(later) == 1 })
	testsync.Eventually(t, "no reason left", func() bool { code, reasons := readiness(); return code == http.StatusOK && len(reasons) == 0 })
	if v := actionsUp(); v != "1" {
		t.Errorf("%s= %s once a hide went through, want 1", gauge, v)
	}
	if n := strings.Count(logs.String(), "actions carried out again"); n != 1 {
		t.Errorf("the recovery is logged %d times, want once", n)
	}
}

// healthPage logs in to the console in Chromium as a CM, opens the Health
// page, checks that its list of what does not work has an item starting
// with want, and saves a screenshot as NAME.png in VIGIE_SCREENSHOTS (or the
// test's temporary directory).
func healthPage(t *testing.T, base, name, want string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPut, base+"/v1/accounts/ann", strings.NewReader(`{"role":"moderator","password":"correct horse"}`))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT /v1/accounts/ann = %d", resp.StatusCode)
	}
	ctx := browsertest.Tab(t, chromedp.WindowSize(1200, 700))
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ann"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#queue h1`),
		chromedp.Navigate(base+"/health"),
		chromedp.WaitVisible(`dl.health`),
	); err != nil {
		t.Fatalf("the health page: %v", err)
	}
	state, err := chromedp.Run(ctx, chromedp.Text(`p.state`))
	if err != nil {
		t.Fatal(err)
	}
	if state != "Degraded" {
		t.Errorf("the health page says %q, want Degraded", state)
	}
	items, err := chromedp.Run(ctx, chromedp.Text(`ul.degraded`))
	if err != nil {
		t.Fatalf("no list of what does not work: %v", err)
	}
	if !strings.HasPrefix(items, want) {
		t.Errorf("the health page lists %q, want an item starting %q", items, want)
	}
	dir := os.Getenv("VIGIE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDaemonTellsOfALongGraphRateLimit: Meta refuses every call with the
// page's request limit (code 32), its usage header saying that access comes
// back in 15 minutes, longer than vigie waits: each comment's actions become
// cases at once. /-/ready's reasons (on a 200: every instance shares the
// limit), /healthz, the console's Health page and vigie_source_up{part=
// "actions"} say until when, and how many actions were left as cases. A
// comment that comes during the limit is not sent to Meta.
func TestDaemonTellsOfALongGraphRateLimit(t *testing.T) {
	g := newFakeGraph(t)
	base, logs := startDaemon(t, metaEnv(g))
	readiness := func() (int, []string) { t.Helper(); return daemonReadiness(t, base) }
	testsync.Eventually(t, "ready before the limit", func() bool { code, _ := readiness(); return code == http.StatusOK })

	g.limit(15)
	left := func() int { return strings.Count(logs.String(), `msg="action failed"`) }
	deliver := func(cid string) { t.Helper(); deliverComment(t, base, cid) }
	deliver("987654321098765_1000000000000001")
	deliver("987654321098765_1000000000000002")
	// A verdict's case is opened once its actions were tried: the two
	// cases say that every action of the two comments was left.
	limitedCases := func() int { return openCasesWith(t, base, "platform asks to wait 15m") }
	testsync.Eventually(t, "the two comments' cases", func() bool { return limitedCases() == 2 })
	code, reasons := readiness()
	if code != http.StatusOK || len(reasons) != 1 || !strings.HasPrefix(reasons[0], "meta actions: rate limited until ") ||
		!strings.HasSuffix(reasons[0], fmt.Sprintf(" UTC, %d actions left as cases", left())) {
		t.Fatalf("/-/ready = %d %q, want 200 with one reason naming the limit and the %d actions left", code, reasons, left())
	}
	var h struct{ Degraded []string }
	if _, b := daemonGet(t, base+"/healthz"); json.Unmarshal(b, &h) != nil || len(h.Degraded) != 1 || h.Degraded[0] != reasons[0] {
		t.Errorf("/healthz degraded = %q, want %q", h.Degraded, reasons[0])
	}
	if _, b := daemonGet(t, base+"/metrics"); !strings.Contains(string(b), `vigie_source_up{part="actions",platform="meta"} 0`) {
		t.Errorf("the actions' vigie_source_up is not 0 while they are left as cases")
	}
	healthPage(t, base, "actions-rate-limited", "meta actions: rate limited until ")

	// Meta lifting the limit sooner than it said is not seen: a call
	// during the limit would keep it on. The comment waits, unsent, for
	// the limit's end (TestGraphRateLimitKnownNoCalls goes on to it).
	g.limit(0)
	const later = "987654321098765_1000000000000005"
	held := func() int { return openCasesWith(t, base, "not sent to Meta, which limits vigie's calls until") }
	before := held()
	deliver(later)
	testsync.Eventually(t, "the later comment's case, its hide not sent", func() bool { return held() == before+1 })
	if n := hidesOf(g, later); n != 0 {
		t.Errorf("%d hides of a comment sent during the limit Meta said, want none", n)
	}
}

// openCasesWith counts the open cases of the daemon at base whose reason
// holds part.
func openCasesWith(t *testing.T, base, part string) int {
	t.Helper()
	_, b := daemonGet(t, base+"/v1/cases?status=open")
	var list struct{ Cases []struct{ Reason string } }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatalf("/v1/cases: %v: %s", err, b)
	}
	n := 0
	for _, c := range list.Cases {
		if strings.Contains(c.Reason, part) {
			n++
		}
	}
	return n
}
