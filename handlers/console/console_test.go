package console_test

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// The console answers beyond loopback only over TLS, through a trusted proxy
// that says HTTPS, or when told it may go without; a proxy on this machine
// connects from loopback, but is no browser there; nor is a page of another
// site whose name was pointed at 127.0.0.1 (DNS rebinding), which sends its
// own name as the Host.
// noNote is a decision of the store's, which the cards add nothing to.
func noNote(c store.Case, err error) (store.Case, string, error) { return c, "", err }

func TestServedOnlyOverSafeConnections(t *testing.T) {
	st := memory.New(memory.WithCaseEpoch("tests"))
	proxy := netip.MustParsePrefix("10.0.0.0/8")
	for _, tc := range []struct {
		name     string
		remote   string
		proto    string
		fwdFor   string
		tls      bool
		insecure bool
		want     int
		host     string // 127.0.0.1:8080 when ""
	}{
		{"loopback", "127.0.0.1:5000", "", "", false, false, http.StatusOK, ""},
		{"loopback v6", "[::1]:5000", "", "", false, false, http.StatusOK, ""},
		{"a stranger over plain HTTP", "203.0.113.5:5000", "", "", false, false, http.StatusForbidden, ""},
		{"a stranger who says https", "203.0.113.5:5000", "https", "", false, false, http.StatusForbidden, ""},
		{"a stranger over TLS", "203.0.113.5:5000", "", "", true, false, http.StatusOK, ""},
		{"the trusted proxy, https", "10.1.2.3:5000", "https", "", false, false, http.StatusOK, ""},
		{"the trusted proxy, http", "10.1.2.3:5000", "http", "", false, false, http.StatusForbidden, ""},
		{"anyone with --insecure", "203.0.113.5:5000", "", "", false, true, http.StatusOK, ""},
		{"a proxy on this machine not in TrustedProxies", "127.0.0.1:5000", "", "203.0.113.5", false, false, http.StatusForbidden, ""},
		{"a proxy on this machine not in TrustedProxies, https", "127.0.0.1:5000", "https", "203.0.113.5", false, false, http.StatusForbidden, ""},
		{"a proxy on this machine with --insecure", "127.0.0.1:5000", "", "203.0.113.5", false, true, http.StatusOK, ""},
		{"loopback, at localhost", "127.0.0.1:5000", "", "", false, false, http.StatusOK, "localhost:8080"},
		{"loopback v6, at [::1]", "[::1]:5000", "", "", false, false, http.StatusOK, "[::1]:8080"},
		{"loopback, at another site's name (DNS rebinding)", "127.0.0.1:5000", "", "", false, false, http.StatusForbidden, "evil.example:8080"},
		{"loopback v6, at another site's name", "[::1]:5000", "", "", false, false, http.StatusForbidden, "evil.example"},
		{"another site's name over TLS", "203.0.113.5:5000", "", "", true, false, http.StatusOK, "vigie.example.org"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := console.New(console.Options{Store: st, Accounts: st, Insecure: tc.insecure, TrustedProxies: []netip.Prefix{proxy}})
			req := httptest.NewRequest("GET", "/login", nil)
			req.RemoteAddr = tc.remote
			req.Host = cmp.Or(tc.host, "127.0.0.1:8080")
			if tc.proto != "" {
				req.Header.Set("X-Forwarded-Proto", tc.proto)
			}
			if tc.fwdFor != "" {
				req.Header.Set("X-Forwarded-For", tc.fwdFor)
			}
			if tc.tls {
				req.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			c.Routes()["GET /login"].ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("GET /login from %s = %d, want %d", tc.remote, w.Code, tc.want)
			}
			if w.Code == http.StatusOK && w.Header().Get("X-Frame-Options") != "DENY" {
				t.Error("the page may be framed")
			}
		})
	}
}

func TestPasswords(t *testing.T) {
	h := console.HashPassword("correct horse")
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, "correct horse") {
		t.Fatalf("hash %q", h)
	}
	if !console.CheckPassword(h, "correct horse") {
		t.Error("the right password is refused")
	}
	for _, wrong := range []string{"", "correct horsE", "correct horse "} {
		if console.CheckPassword(h, wrong) {
			t.Errorf("%q passes", wrong)
		}
	}
	if h2 := console.HashPassword("correct horse"); h2 == h {
		t.Error("two hashes of one password are the same: no salt")
	}
	for _, bad := range []string{"", "$argon2id$v=19$m=99999999,t=2,p=1$c2FsdA$a2V5", "plain"} {
		if console.CheckPassword(bad, "") {
			t.Errorf("hash %q passes", bad)
		}
	}
}

// The queue puts high priority first, then normal, then low, the oldest
// first within each, and pages them.
func TestQueueOrder(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	for i, p := range []string{"", "low", "high", "", "high"} {
		ev := bot.Event{ID: fmt.Sprintf("m%d", i), Platform: "discord", Author: bot.Author{ID: fmt.Sprintf("u%d", i)}, Text: "x", At: at}
		if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Priority: p, Opened: at.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	addViewer(t, st)
	con := console.New(console.Options{Store: st, Accounts: st, PageSize: 3})
	routes := con.Routes()
	session := login(t, routes, "vic", "battery staple")
	page := func(n int) []string {
		rec := get(routes, "GET /queue", fmt.Sprintf("/queue?page=%d", n), session)
		var ids []string
		for _, m := range regexp.MustCompile(`data-case="([^"]+)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
			ids = append(ids, m[1])
		}
		return ids
	}
	// Opened in this order: c1 normal, c2 low, c3 high, c4 normal, c5 high.
	if got, want := append(page(1), page(2)...), []string{"c-tests-000003", "c-tests-000005", "c-tests-000001", "c-tests-000004", "c-tests-000002"}; !slices.Equal(got, want) {
		t.Errorf("queue order %v, want %v", got, want)
	}
}

// login logs in from loopback and returns the session cookie.
// addViewer gives st the viewer account "vic", password "battery staple".
func addViewer(tb testing.TB, st store.Accounts) {
	tb.Helper()
	if err := st.PutAccount(context.Background(), store.Account{Name: "vic", Role: console.RoleViewer, Hash: console.HashPassword("battery staple")}); err != nil {
		tb.Fatal(err)
	}
}

func login(tb testing.TB, routes map[string]http.Handler, name, password string) *http.Cookie {
	tb.Helper()
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"name": {name}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = "127.0.0.1:4000"
	req.Host = "127.0.0.1:8080"
	w := httptest.NewRecorder()
	routes["POST /login"].ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.Name == "vigie_session" {
			return ck
		}
	}
	tb.Fatalf("login as %s: %d, no session cookie", name, w.Code)
	return nil
}

// annBehindTrustedProxy returns the console's routes over a store with the
// moderator "ann" (password "correct horse"), trusting the proxies of
// 10.0.0.0/8.
func annBehindTrustedProxy(t *testing.T) map[string]http.Handler {
	t.Helper()
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	routes := console.New(console.Options{Store: st, Accounts: st,
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}).Routes()
	return routes
}

// get asks the route of pattern for path from loopback, in a session.
func get(routes map[string]http.Handler, pattern, path string, session *http.Cookie) *httptest.ResponseRecorder {
	req := httptest.NewRequest("GET", path, nil)
	req.RemoteAddr = "127.0.0.1:4000"
	req.Host = "127.0.0.1:8080"
	req.AddCookie(session)
	w := httptest.NewRecorder()
	routes[pattern].ServeHTTP(w, req)
	return w
}

// A page shows the message of the redirect that led to it only when the
// console made it for this session: a link from elsewhere cannot put its own
// words on the console ("your session expired: log in at …").
func TestFlashOnlyFromTheConsole(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	ev := bot.Event{ID: "m1", Platform: "discord", Author: bot.Author{ID: "u1"}, Text: "x", At: at}
	cs, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Opened: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccount(ctx, store.Account{Name: "mo", Role: console.RoleModerator, Hash: console.HashPassword("battery staple")}); err != nil {
		t.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Decide: func(ctx context.Context, id, outcome, by string) (store.Case, string, error) {
			return noNote(st.DecideCase(ctx, id, outcome, by, "", at))
		},
		Outcomes: func(bot.Event) []bot.ActionKind { return []bot.ActionKind{bot.ActDelete} }})
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	session := login(t, con.Routes(), "mo", "battery staple")
	do := func(method, path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "127.0.0.1:4000"
		req.Host = "127.0.0.1:8080"
		req.Host = "127.0.0.1:8080"
		req.AddCookie(session)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}

	const phish = "Your session expired: log in again at https://vigie-login.example"
	if body := do("GET", "/queue?"+url.Values{"flash": {phish}, "failed": {"1"}}.Encode(), nil).Body.String(); strings.Contains(body, "vigie-login.example") {
		t.Errorf("the queue shows a message from a link:\n%s", body)
	}
	page := do("GET", "/queue", nil).Body.String()
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form on the queue:\n%s", page)
	}
	decided := do("POST", "/queue/"+cs.ID+"/decide", url.Values{"csrf": {m[1]}, "outcome": {"delete"}})
	loc := decided.Header().Get("Location")
	if decided.Code != http.StatusSeeOther || loc == "" {
		t.Fatalf("decide: %d %q", decided.Code, loc)
	}
	if body := do("GET", loc, nil).Body.String(); !strings.Contains(body, cs.ID+": delete, done.") {
		t.Errorf("the queue after a decision does not say it:\n%s", body)
	}
}

// A form posted to the console is read up to its size: a login is a name and
// a password, not the 10 MB Go reads by default for any stranger; a rule
// file's draft up to 1 MiB. Past that, 413, and a login is not counted as a
// failure of the name.
func TestFormsAreBounded(t *testing.T) {
	st := memory.New(memory.WithCaseEpoch("tests"))
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleAdmin, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	routes := console.New(console.Options{Store: st, Accounts: st}).Routes()
	post := func(pattern, path string, body string) int {
		req := httptest.NewRequest("POST", path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "127.0.0.1:4000"
		req.Host = "127.0.0.1:8080"
		w := httptest.NewRecorder()
		routes[pattern].ServeHTTP(w, req)
		return w.Code
	}
	big := "name=ann&password=" + strings.Repeat("a", 2<<20)
	for _, pattern := range []string{"POST /login", "POST /logout"} {
		if code := post(pattern, strings.Fields(pattern)[1], big); code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with a 2 MiB form: %d, want 413", pattern, code)
		}
	}
	if code := post("POST /login", "/login", "name=ann&password=correct+horse"); code != http.StatusSeeOther {
		t.Errorf("a login after the large forms: %d, want logged in", code)
	}
}

// A second press of a button that reaches the console after the first was
// recorded (a thumb tapping again while the phone waits for the answer; the
// browser shows the second's answer in place of the first's) is not
// reported in red as someone else's decision. Another CM's decision, or
// another outcome, still is.
func TestSecondPressSaysDone(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 2 {
		ev := bot.Event{ID: fmt.Sprintf("m%d", i), Platform: "discord", Channel: fmt.Sprintf("c%d", i), Author: bot.Author{ID: fmt.Sprintf("u%d", i)}, Text: "x", At: at}
		cs, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "r", Reason: "r", Opened: at})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cs.ID)
	}
	for _, name := range []string{"mo", "max"} {
		if err := st.PutAccount(ctx, store.Account{Name: name, Role: console.RoleModerator, Hash: console.HashPassword("battery staple")}); err != nil {
			t.Fatal(err)
		}
	}
	decisions := 0
	con := console.New(console.Options{Store: st, Accounts: st,
		Decide: func(ctx context.Context, id, outcome, by string) (store.Case, string, error) {
			cs, err := st.DecideCase(ctx, id, outcome, by, "", at)
			if err == nil {
				decisions++
			}
			return cs, "", err
		},
		Outcomes: func(bot.Event) []bot.ActionKind { return []bot.ActionKind{bot.ActDelete, bot.ActTimeout} }})
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	do := func(session *http.Cookie, method, path string, form url.Values) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr = "127.0.0.1:4000"
		req.Host = "127.0.0.1:8080"
		req.AddCookie(session)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		return w
	}
	press := func(session *http.Cookie, id, outcome string) (string, bool) {
		page := do(session, "GET", "/queue", nil).Body.String()
		m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no form on the queue:\n%s", page)
		}
		loc := do(session, "POST", "/queue/"+id+"/decide", url.Values{"csrf": {m[1]}, "outcome": {outcome}}).Header().Get("Location")
		body := do(session, "GET", loc, nil).Body.String()
		f := regexp.MustCompile(`<p class="flash( failed)?" role="status">([^<]*)</p>`).FindStringSubmatch(body)
		if f == nil {
			t.Fatalf("no message after pressing %s on %s:\n%s", outcome, id, body)
		}
		return f[2], f[1] != ""
	}
	mo, maxs := login(t, con.Routes(), "mo", "battery staple"), login(t, con.Routes(), "max", "battery staple")
	for _, tc := range []struct {
		who        *http.Cookie
		id         string
		outcome    string
		want       string
		wantFailed bool
	}{
		{mo, ids[0], "delete", ids[0] + ": delete, done.", false},
		{mo, ids[0], "delete", ids[0] + ": delete, already decided by you (pressed twice); had the platform refused it, a new case would say so.", false},
		{mo, ids[0], "timeout", ids[0] + " was already decided by console:mo: delete.", true},
		{maxs, ids[0], "delete", ids[0] + " was already decided by console:mo: delete.", true},
		{mo, ids[1], "timeout", ids[1] + ": timeout, done.", false},
		{mo, ids[1], "timeout", ids[1] + ": timeout, already decided by you (pressed twice); had the platform refused it, a new case would say so.", false},
	} {
		got, failed := press(tc.who, tc.id, tc.outcome)
		if got != tc.want || failed != tc.wantFailed {
			t.Errorf("%s on %s: the page says %q (failed %v), want %q (failed %v)", tc.outcome, tc.id, got, failed, tc.want, tc.wantFailed)
		}
	}
	if decisions != 2 {
		t.Errorf("%d decisions carried out, want 2", decisions)
	}
}

// The login page says which decision was not done only for a case's id and
// an outcome's kind: a link from elsewhere cannot put its own words there.
func TestLoginSaysOnlyWhatWasNotDone(t *testing.T) {
	st := memory.New(memory.WithCaseEpoch("tests"))
	routes := console.New(console.Options{Store: st, Accounts: st}).Routes()
	for _, tc := range []struct {
		query string
		want  string
	}{
		{"undone=c-tests-000060&outcome=ban", "before c-tests-000060 (ban) was decided"},
		{"undone=c-tests-000060&outcome=ban(1h)", ""},
		{"undone=" + url.QueryEscape("your password expired, see evil.example") + "&outcome=ban", ""},
		{"undone=c-tests-000060&outcome=" + url.QueryEscape("visit evil.example"), ""},
	} {
		req := httptest.NewRequest("GET", "/login?"+tc.query, nil)
		req.RemoteAddr = "127.0.0.1:4000"
		req.Host = "127.0.0.1:8080"
		w := httptest.NewRecorder()
		routes["GET /login"].ServeHTTP(w, req)
		body := w.Body.String()
		if got := strings.Contains(body, `id="undone"`); got != (tc.want != "") || !strings.Contains(body, tc.want) {
			t.Errorf("/login?%s shows the message: %v, want %q:\n%s", tc.query, got, tc.want, body)
		}
	}
}

// A case's actions are what its rule asked for, done or not (vigie paused, the
// platform off or without a connector, the action failed): the card says
// "suggested", as the Telegram and Discord desks do, never that vigie did them.
func TestQueueSaysSuggestedNotDone(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	ev := bot.Event{ID: "m1", Platform: "shop", Author: bot.Author{ID: "c1"}, Text: "go see http://cheap.example.info", At: at}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "link", Reason: "paused: would delete", Opened: at,
		Suggested: []bot.Action{{Kind: bot.ActDelete}}, Holds: true}); err != nil {
		t.Fatal(err)
	}
	addViewer(t, st)
	routes := console.New(console.Options{Store: st, Accounts: st}).Routes()
	body := get(routes, "GET /queue", "/queue", login(t, routes, "vic", "battery staple")).Body.String()
	if !strings.Contains(body, `<p class="did">suggested: delete</p>`) || strings.Contains(body, "vigie: delete") {
		t.Errorf("the card does not say the action is suggested:\n%s", body)
	}
}

// A case whose hide failed offers to hide, not to unhide, and says the hide
// was not done; a case whose hide was carried out offers its undo.
func TestQueueOffersNoUndoOfWhatFailed(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	hide := []bot.Action{{Kind: bot.ActHide}}
	for _, c := range []store.Case{
		{Event: bot.Event{ID: "m1", Platform: "facebook", Author: bot.Author{ID: "u1"}, Text: "failed", At: at},
			Rule: "insult", Reason: "action failed: hide", Suggested: hide, NotDone: hide, Holds: true, Opened: at},
		{Event: bot.Event{ID: "m2", Platform: "facebook", Author: bot.Author{ID: "u2"}, Text: "hidden", At: at},
			Rule: "insult", Reason: "insults the page", Suggested: hide, Opened: at},
	} {
		if _, err := st.OpenCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutAccount(ctx, store.Account{Name: "mo", Role: console.RoleModerator, Hash: console.HashPassword("battery staple")}); err != nil {
		t.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Outcomes: func(bot.Event) []bot.ActionKind { return []bot.ActionKind{"keep", bot.ActHide, "unhide"} }})
	page := get(con.Routes(), "GET /queue", "/queue", login(t, con.Routes(), "mo", "battery staple")).Body.String()
	articles := regexp.MustCompile(`(?s)<article.*?</article>`).FindAllString(page, -1)
	if len(articles) != 2 {
		t.Fatalf("%d cases on the queue, want 2:\n%s", len(articles), page)
	}
	for _, a := range articles {
		failed := strings.Contains(a, "failed")
		if got := strings.Contains(a, `value="unhide"`); got == failed {
			t.Errorf("a case (hide failed: %v) offers unhide: %v, want %v:\n%s", failed, got, !failed, a)
		}
		if !strings.Contains(a, `value="hide"`) {
			t.Errorf("a case does not offer to hide:\n%s", a)
		}
		if got := strings.Contains(a, "(not done)"); got != failed {
			t.Errorf("a case (hide failed: %v) says not done: %v:\n%s", failed, got, a)
		}
	}
}

// A case that only keep decides (a platform vigie has no connector for, as
// the README's tour shows) has no field for a reply or a duration; one that
// may be timed out has one, for the duration.
func TestQueueAsksAnArgumentOnlyForWhatTakesOne(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	for _, c := range []store.Case{
		{Event: bot.Event{ID: "m1", Platform: "shop", Author: bot.Author{ID: "u1"}, Text: "keep only", At: at}, Rule: "link", Opened: at},
		{Event: bot.Event{ID: "m2", Platform: "discord", Author: bot.Author{ID: "u2"}, Text: "timed", At: at}, Rule: "link", Opened: at},
	} {
		if _, err := st.OpenCase(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.PutAccount(ctx, store.Account{Name: "mo", Role: console.RoleModerator, Hash: console.HashPassword("battery staple")}); err != nil {
		t.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Outcomes: func(ev bot.Event) []bot.ActionKind {
			if ev.Platform == "shop" {
				return []bot.ActionKind{"keep"}
			}
			return []bot.ActionKind{"keep", bot.ActDelete, bot.ActTimeout}
		}})
	page := get(con.Routes(), "GET /queue", "/queue", login(t, con.Routes(), "mo", "battery staple")).Body.String()
	articles := regexp.MustCompile(`(?s)<article.*?</article>`).FindAllString(page, -1)
	if len(articles) != 2 {
		t.Fatalf("%d cases on the queue, want 2:\n%s", len(articles), page)
	}
	for _, a := range articles {
		keepOnly := strings.Contains(a, "keep only")
		if got := strings.Contains(a, `name="arg"`); got == keepOnly {
			t.Errorf("a case (keep only: %v) has a field for an argument: %v:\n%s", keepOnly, got, a)
		}
		if !keepOnly && !strings.Contains(a, `placeholder="1h / 7d"`) {
			t.Errorf("the case that may be timed out does not ask for a duration:\n%s", a)
		}
	}
}
