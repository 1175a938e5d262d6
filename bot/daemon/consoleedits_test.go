package daemon_test

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/rules"
)

var baseField = regexp.MustCompile(`name="base" value="([0-9a-f]*)"`)

// admin logs name in as an admin of in's console.
func admin(t *testing.T, in *instance, name string) *browser {
	t.Helper()
	if r := in.do(t, "PUT", "/v1/accounts/"+name, []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/%s = %d %s", name, r.code, r.body)
	}
	b := newBrowser(t, in.base)
	if code, _, _ := b.do("POST", "/login", url.Values{"name": {name}, "password": {"correct horse"}}, nil); code != http.StatusSeeOther {
		t.Fatalf("%s's login: %d", name, code)
	}
	return b
}

// rulesForm is the rules page as b loads it: its CSRF token and the base
// (the text's hash) its drafts are made from.
func rulesForm(t *testing.T, b *browser) (token, base string) {
	t.Helper()
	_, page, _ := b.do("GET", "/rules", nil, nil)
	m, n := csrfField.FindStringSubmatch(page), baseField.FindStringSubmatch(page)
	if m == nil || n == nil {
		t.Fatalf("the rules page has no form with a base:\n%s", page)
	}
	return m[1], n[1]
}

// withRule is casesRules with one more rule, named name.
func withRule(name string) string {
	return casesRules + "  - name: " + name + "\n    when: 'lower(text) contains \"" + name + "\"'\n    do: [forward(\"" + name + "\")]\n"
}

// TestConsoleApplyOverAChangedFile: a draft is applied only over the text
// it was made from. Two admins load the rules page; ada applies; bob's
// draft, made from the text before ada's change, is refused, saying who
// changed it, with bob's draft kept in the editor and ada's file shown
// below it; the file stays ada's. The same when the operator edits the
// file by hand (no reload). A rollback from a page of an older text is
// refused too. Versions kept in the same second by the same account are
// all kept, none written over; the folder's own files are no version to
// roll back to.
func TestConsoleApplyOverAChangedFile(t *testing.T) {
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret},
		func(c *daemon.Config) { c.Now = func() time.Time { return at } })
	ada, bob := admin(t, in, "ada"), admin(t, in, "bob")
	adaToken, adaBase := rulesForm(t, ada)
	bobToken, bobBase := rulesForm(t, bob)

	apply := func(b *browser, token, base, draft string) (int, string, string) {
		t.Helper()
		code, body, h := b.do("POST", "/rules/apply", url.Values{"draft": {draft}, "csrf": {token}, "base": {base}}, nil)
		loc, _ := url.QueryUnescape(h.Get("Location"))
		return code, html.UnescapeString(body), loc
	}
	fileIs := func(want, why string) {
		t.Helper()
		if now, _ := os.ReadFile(in.file); string(now) != want {
			t.Errorf("%s: the rule file is\n%s\nwant\n%s", why, now, want)
		}
	}

	if code, _, loc := apply(ada, adaToken, adaBase, withRule("ada")); code != http.StatusSeeOther || !strings.Contains(loc, "Rules applied and running") {
		t.Fatalf("ada's apply: %d → %q", code, loc)
	}
	code, body, _ := apply(bob, bobToken, bobBase, withRule("bob"))
	if code != http.StatusUnprocessableEntity ||
		!strings.Contains(body, "Not applied: the rule file changed since this draft was made (ada applied a change from the console at 09:30:00 UTC, 6 Dec).") {
		t.Errorf("bob's apply over ada's change: %d\n%s", code, body)
	}
	if !strings.Contains(body, `aria-label="the rule file">`+withRule("bob")+`</textarea>`) {
		t.Errorf("bob's draft is not kept in the editor:\n%s", body)
	}
	if !strings.Contains(body, `aria-label="the rule file as it is now">`+withRule("ada")+`</textarea>`) {
		t.Errorf("ada's file is not shown below bob's draft:\n%s", body)
	}
	fileIs(withRule("ada"), "after bob's refused apply")
	// Having seen ada's file, bob may apply his draft over it: the page
	// refused made it his base.
	if m := baseField.FindStringSubmatch(body); m == nil || m[1] == bobBase {
		t.Errorf("the refused page's base is %v, want the text of ada's file", m)
	} else if code, _, loc := apply(bob, bobToken, m[1], withRule("bob")); code != http.StatusSeeOther || !strings.Contains(loc, "Rules applied and running") {
		t.Errorf("bob's apply after seeing ada's file: %d → %q", code, loc)
	}
	fileIs(withRule("bob"), "after bob's second apply")

	// The operator edits the file by hand, and has not reloaded yet.
	_, adaBase = rulesForm(t, ada)
	if err := os.WriteFile(in.file, []byte(withRule("op")), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body, _ = apply(ada, adaToken, adaBase, withRule("ada2"))
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "(it was changed outside the console (by hand, or by another program) at ") {
		t.Errorf("ada's apply over the operator's edit: %d\n%s", code, body)
	}
	fileIs(withRule("op"), "after ada's apply over the operator's edit")

	// A rollback from a page made before the operator's edit.
	versions := in.file + ".versions"
	code, _, h := ada.do("POST", "/rules/rollback", url.Values{"version": {"20261206T093000Z_ada.yaml"}, "csrf": {adaToken}, "base": {adaBase}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); code != http.StatusSeeOther ||
		!strings.Contains(loc, "Not rolled back: the rule file changed since this page was loaded (it was changed outside the console") {
		t.Errorf("a rollback from a page of an older text: %d → %q", code, loc)
	}
	fileIs(withRule("op"), "after a rollback from an older page")
	// Nor is the folder's own record, or its lock, a version.
	for _, name := range []string{".written", ".lock", "../rules.yaml"} {
		_, opBase := rulesForm(t, ada)
		_, _, h := ada.do("POST", "/rules/rollback", url.Values{"version": {name}, "csrf": {adaToken}, "base": {opBase}}, nil)
		if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "No such version.") {
			t.Errorf("a rollback to %s: → %q", name, loc)
		}
	}

	// Two more applies by ada in the same second: three versions of hers,
	// each the text it replaced.
	for _, d := range []string{withRule("ada3"), withRule("ada4")} {
		_, base := rulesForm(t, ada)
		if code, _, loc := apply(ada, adaToken, base, d); code != http.StatusSeeOther {
			t.Fatalf("ada's apply: %d → %q", code, loc)
		}
	}
	want := map[string]string{
		"20261206T093000Z_ada.yaml":   casesRules,
		"20261206T093000Z_bob.yaml":   withRule("ada"),
		"20261206T093000Z-2_ada.yaml": withRule("op"),
		"20261206T093000Z-3_ada.yaml": withRule("ada3"),
	}
	for name, text := range want {
		if b, err := os.ReadFile(filepath.Join(versions, name)); err != nil || string(b) != text {
			t.Errorf("version %s: %v\n%s\nwant\n%s", name, err, b, text)
		}
	}
	// The page lists them newest first, and rolls back to the one named.
	_, page, _ := ada.do("GET", "/rules", nil, nil)
	listed := regexp.MustCompile(`data-version="([^"]+)"`).FindAllStringSubmatch(page, -1)
	var names []string
	for _, m := range listed {
		names = append(names, m[1])
	}
	if wantOrder := []string{"20261206T093000Z-3_ada.yaml", "20261206T093000Z-2_ada.yaml", "20261206T093000Z_bob.yaml", "20261206T093000Z_ada.yaml"}; !slices.Equal(names, wantOrder) {
		t.Errorf("the page lists the versions %q, want %q", names, wantOrder)
	}
	_, base := rulesForm(t, ada)
	_, _, h = ada.do("POST", "/rules/rollback", url.Values{"version": {"20261206T093000Z-2_ada.yaml"}, "csrf": {adaToken}, "base": {base}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "Rules rolled back to 20261206T093000Z-2_ada.yaml and running") {
		t.Errorf("the rollback: → %q", loc)
	}
	fileIs(withRule("op"), "after the rollback")
}

// TestConsoleAppliesOneAtATime: admins applying drafts made from the same
// text at once: one is applied, the others are refused and say by whom;
// one version is kept.
func TestConsoleAppliesOneAtATime(t *testing.T) {
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	names := []string{"ada", "bob", "cyd", "dan"}
	type form struct {
		b           *browser
		token, base string
	}
	forms := make([]form, len(names))
	for i, n := range names {
		b := admin(t, in, n)
		token, base := rulesForm(t, b)
		forms[i] = form{b, token, base}
	}
	codes := make([]int, len(names))
	bodies := make([]string, len(names))
	var wg sync.WaitGroup
	for i, f := range forms {
		wg.Go(func() {
			codes[i], bodies[i], _ = f.b.do("POST", "/rules/apply", url.Values{"draft": {withRule(names[i])}, "csrf": {f.token}, "base": {f.base}}, nil)
		})
	}
	wg.Wait()
	won := slices.Index(codes, http.StatusSeeOther)
	if won < 0 || slices.Index(codes[won+1:], http.StatusSeeOther) >= 0 {
		t.Fatalf("the applies answered %v, want one 303", codes)
	}
	for i, code := range codes {
		if i != won && (code != http.StatusUnprocessableEntity || !strings.Contains(bodies[i], "("+names[won]+" applied a change from the console at ")) {
			t.Errorf("%s's apply: %d, want refused, naming %s:\n%s", names[i], code, names[won], bodies[i])
		}
	}
	if now, _ := os.ReadFile(in.file); string(now) != withRule(names[won]) {
		t.Errorf("the rule file is\n%s\nwant %s's", now, names[won])
	}
	if entries, _ := filepath.Glob(filepath.Join(in.file+".versions", "*.yaml")); len(entries) != 1 {
		t.Errorf("versions kept: %q, want one", entries)
	}
}

// TestConsoleRefusedReloadKeepsAnotherWrite: when the reload after an
// apply refuses, the old text goes back only over the draft: a file the
// operator wrote meanwhile is left as it is, and the page says so.
func TestConsoleRefusedReloadKeepsAnotherWrite(t *testing.T) {
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	ada := admin(t, in, "ada")
	token, base := rulesForm(t, ada)
	daemon.SetLoadRules(t, func(path string) (*rules.Ruleset, string, error) {
		// The operator saves the file as the console's reload reads it.
		if err := os.WriteFile(path, []byte(withRule("op")), 0o600); err != nil {
			t.Error(err)
		}
		return nil, "", errors.New("the disk is full")
	})
	code, body, _ := ada.do("POST", "/rules/apply", url.Values{"draft": {withRule("ada")}, "csrf": {token}, "base": {base}}, nil)
	body = html.UnescapeString(body)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Refused, the old rules keep running: the disk is full "+
		"(the rule file was changed meanwhile: it was changed outside the console (by hand, or by another program) at ") {
		t.Errorf("the apply whose reload refused: %d\n%s", code, body)
	}
	if now, _ := os.ReadFile(in.file); string(now) != withRule("op") {
		t.Errorf("the rule file after the refused reload is\n%s\nwant the operator's", now)
	}
}

// TestConsoleRulesAreAdmins: a moderator or a viewer reads the rules page
// but may not check, test, backtest, apply or roll back, even with their
// own session's token; a logged-out session's cookie, a post without the
// token and a post from another site change nothing either.
func TestConsoleRulesAreAdmins(t *testing.T) {
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	ada := admin(t, in, "ada")
	adaToken, base := rulesForm(t, ada)
	for _, role := range []string{"moderator", "viewer"} {
		if r := in.do(t, "PUT", "/v1/accounts/"+role, []byte(`{"role":"`+role+`","password":"correct horse"}`), nil); r.code != http.StatusCreated {
			t.Fatalf("PUT /v1/accounts/%s = %d %s", role, r.code, r.body)
		}
		b := newBrowser(t, in.base)
		b.do("POST", "/login", url.Values{"name": {role}, "password": {"correct horse"}}, nil)
		_, page, _ := b.do("GET", "/rules", nil, nil)
		if !strings.Contains(page, "readonly") || strings.Contains(page, `id="apply"`) || strings.Contains(page, "data-version") {
			t.Errorf("the %s's rules page offers to change them:\n%s", role, page)
		}
		token := csrfField.FindStringSubmatch(page)[1]
		for _, path := range []string{"/rules/check", "/rules/test", "/rules/backtest", "/rules/apply", "/rules/rollback"} {
			form := url.Values{"draft": {withRule(role)}, "csrf": {token}, "base": {base}, "version": {"x"}}
			if code, body, _ := b.do("POST", path, form, nil); code != http.StatusForbidden || !strings.Contains(body, "this needs a admin") {
				t.Errorf("the %s's POST %s: %d %s", role, path, code, body)
			}
		}
	}
	apply := url.Values{"draft": {withRule("eve")}, "csrf": {adaToken}, "base": {base}}
	if code, _, _ := ada.do("POST", "/rules/apply", url.Values{"draft": {withRule("eve")}, "base": {base}}, nil); code != http.StatusForbidden {
		t.Errorf("an apply without the token: %d, want 403", code)
	}
	if code, _, _ := ada.do("POST", "/rules/apply", apply, map[string]string{"Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Errorf("an apply from another site: %d, want 403", code)
	}
	// ada logs out; a copy of her cookie taken before is refused.
	u, _ := url.Parse(in.base)
	stolen := newBrowser(t, in.base)
	stolen.c.Jar.SetCookies(u, ada.c.Jar.Cookies(u))
	if code, _, _ := ada.do("POST", "/logout", url.Values{"csrf": {adaToken}}, nil); code != http.StatusSeeOther {
		t.Fatalf("logout: %d", code)
	}
	if code, _, _ := stolen.do("POST", "/rules/apply", apply, nil); code != http.StatusUnauthorized {
		t.Errorf("an apply with a logged-out session's cookie: %d, want 401", code)
	}
	if now, _ := os.ReadFile(in.file); string(now) != casesRules {
		t.Errorf("the rule file changed:\n%s", now)
	}
}

// TestBacktestAgainstTheRulesThatRun: the backtest's "now" is the rules
// that run, not the file as it is now: a file edited by hand and not
// reloaded yet is no "now", and a draft of the running text changes
// nothing.
func TestBacktestAgainstTheRulesThatRun(t *testing.T) {
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	ada := admin(t, in, "ada")
	token, _ := rulesForm(t, ada)
	in.post(t, message("h1", "u1", "free nitro"))
	in.post(t, message("h2", "u2", "you idiot"))
	// The operator takes the rule rude out of the file, and has not
	// reloaded.
	edited := strings.Replace(casesRules, "  - name: rude\n    category: abuse\n    when: 'lower(text) contains \"idiot\"'\n    do: [forward(\"rude\")]\n", "", 1)
	if edited == casesRules {
		t.Fatal("rude is not in casesRules as the test thinks")
	}
	if err := os.WriteFile(in.file, []byte(edited), 0o600); err != nil {
		t.Fatal(err)
	}
	code, body, _ := ada.do("POST", "/rules/backtest", url.Values{"draft": {casesRules}, "csrf": {token}}, nil)
	if code != http.StatusOK || !strings.Contains(body, `"events":2,`) || !strings.Contains(body, `"changed":[]`) {
		t.Errorf("the backtest of the running rules' text: %d %s, want 2 events and no change", code, body)
	}
}
