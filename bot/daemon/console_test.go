package daemon_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// browser is a cookie-keeping HTTP client, as a CM's browser is to the console.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) (int, string, http.Header) {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp.Header
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// TestConsole: accounts are made over the admin API, a CM logs in, sees the
// queue, decides a case with the form, and the platform gets the action; a
// viewer sees no buttons and may not decide; forms without the session's
// token, or from another site, are refused; a wrong password is refused and
// limited; a new password ends the sessions made before it.
func TestConsole(t *testing.T) {
	in := start(t, membersCasesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	put := func(name, body string, want int) {
		t.Helper()
		if r := in.do(t, "PUT", "/v1/accounts/"+name, []byte(body), nil); r.code != want {
			t.Fatalf("PUT /v1/accounts/%s = %d %s, want %d", name, r.code, r.body, want)
		}
	}
	if _, body, _ := newBrowser(t, in.base).do("GET", "/login", nil, nil); !strings.Contains(body, `id="no-account"`) {
		t.Error("the login page of a vigie with no account does not say how to make one")
	}
	put("ann", `{"role":"moderator","password":"correct horse"}`, http.StatusCreated)
	if _, body, _ := newBrowser(t, in.base).do("GET", "/login", nil, nil); strings.Contains(body, `id="no-account"`) {
		t.Error("the login page says there is no account")
	}
	put("vic", `{"role":"viewer","password":"battery staple"}`, http.StatusCreated)
	put("Bad Name", `{"role":"viewer","password":"battery staple"}`, http.StatusBadRequest)
	put("bob", `{"role":"boss","password":"battery staple"}`, http.StatusBadRequest)
	put("bob", `{"role":"viewer","password":"short"}`, http.StatusBadRequest)
	if r := in.do(t, "GET", "/v1/accounts", nil, nil); r.code != 200 || bytes.Contains(r.body, []byte("argon2")) ||
		!bytes.Contains(r.body, []byte(`"name":"ann","role":"moderator"`)) {
		t.Errorf("GET /v1/accounts = %d %s", r.code, r.body)
	}

	ann := newBrowser(t, in.base)
	if code, _, h := ann.do("GET", "/queue", nil, nil); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
		t.Fatalf("the queue without a session: %d → %q, want the login page", code, h.Get("Location"))
	}
	if code, body, _ := ann.do("POST", "/login", url.Values{"name": {"ann"}, "password": {"wrong"}}, nil); code != http.StatusUnauthorized || !strings.Contains(body, "Wrong name or password.") {
		t.Errorf("a wrong password: %d", code)
	}
	code, _, h := ann.do("POST", "/login", url.Values{"name": {"ann"}, "password": {"correct horse"}, "next": {"/queue"}}, nil)
	if code != http.StatusSeeOther || h.Get("Location") != "/queue" || !strings.Contains(h.Get("Set-Cookie"), "HttpOnly") ||
		!strings.Contains(h.Get("Set-Cookie"), "SameSite=Strict") {
		t.Fatalf("login: %d → %q, cookie %q", code, h.Get("Location"), h.Get("Set-Cookie"))
	}

	m := message("m1", "u1", "free nitro")
	in.post(t, m)
	var page string
	testsync.Eventually(t, "the case in the queue", func() bool {
		_, page, _ = ann.do("GET", "/queue", nil, nil)
		return strings.Contains(page, `data-case="`)
	})
	id := regexp.MustCompile(`data-case="([^"]+)"`).FindStringSubmatch(page)[1]
	for _, want := range []string{"free nitro", `data-outcome="keep"`, `data-outcome="delete"`, `data-outcome="timeout"`, "1 open case"} {
		if !strings.Contains(page, want) {
			t.Errorf("queue page has no %q", want)
		}
	}
	if strings.Contains(page, `data-outcome="hide"`) {
		t.Error("the queue offers hide on a platform that cannot hide")
	}
	token := csrfField.FindStringSubmatch(page)[1]

	// Refused: no token, another site's form.
	if code, _, _ := ann.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"delete"}}, nil); code != http.StatusForbidden {
		t.Errorf("a decision without the CSRF token: %d, want 403", code)
	}
	if code, _, _ := ann.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"delete"}, "csrf": {token}},
		map[string]string{"Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Errorf("a decision posted from another site: %d, want 403", code)
	}
	// A viewer sees the case but no button, and may not decide.
	vic := newBrowser(t, in.base)
	vic.do("POST", "/login", url.Values{"name": {"vic"}, "password": {"battery staple"}}, nil)
	if _, body, _ := vic.do("GET", "/queue", nil, nil); !strings.Contains(body, "free nitro") || strings.Contains(body, "data-outcome") {
		t.Errorf("the viewer's queue: %s", body)
	}
	if code, _, _ := vic.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"delete"}, "csrf": {token}}, nil); code != http.StatusForbidden {
		t.Errorf("a viewer's decision: %d, want 403", code)
	}

	code, _, h = ann.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"delete"}, "csrf": {token}}, nil)
	if code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "done") {
		t.Fatalf("decide: %d → %q", code, h.Get("Location"))
	}
	testsync.Eventually(t, "the delete on the platform", func() bool {
		calls := in.chat.Calls()
		return len(calls) == 1 && calls[0] == "delete m1"
	})
	r := in.do(t, "GET", "/v1/cases/"+id, nil, nil)
	if !bytes.Contains(r.body, []byte(`"decided_by":"console:ann"`)) {
		t.Errorf("the case after the console's decision: %s", r.body)
	}
	_, _, h = ann.do("POST", "/queue/"+id+"/decide", url.Values{"outcome": {"keep"}, "csrf": {token}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "already decided by console:ann: delete") {
		t.Errorf("deciding again: → %q", loc)
	}

	// The reports and the health page, and the CSV to download.
	if code, body, _ := ann.do("GET", "/reports?since=7d", nil, nil); code != http.StatusOK || !strings.Contains(body, `<tr data-rule="scam">`) {
		t.Errorf("GET /reports = %d\n%s", code, body)
	}
	if code, body, h := ann.do("GET", "/reports/report.csv?since=7d", nil, nil); code != http.StatusOK ||
		!strings.Contains(h.Get("Content-Disposition"), "attachment") || !strings.HasPrefix(body, "hour,") {
		t.Errorf("GET /reports/report.csv = %d %q\n%s", code, h.Get("Content-Disposition"), body)
	}
	if code, _, h := ann.do("GET", "/reports/chart.png", nil, nil); code != http.StatusOK || h.Get("Content-Type") != "image/png" {
		t.Errorf("GET /reports/chart.png = %d %s", code, h.Get("Content-Type"))
	}
	if code, body, _ := ann.do("GET", "/health", nil, nil); code != http.StatusOK || !strings.Contains(body, "0 open cases") {
		t.Errorf("GET /health = %d\n%s", code, body)
	}
	if code, _, _ := ann.do("GET", "/reports?since=soon", nil, nil); code != http.StatusBadRequest {
		t.Errorf("a bad period: %d, want 400", code)
	}

	// A new password ends ann's session.
	put("ann", `{"role":"moderator","password":"another horse"}`, http.StatusOK)
	if code, _, _ := ann.do("GET", "/queue", nil, nil); code != http.StatusSeeOther {
		t.Errorf("the queue after a password change: %d, want a redirect to log in", code)
	}
	// Five failures and even the right password waits.
	eve := newBrowser(t, in.base)
	for range 5 {
		eve.do("POST", "/login", url.Values{"name": {"vic"}, "password": {"guess"}}, nil)
	}
	if code, _, _ := eve.do("POST", "/login", url.Values{"name": {"vic"}, "password": {"battery staple"}}, nil); code != http.StatusTooManyRequests {
		t.Errorf("after 5 failures: %d, want 429", code)
	}
	if r := in.do(t, "DELETE", "/v1/accounts/vic", nil, nil); r.code != http.StatusNoContent {
		t.Errorf("DELETE: %d", r.code)
	}
	if code, _, _ := vic.do("GET", "/queue", nil, nil); code != http.StatusSeeOther {
		t.Errorf("a deleted account's session: %d, want a redirect to log in", code)
	}
}

// TestConsolePeople finds an author by name, shows what vigie flagged of
// theirs, their cases and strikes, and lifts their strikes and timeout.
func TestConsolePeople(t *testing.T) {
	// The events posted stand for the feed connector's members.
	const rules = `timezone: UTC
http_events: {act_on: [discord]}
rules:
  - name: rude
    when: 'lower(text) contains "idiot"'
    do: [delete, strike, timeout(10m), forward("rude")]
`
	in := start(t, rules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	for name, role := range map[string]string{"ann": "moderator", "vic": "viewer"} {
		body := `{"role":"` + role + `","password":"correct horse"}`
		if r := in.do(t, "PUT", "/v1/accounts/"+name, []byte(body), nil); r.code != http.StatusCreated {
			t.Fatalf("PUT %s: %d %s", name, r.code, r.body)
		}
	}
	for i, text := range []string{"you idiot", "idiot again", "hello"} {
		m := message(fmt.Sprintf("p%d", i), "u7", text)
		if i == 2 {
			m = message("p2", "u8", text)
		}
		m["author"].(map[string]any)["name"] = map[bool]string{true: "Le Troll", false: "Nice"}[i < 2]
		in.post(t, m)
	}
	ann := newBrowser(t, in.base)
	ann.do("POST", "/login", url.Values{"name": {"ann"}, "password": {"correct horse"}}, nil)
	_, body, _ := ann.do("GET", "/people?q=troll", nil, nil)
	if !strings.Contains(body, `data-person="discord:u7"`) || strings.Contains(body, `data-person="discord:u8"`) {
		t.Fatalf("searching troll:\n%s", body)
	}
	page := "/people/discord/guild-1/u7"
	// The second hit joins the first one's case (one author, one place, one rule).
	testsync.Eventually(t, "two strikes and their case", func() bool {
		_, body, _ = ann.do("GET", page, nil, nil)
		return strings.Contains(body, "<b>2</b> strikes in force") && strings.Contains(body, "<b>1</b> case<")
	})
	for _, want := range []string{"you idiot", "idiot again", "<b>2</b> flagged"} {
		if !strings.Contains(body, want) {
			t.Errorf("the person page has no %q", want)
		}
	}
	token := csrfField.FindStringSubmatch(body)[1]

	vic := newBrowser(t, in.base)
	vic.do("POST", "/login", url.Values{"name": {"vic"}, "password": {"correct horse"}}, nil)
	if _, vbody, _ := vic.do("GET", page, nil, nil); strings.Contains(vbody, "lift-strikes") {
		t.Error("a viewer is offered to lift strikes")
	}
	if code, _, _ := vic.do("POST", page+"/strikes/lift", url.Values{"csrf": {token}}, nil); code != http.StatusForbidden {
		t.Errorf("a viewer lifting strikes: %d, want 403", code)
	}

	_, _, h := ann.do("POST", page+"/strikes/lift", url.Values{"csrf": {token}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "2 strikes lifted.") {
		t.Errorf("lifting strikes → %q", loc)
	}
	if _, body, _ := ann.do("GET", page, nil, nil); !strings.Contains(body, "<b>0</b> strikes in force") {
		t.Error("the strikes are still shown after lifting them")
	}
	_, _, h = ann.do("POST", page+"/timeout/lift", url.Values{"csrf": {token}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "Timeout lifted.") {
		t.Errorf("lifting the timeout → %q", loc)
	}
	testsync.Eventually(t, "the untimeout on the platform", func() bool { return slices.Contains(in.chat.Calls(), "untimeout u7") })
}
