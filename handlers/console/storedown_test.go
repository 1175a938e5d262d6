package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// redisCases is a real redis-server, for the test to stop when it wants the
// store gone, and a store on it that fails at once while it is away.
func redisCases(t *testing.T) (*redistest.Server, *redis.Store) {
	t.Helper()
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL()+"/0?dial_timeout=1s&max_retries=0")
	return srv, st
}

// oneCaseConsole serves a console on cases, with one case open there (its
// id is returned) and ann, a moderator, among accounts.
func oneCaseConsole(t *testing.T, cases store.Store, accounts store.Accounts) (*httptest.Server, string) {
	t.Helper()
	ctx := context.Background()
	at := time.Now().Truncate(time.Second)
	ev := bot.Event{ID: "m1", Platform: "discord", Channel: "general", Author: bot.Author{ID: "u1", Name: "Bob"}, Text: "free nitro", At: at}
	c, err := cases.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Reason: "scam", Opened: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := accounts.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	con := console.New(console.Options{Store: cases, Accounts: accounts,
		Decide: func(ctx context.Context, id, outcome, by string) (store.Case, string, error) {
			return noNote(cases.DecideCase(ctx, id, outcome, by, "", at))
		},
		Outcomes: func(bot.Event) []bot.ActionKind { return []bot.ActionKind{bot.ActDelete} }})
	t.Cleanup(con.Close)
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, c.ID
}

// TestStoreDownMidDecision: the store goes away while the CM has the queue
// open; the button pressed then says that nothing was done and why, rather
// than that the session had ended (it had not: logging in again cannot help).
func TestStoreDownMidDecision(t *testing.T) {
	redisSrv, st := redisCases(t)
	srv, id := oneCaseConsole(t, st, st)
	n := &raidNight{srv: srv}
	bctx := browser(t, true)
	n.logIn(t, bctx)
	redisSrv.Stop()
	if err := chromedp.Do(bctx, press(`article[data-case="`+id+`"] button[data-outcome="delete"]`),
		chromedp.WaitNotPresent(`article[data-case="`+id+`"]`)); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('main').innerText.replace(/^vigie\s*/, '')`))
	if err != nil {
		t.Fatal(err)
	}
	shot(t, bctx, "phone-store-down", false)
	if !strings.HasPrefix(body, "Not done: "+id+" (delete) was not decided: the store does not answer") || strings.Contains(body, "session had ended") {
		t.Errorf("after pressing delete with the store gone the page says %q", body)
	}
}

// casesAway is a console whose cases are in a real Redis the test stops,
// while the accounts (a memory store) still answer: the CM stays logged in.
type casesAway struct {
	redis *redistest.Server
	srv   *httptest.Server
	id    string // the case open
}

func newCasesAway(t *testing.T) *casesAway {
	t.Helper()
	redisSrv, st := redisCases(t)
	srv, id := oneCaseConsole(t, st, memory.New())
	return &casesAway{redis: redisSrv, srv: srv, id: id}
}

// TestDecisionWithCasesAway: the store answers for the accounts but not for
// the cases; a decision pressed then is not done, and the page after it says
// so and why, styled as the console, rather than a bare 503 about the list.
func TestDecisionWithCasesAway(t *testing.T) {
	n := newCasesAway(t)
	bctx := browser(t, true)
	(&raidNight{srv: n.srv}).logIn(t, bctx)
	n.redis.Stop()
	if err := chromedp.Do(bctx, press(`article[data-case="`+n.id+`"] button[data-outcome="delete"]`),
		chromedp.WaitNotPresent(`article[data-case="`+n.id+`"]`)); err != nil {
		t.Fatal(err)
	}
	page, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`[document.contentType,
		String(!!document.querySelector('link[rel=stylesheet][href="/static/console.css"]')),
		(document.querySelector('#decision') || {}).innerText || '',
		String(!!document.querySelector('#decision.flash.failed')),
		(document.querySelector('#notdone') || {}).innerText || '',
		document.body.innerText.slice(0, 300)]`))
	if err != nil {
		t.Fatal(err)
	}
	shot(t, bctx, "phone-cases-away", false)
	if page[0] != "text/html" || page[1] != "true" {
		t.Errorf("the page after the decision is %s, styled %s, not a page of the console's: %q", page[0], page[1], page[5])
	}
	if !strings.HasPrefix(page[2], "Not done: ") || !strings.Contains(page[2], n.id) || !strings.Contains(page[2], "connection refused") || page[3] != "true" {
		t.Errorf("the decision's message is %q (shown as failed: %s), want it said not done and why; the page says %q", page[2], page[3], page[5])
	}
	if !strings.HasPrefix(page[4], "The queue cannot be shown: the store does not answer") {
		t.Errorf("the page says %q of the queue", page[4])
	}
}

// TestLiveQueueSaysStoreAway: the store goes away while the queue is open;
// the list it shows is then old, and the page says so in a line a screen
// reader reads out (role=status), gone once the store answers again.
func TestLiveQueueSaysStoreAway(t *testing.T) {
	n := newCasesAway(t)
	bctx := browser(t, true)
	(&raidNight{srv: n.srv}).logIn(t, bctx)
	n.redis.Stop()
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`(() => { const l = document.querySelector('#live-status');
		return !!l && /^Not up to date since \d\d:\d\d — the store does not answer; retrying$/.test(l.textContent); })()`)); err != nil {
		body, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 300)`))
		t.Fatalf("with the store away the page says %q: %v", body, err)
	}
	shot(t, bctx, "phone-live-stale", false)
	said, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](`(() => { const l = document.querySelector('#live-status');
		return [l.getAttribute('role'), l.getAttribute('aria-live'), String(l.getBoundingClientRect().height > 0),
			String(!!document.querySelector('article[data-case="`+n.id+`"]'))]; })()`))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"status", "polite", "true", "true"}; !slices.Equal(said, want) {
		t.Errorf("the line's role, aria-live, shown, and the old list kept are %q, want %q", said, want)
	}
	// A status takes no name from its text: that it is one is what a
	// screen reader needs to read its changes out.
	if names := axNames(t, bctx, "status"); len(names) != 1 {
		t.Errorf("%d statuses on the page, want the line alone", len(names))
	}
	// The store comes back (empty: a new redis-server where the old one was).
	n.redis.Restart()
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.querySelector('#live-status').textContent === "" &&
		document.querySelector('#queue h1').dataset.total === "0"`)); err != nil {
		body, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 300)`))
		t.Fatalf("with the store back the page says %q: %v", body, err)
	}
}

// TestLiveQueueSaysVigieAway: vigie itself goes out of reach (the network,
// or the process): the page says that its list is not up to date.
func TestLiveQueueSaysVigieAway(t *testing.T) {
	n := newRaidNight(t, 3)
	bctx := browser(t, true)
	n.logIn(t, bctx)
	n.srv.Listener.Close()
	n.srv.CloseClientConnections()
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`(() => { const l = document.querySelector('#live-status');
		return !!l && /^Not up to date since \d\d:\d\d \u2014 vigie does not answer/.test(l.textContent); })()`)); err != nil {
		body, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 300)`))
		t.Fatalf("with vigie out of reach the page says %q: %v", body, err)
	}
	if err := chromedp.Do(bctx, chromedp.WaitVisible(`article[data-case="c-tests-000002"]`)); err != nil {
		t.Errorf("the list shown before is gone: %v", err)
	}
}
