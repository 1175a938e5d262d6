package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// client is a browser at one address: it keeps the cookies the console sets.
type client struct {
	addr    string
	cookies map[string]*http.Cookie
}

func newClient(addr string) *client { return &client{addr: addr, cookies: map[string]*http.Cookie{}} }

// do sends a request to the route of pattern from the client's address with
// its cookies, and keeps the cookies of the answer.
func (cl *client) do(routes map[string]http.Handler, pattern, path string, form url.Values) *httptest.ResponseRecorder {
	method := strings.Fields(pattern)[0]
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.RemoteAddr = cl.addr
	req.Host = "127.0.0.1:8080" // this machine, as a browser here asks for it
	for _, ck := range cl.cookies {
		req.AddCookie(ck)
	}
	w := httptest.NewRecorder()
	routes[pattern].ServeHTTP(w, req)
	for _, ck := range w.Result().Cookies() {
		if ck.MaxAge < 0 {
			delete(cl.cookies, ck.Name)
		} else {
			cl.cookies[ck.Name] = ck
		}
	}
	return w
}

func (cl *client) login(routes map[string]http.Handler, name, password string) int {
	return cl.do(routes, "POST /login", "/login", url.Values{"name": {name}, "password": {password}}).Code
}

// signedIn reports whether the client's session opens the queue.
func (cl *client) signedIn(routes map[string]http.Handler) bool {
	return cl.do(routes, "GET /queue", "/queue", nil).Code == http.StatusOK
}

// A logout revokes the session: a copy of its cookie taken before is refused
// afterwards, by this console and by another one on the same store.
func TestLogoutRevokesTheSession(t *testing.T) {
	for _, tc := range twoInstances("logout-test") {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st1, st2 := tc.stores(t)
			acc1, acc2 := st1.(store.Accounts), st2.(store.Accounts)
			if err := acc1.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleViewer, Hash: console.HashPassword("correct horse")}); err != nil {
				t.Fatal(err)
			}
			one := console.New(console.Options{Store: st1, Accounts: acc1}).Routes()
			two := console.New(console.Options{Store: st2, Accounts: acc2}).Routes()

			ann := newClient("127.0.0.1:4000")
			if code := ann.login(one, "ann", "correct horse"); code != http.StatusSeeOther {
				t.Fatalf("login: %d", code)
			}
			thief := newClient("127.0.0.1:4001")
			thief.cookies["vigie_session"] = ann.cookies["vigie_session"]
			if !thief.signedIn(one) || !thief.signedIn(two) {
				t.Fatal("a copy of the session cookie is refused before the logout")
			}
			other := newClient("127.0.0.1:4002") // ann on another browser
			other.login(one, "ann", "correct horse")

			// A post without the session's CSRF token (a client that sends
			// no Origin) or with another session's ends nothing.
			otherToken := csrfOf(t, other, one)
			for _, form := range []url.Values{{}, {"csrf": {"x"}}, {"csrf": {otherToken}}} {
				if w := ann.do(two, "POST /logout", "/logout", form); w.Code != http.StatusForbidden || ann.cookies["vigie_session"] == nil {
					t.Errorf("logout with csrf %q: %d, cookie %v; want 403 and the cookie kept", form.Get("csrf"), w.Code, ann.cookies["vigie_session"])
				}
			}
			if !thief.signedIn(one) || !thief.signedIn(two) || !ann.signedIn(two) {
				t.Fatal("a logout post without the session's CSRF token revoked the session")
			}
			if w := ann.do(two, "POST /logout", "/logout", url.Values{"csrf": {csrfOf(t, ann, two)}}); w.Code != http.StatusSeeOther || ann.cookies["vigie_session"] != nil {
				t.Fatalf("logout: %d, cookie %v", w.Code, ann.cookies["vigie_session"])
			}
			if thief.signedIn(one) || thief.signedIn(two) {
				t.Error("the session's cookie still opens the console after the logout")
			}
			if !other.signedIn(one) {
				t.Error("logging out on one browser ended the session of another")
			}
		})
	}
}

// csrfOf is the CSRF token the pages give the client's session, from the
// logout form every page shows.
func csrfOf(t *testing.T, cl *client, routes map[string]http.Handler) string {
	t.Helper()
	page := cl.do(routes, "GET /queue", "/queue", nil).Body.String()
	m := regexp.MustCompile(`<form method="post" action="/logout"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the logout form of the queue page:\n%s", page)
	}
	return m[1]
}

// clock is a time the test moves.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// throttled is a console over plain HTTP (as behind --insecure), so that
// clients at any address may log in, on the test's clock.
func throttled(t *testing.T) (map[string]http.Handler, *clock, *memory.Store) {
	t.Helper()
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	return console.New(console.Options{Store: st, Accounts: st, Insecure: true, Now: clk.Now}).Routes(), clk, st
}

// Guessing at a CM's password from many addresses cannot lock the CM out of
// the browser and the address they logged in from; a new browser at a new
// address waits while the guesses pile up, which bounds them.
func TestStrangersCannotLockACMOut(t *testing.T) {
	routes, clk, _ := throttled(t)
	home := newClient("198.51.100.7:5000")
	if code := home.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Fatalf("first login: %d", code)
	}
	clk.Add(time.Hour)
	// Fifty strangers, one guess each, on as many addresses.
	tried := 0
	for i := range 50 {
		eve := newClient("203.0.113." + strconv.Itoa(i+1) + ":6000")
		switch code := eve.login(routes, "ann", "guess "+strconv.Itoa(i)); code {
		case http.StatusUnauthorized:
			tried++
		case http.StatusTooManyRequests:
		default:
			t.Fatalf("guess %d: %d", i, code)
		}
	}
	if tried != 10 {
		t.Errorf("%d of 50 guesses from 50 addresses were checked, want 10 (then the name waits for new devices)", tried)
	}
	// ann's browser at home, and the same browser on another network, get in.
	if code := home.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("ann from her browser and address: %d, want logged in", code)
	}
	home.addr = "192.0.2.44:5000"
	if code := home.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("ann from her browser on another network: %d, want logged in", code)
	}
	// A fresh browser at her home address too (the address is known).
	if code := newClient("198.51.100.7:5001").login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("ann from a new browser at her address: %d, want logged in", code)
	}
	// A new browser at a new address waits, even with the right password...
	w := newClient("192.0.2.99:5000").do(routes, "POST /login", "/login", url.Values{"name": {"ann"}, "password": {"correct horse"}})
	if w.Code != http.StatusTooManyRequests || !strings.Contains(w.Body.String(), "from a device you used before") || w.Header().Get("Retry-After") == "" {
		t.Errorf("a new device during the guessing: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
	// ...until the guesses are 15 minutes old.
	clk.Add(15 * time.Minute)
	if code := newClient("192.0.2.99:5000").login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("a new device once the guesses are old: %d, want logged in", code)
	}
}

// Guesses from one address (whatever the names) are stopped after 5, even
// when the next is right, for 15 minutes; an IPv6 address counts with its
// /64. A CM's browser at the same address, with its device cookie, is not
// held back: it counts its own failures.
func TestOneAddressIsLocked(t *testing.T) {
	for _, tc := range []struct{ name, first, next string }{
		{"IPv4", "203.0.113.5:6000", "203.0.113.5:6001"},
		{"IPv6, same /64", "[2001:db8:1:2::1]:6000", "[2001:db8:1:2:ffff::9]:6000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			routes, clk, _ := throttled(t)
			ann := newClient(tc.next)
			ann.login(routes, "ann", "correct horse")
			clk.Add(time.Hour)
			eve := newClient(tc.first)
			for i := range 5 {
				if code := eve.login(routes, []string{"ann", "bob"}[i%2], "guess"); code != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d", i, code)
				}
			}
			if code := newClient(tc.next).login(routes, "ann", "correct horse"); code != http.StatusTooManyRequests {
				t.Errorf("the right password after 5 failures from the address: %d, want 429", code)
			}
			if code := ann.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
				t.Errorf("ann's browser, with its device cookie, at the locked address: %d, want logged in", code)
			}
			// Her device cookie's own failures are limited too.
			for range 5 {
				ann.login(routes, "ann", "typo")
			}
			if code := ann.login(routes, "ann", "correct horse"); code != http.StatusTooManyRequests {
				t.Errorf("a device cookie after 5 failures of its own: %d, want 429", code)
			}
			clk.Add(15 * time.Minute)
			if code := newClient(tc.next).login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
				t.Errorf("15 minutes later: %d, want logged in", code)
			}
		})
	}
}

// A new password forgets the devices the old one logged in on: a browser that
// logged in before the change counts as a new one.
func TestNewPasswordForgetsDevices(t *testing.T) {
	routes, clk, st := throttled(t)
	ann := newClient("203.0.113.5:5000")
	ann.login(routes, "ann", "correct horse")
	clk.Add(time.Hour)
	eve := newClient("203.0.113.5:6000")
	for range 5 {
		eve.login(routes, "ann", "guess")
	}
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("another horse")}); err != nil {
		t.Fatal(err)
	}
	if code := ann.login(routes, "ann", "another horse"); code != http.StatusTooManyRequests {
		t.Errorf("the old password's device cookie at a locked address: %d, want 429", code)
	}
}

// After a login, the console sends the browser on to the page it came for,
// and only to a page of its own: browsers drop tabs and line breaks from a
// Location and read a backslash as a slash, so none of these may lead to
// evil.example.
func TestLoginStaysOnThisSite(t *testing.T) {
	routes, _, _ := throttled(t)
	for next, want := range map[string]string{
		"/queue?community=fr":       "/queue?community=fr",
		"/people/discord/g/u%2F1":   "/people/discord/g/u%2F1",
		"//evil.example":            "/queue",
		"/\t/evil.example":          "/queue",
		"/\n/evil.example":          "/queue",
		"/\r\n/evil.example":        "/queue",
		"/\\evil.example":           "/queue",
		"https://evil.example/":     "/queue",
		"/\x00/evil.example":        "/queue",
		" //evil.example":           "/queue",
		"/%09/evil.example/encoded": "/%09/evil.example/encoded",
	} {
		w := newClient("198.51.100.7:5000").do(routes, "POST /login", "/login", url.Values{"name": {"ann"}, "password": {"correct horse"}, "next": {next}})
		if got := w.Header().Get("Location"); w.Code != http.StatusSeeOther || got != want {
			t.Errorf("next %q: %d to %q, want %q", next, w.Code, got, want)
		}
	}
}

// A login for a name with no account hashes its password as one for a
// name that has one, at the same cost: the answer's time must not tell
// which names exist. (Counted, not timed.) A name no account can have (not
// 1 to 32 of a-z, 0-9, '.', '_' and '-') is refused before the limits and
// costs no hash: its form is public, its time tells nothing, and a stranger
// sending such names at any rate must not have vigie hash for each.
func TestUnknownNameCostsAHash(t *testing.T) {
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	c := console.New(console.Options{Store: st, Accounts: st, Insecure: true})
	var costs []string
	console.OnHash(c, func(m, tm uint32, p uint8) { costs = append(costs, fmt.Sprintf("m=%d,t=%d,p=%d", m, tm, p)) })
	routes := c.Routes()
	hash := []string{"m=19456,t=2,p=1"}
	for _, tc := range []struct {
		name, password string
		want           []string
	}{
		{"ann", "guess", hash},
		{"nobody", "guess", hash},
		{"", "", nil},
		{"Ann Smith", "guess", nil},
	} {
		costs = nil
		if code := newClient("198.51.100.7:5000").login(routes, tc.name, tc.password); code != http.StatusUnauthorized {
			t.Fatalf("login %q: %d, want 401", tc.name, code)
		}
		if !slices.Equal(costs, tc.want) {
			t.Errorf("login %q hashed %q, want %q", tc.name, costs, tc.want)
		}
	}
}

// twoInstances gives, for each kind of store, two stores as two instances
// see theirs: one memory store (one instance), or two clients of one
// redis-server under a prefix of its own.
func twoInstances(prefix string) []struct {
	name   string
	stores func(t *testing.T) (store.Store, store.Store)
} {
	return []struct {
		name   string
		stores func(t *testing.T) (store.Store, store.Store)
	}{
		{"memory", func(t *testing.T) (store.Store, store.Store) { st := memory.New(); return st, st }},
		{"two instances on one redis-server", func(t *testing.T) (store.Store, store.Store) {
			u, prefix := redistest.URL(t), redistest.Prefix(prefix)
			var out [2]store.Store
			for i := range out {
				st := redistest.Open(t, u, redis.WithPrefix(prefix))
				out[i] = st
			}
			return out[0], out[1]
		}},
	}
}
