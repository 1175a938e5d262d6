package console_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
)

// redisServer starts a redis-server of its own on a free loopback port,
// for the test to stop when it wants the store gone; stop is idempotent.
func redisServer(t *testing.T) (url string, stop func()) {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("no redis-server on PATH")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	stop = func() {
		if !stopped {
			stopped = true
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", l.Addr().String()); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis-server did not start")
		}
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0?dial_timeout=1s&max_retries=0", port), stop
}

// TestStoreDownMidDecision: the store goes away while the CM has the queue
// open; the button pressed then says that nothing was done and why, rather
// than that the session had ended (it had not: logging in again cannot help).
func TestStoreDownMidDecision(t *testing.T) {
	url, stop := redisServer(t)
	st, err := redis.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	at := time.Now().Truncate(time.Second)
	ev := bot.Event{ID: "m1", Platform: "discord", Channel: "general", Author: bot.Author{ID: "u1", Name: "Bob"}, Text: "free nitro", At: at}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Reason: "scam", Opened: at}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutAccount(ctx, store.Account{Name: "ann", Role: console.RoleModerator, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	con := console.New(console.Options{Store: st, Accounts: st,
		Decide: func(ctx context.Context, id, outcome, by string) (store.Case, error) {
			return st.DecideCase(ctx, id, outcome, by, at)
		},
		Outcomes: func(string) []bot.ActionKind { return []bot.ActionKind{bot.ActDelete} }})
	t.Cleanup(con.Close)
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	n := &raidNight{srv: srv}
	bctx := browser(t, true)
	n.logIn(t, bctx)
	stop()
	if err := chromedp.Do(bctx, chromedp.Click(`article[data-case="c-000001"] button[data-outcome="delete"]`),
		chromedp.WaitNotPresent(`article[data-case="c-000001"]`)); err != nil {
		t.Fatal(err)
	}
	body, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('main').innerText.replace(/^vigie\s*/, '')`))
	if err != nil {
		t.Fatal(err)
	}
	shot(t, bctx, "phone-store-down", false)
	if !strings.HasPrefix(body, "Not done: c-000001 (delete) was not decided: the store does not answer") || strings.Contains(body, "session had ended") {
		t.Errorf("after pressing delete with the store gone the page says %q", body)
	}
}
