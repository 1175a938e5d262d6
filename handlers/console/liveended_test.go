package console_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// nextEvent reads the stream up to its next event and returns its name.
func nextEvent(t *testing.T, sc *bufio.Scanner) string {
	t.Helper()
	for sc.Scan() {
		if name, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
			return name
		}
	}
	return "(the stream ended: " + sc.Err().Error() + ")"
}

// TestLiveQueueEndsWithTheSession: the live view's stream of a session
// that ends (here a new password) says so and ends, rather than go on
// telling a copy of the cookie when the queue changes; the list it would
// fetch is refused with 401, not sent to the login page.
func TestLiveQueueEndsWithTheSession(t *testing.T) {
	ctx := context.Background()
	st := memory.New(memory.WithCaseEpoch("tests"))
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	if err := st.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	open := func(id string) {
		t.Helper()
		ev := bot.Event{ID: id, Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c", Author: bot.Author{ID: "u-" + id}, Text: "free nitro", At: at}
		if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Opened: at}); err != nil {
			t.Fatal(err)
		}
	}
	open("m1")
	con := console.New(console.Options{Store: st, Accounts: st, Now: func() time.Time { return at }, Poll: 10 * time.Millisecond,
		Outcomes: func(bot.Event) []bot.ActionKind { return nil }})
	t.Cleanup(con.Close)
	routes := con.Routes()
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	session := login(t, routes, "ann", "correct horse")

	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/queue/live", nil)
	req.AddCookie(session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if e := nextEvent(t, sc); e != "queue" {
		t.Fatalf("the stream's first event: %s, want queue", e)
	}
	if err := st.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("another horse")}); err != nil {
		t.Fatal(err)
	}
	open("m2")
	if e := nextEvent(t, sc); e != "ended" {
		t.Errorf("the stream's event after the session ended: %s, want ended", e)
	}
	if w := get(routes, "GET /queue", "/queue?part=list", session); w.Code != http.StatusUnauthorized {
		t.Errorf("the live view's list in an ended session: %d, want 401", w.Code)
	}
	if w := get(routes, "GET /queue", "/queue", session); w.Code != http.StatusSeeOther {
		t.Errorf("the queue page in an ended session: %d, want a redirect to log in", w.Code)
	}
}

// TestQueuePageGoesToLoginWhenTheSessionEnds: a queue left open in the
// browser goes to the login page by itself when its session ends (here a
// new password), rather than say it is not up to date, or show the login
// page in place of the list.
func TestQueuePageGoesToLoginWhenTheSessionEnds(t *testing.T) {
	n := newRaidNight(t, 3)
	ctx := browser(t, false)
	n.logIn(t, ctx)
	if err := n.st.PutAccount(context.Background(), store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("another horse")}); err != nil {
		t.Fatal(err)
	}
	// The page goes by itself (a navigation ends a poll under way).
	_, err := pollAcross[bool](ctx, `location.pathname === "/login" && !!document.querySelector("input[name=name]")`)
	if err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " " + document.body.innerText.slice(0, 300)`))
		t.Fatalf("the page after the session ended: %s (%v)", body, err)
	}
	shot(t, ctx, "queue-session-ended", false)
}
