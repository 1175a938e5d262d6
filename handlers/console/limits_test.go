package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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

// Two consoles on one store (two instances behind a load balancer) hold a
// guesser to the limits of one: the guesses at a name from many addresses,
// and those from one address, are counted once whichever console takes them.
func TestLoginLimitsAreShared(t *testing.T) {
	for _, tc := range twoInstances("limits-test") {
		t.Run(tc.name, func(t *testing.T) {
			st1, st2 := tc.stores(t)
			acc1, acc2 := st1.(store.Accounts), st2.(store.Accounts)
			if err := acc1.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
				t.Fatal(err)
			}
			clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
			consoles := []map[string]http.Handler{
				console.New(console.Options{Store: st1, Accounts: acc1, Insecure: true, Now: clk.Now}).Routes(),
				console.New(console.Options{Store: st2, Accounts: acc2, Insecure: true, Now: clk.Now}).Routes(),
			}
			home := newClient("198.51.100.7:5000")
			if code := home.login(consoles[1], "ann", "correct horse"); code != http.StatusSeeOther {
				t.Fatalf("first login: %d", code)
			}
			clk.Add(time.Hour)

			// Five guesses from one address, taken by either console in turn:
			// the sixth waits on both.
			for i := range 5 {
				if code := newClient("203.0.113.200:6000").login(consoles[i%2], "bob", "guess"); code != http.StatusUnauthorized {
					t.Fatalf("guess %d from one address: %d", i, code)
				}
			}
			for i, routes := range consoles {
				if code := newClient("203.0.113.200:6001").login(routes, "ann", "correct horse"); code != http.StatusTooManyRequests {
					t.Errorf("console %d, the 6th try from the address: %d, want 429", i+1, code)
				}
			}

			// Fifty strangers, one guess each, on as many addresses, half on
			// each console: 10 are checked, not 10 per console.
			tried := 0
			for i := range 50 {
				eve := newClient("203.0.113." + strconv.Itoa(i+1) + ":6000")
				switch code := eve.login(consoles[i%2], "ann", "guess "+strconv.Itoa(i)); code {
				case http.StatusUnauthorized:
					tried++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("guess %d: %d", i, code)
				}
			}
			if tried != 10 {
				t.Errorf("%d of 50 guesses on two consoles were checked, want 10", tried)
			}
			// ann's known browser gets in on either console; her address,
			// known to the name through the other console, too.
			for i, routes := range consoles {
				if code := home.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
					t.Errorf("console %d, ann from her browser: %d, want logged in", i+1, code)
				}
				if code := newClient("198.51.100.7:5001").login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
					t.Errorf("console %d, ann from a new browser at her address: %d, want logged in", i+1, code)
				}
				if code := newClient("192.0.2.99:5000").login(routes, "ann", "correct horse"); code != http.StatusTooManyRequests {
					t.Errorf("console %d, a new device at a new address during the guessing: %d, want 429", i+1, code)
				}
			}
			clk.Add(15 * time.Minute)
			if code := newClient("192.0.2.99:5000").login(consoles[0], "ann", "correct horse"); code != http.StatusSeeOther {
				t.Errorf("a new device once the guesses are old: %d, want logged in", code)
			}
		})
	}
}

// When the store that counts the failed logins is out of reach, a browser
// the name does not know is refused for now (503, "try again shortly"), since
// its guesses could not be counted; a browser with the name's device cookie,
// which logged in with this password before, goes ahead.
func TestLoginLimitsOutOfReach(t *testing.T) {
	srv := redistest.Start(t)
	limits := redistest.Open(t, srv.URL(), redis.WithPrefix("limits-away"))
	accounts := memory.New()
	if err := accounts.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	routes := console.New(console.Options{Store: accounts, Accounts: accounts, Limits: limits, Insecure: true}).Routes()
	ann := newClient("198.51.100.7:5000")
	if code := ann.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Fatalf("login with the store up: %d", code)
	}

	srv.Stop()
	w := newClient("198.51.100.7:5001").do(routes, "POST /login", "/login", map[string][]string{"name": {"ann"}, "password": {"correct horse"}})
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "try again shortly") || w.Header().Get("Retry-After") == "" {
		t.Errorf("a new browser while the limits are out of reach: %d %q, want 503 and try again shortly", w.Code, w.Header().Get("Retry-After"))
	}
	for _, pw := range []string{"guess", "guess"} {
		if code := newClient("203.0.113.9:6000").login(routes, "ann", pw); code != http.StatusServiceUnavailable {
			t.Errorf("a guess while the limits are out of reach: %d, want 503", code)
		}
	}
	if code := ann.login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Errorf("ann's browser, with its device cookie, while the limits are out of reach: %d, want logged in", code)
	}
}

// Guesses sent all at once are held to the limit as if sent one after the
// other: each is checked once those before it are counted, else all twenty
// would pass the check while the first password was still being hashed (and
// twenty hashes of 19 MiB each run at once).
//
// Each guess waits for the turn as long as the twenty take (a minute at
// most): four hashes in a row under the race detector on a busy machine
// outlast the 5 s a login waits by default, and a guess refused for the wait
// (503) would say nothing of the count.
func TestConcurrentGuessesAreCounted(t *testing.T) {
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
	routes := console.New(console.Options{Store: st, Accounts: st, Insecure: true, Now: clk.Now, LoginWait: time.Minute}).Routes()
	const n = 20
	codes := make(chan int, n)
	var start sync.WaitGroup
	start.Add(1)
	var done sync.WaitGroup
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			codes <- newClient("203.0.113.77:6000").login(routes, "ann", "guess "+strconv.Itoa(i))
		}()
	}
	start.Done()
	done.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusUnauthorized] != 5 || count[http.StatusTooManyRequests] != n-5 {
		t.Errorf("%d guesses at once from one address: %v, want 5 checked (401) and %d refused (429)", n, count, n-5)
	}
}

// While the store hangs, a login that holds the turn waits for it, and
// those behind it do not pile up without end: each waits LoginWait at most,
// then is told to try again shortly (503, Retry-After).
func TestLoginsDoNotQueueBehindAHungStore(t *testing.T) {
	accounts := memory.New()
	if err := accounts.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	first := make(chan int, 1)
	// Waited for once the proxy below has let its connections go, which
	// ends the first login.
	t.Cleanup(func() { <-first })
	u, err := url.Parse(redistest.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := redistest.NewHangProxy(t, u.Host)
	// No read timeout: a Redis that hangs holds the call until it answers.
	limits := redistest.Open(t, proxy.URL()+"?read_timeout=-1", redis.WithPrefix(redistest.Prefix("limits-hung")))
	routes := console.New(console.Options{Store: accounts, Accounts: accounts, Limits: limits, Insecure: true,
		LoginWait: 50 * time.Millisecond}).Routes()
	if code := newClient("198.51.100.7:5000").login(routes, "ann", "correct horse"); code != http.StatusSeeOther {
		t.Fatalf("login with the store up: %d", code)
	}

	proxy.Hang()
	go func() { first <- newClient("198.51.100.8:5000").login(routes, "ann", "guess") }()
	<-proxy.Held() // the first login waits for the store, holding the turn
	for i := range 3 {
		// The answer comes long before this; on a request that waited
		// without end, the recorder says 200 with nothing written.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		req := httptest.NewRequestWithContext(ctx, "POST", "/login", strings.NewReader(url.Values{"name": {"ann"}, "password": {"guess " + strconv.Itoa(i)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.RemoteAddr, req.Host = "203.0.113.9:6000", "127.0.0.1:8080"
		w := httptest.NewRecorder()
		routes["POST /login"].ServeHTTP(w, req)
		cancel()
		if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "try again shortly") || w.Header().Get("Retry-After") != "10" {
			t.Errorf("login %d behind one the store holds: %d Retry-After %q, want 503, try again shortly, Retry-After 10\n%s",
				i, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
}

// Guesses sent at once to two instances are held to the limit as if sent to
// one: each is counted, in one step with the check of the limit, before its
// password is hashed. Here an address has four failures of its five, and two
// more guesses reach the two consoles together: the hash of each waits
// until the other is either refused or hashing too, so that checking first
// and counting after would let both through.
func TestGuessesAtOnceOnTwoInstancesAreCounted(t *testing.T) {
	for _, tc := range twoInstances("limits-at-once") {
		t.Run(tc.name, func(t *testing.T) {
			st1, st2 := tc.stores(t)
			acc1, acc2 := st1.(store.Accounts), st2.(store.Accounts)
			if err := acc1.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
				t.Fatal(err)
			}
			clk := &clock{t: time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)}
			cs := []*console.Console{
				console.New(console.Options{Store: st1, Accounts: acc1, Insecure: true, Now: clk.Now, LoginWait: time.Minute}),
				console.New(console.Options{Store: st2, Accounts: acc2, Insecure: true, Now: clk.Now, LoginWait: time.Minute}),
			}
			routes := []map[string]http.Handler{cs[0].Routes(), cs[1].Routes()}
			for i := range addrFailuresBefore {
				if code := newClient("203.0.113.90:6000").login(routes[i%2], "ann", "guess "+strconv.Itoa(i)); code != http.StatusUnauthorized {
					t.Fatalf("guess %d: %d", i, code)
				}
			}
			// hashing counts the guesses at the hash, returned those answered
			// without one; a hash goes on once every guess is at one of them.
			var mu sync.Mutex
			cond := sync.NewCond(&mu)
			hashing, returned := 0, 0
			for _, c := range cs {
				console.OnHash(c, func(uint32, uint32, uint8) {
					mu.Lock()
					defer mu.Unlock()
					hashing++
					cond.Broadcast()
					for hashing+returned < len(cs) {
						cond.Wait()
					}
				})
			}
			codes := make([]int, len(cs))
			var wg sync.WaitGroup
			for i := range cs {
				wg.Go(func() {
					codes[i] = newClient("203.0.113.90:6001").login(routes[i], "ann", "at once "+strconv.Itoa(i))
					if codes[i] != http.StatusUnauthorized {
						mu.Lock()
						returned++
						cond.Broadcast()
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			checked := 0
			for _, code := range codes {
				switch code {
				case http.StatusUnauthorized:
					checked++
				case http.StatusTooManyRequests:
				default:
					t.Fatalf("guesses at once: %v; want 401s and 429s", codes)
				}
			}
			if checked != 1 {
				t.Errorf("two guesses at once on two consoles, one guess left: %v, %d checked; want 1 checked (401), 1 refused (429)", codes, checked)
			}
		})
	}
}

// addrFailuresBefore is one less than the failures an address may make in
// the window.
const addrFailuresBefore = 4
