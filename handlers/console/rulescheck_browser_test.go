package console_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestRulesCheckRefusedIsSaid: the editor checks the draft as the admin
// types; a check the console refuses (the session ended, at night, while
// the admin edited) is said under the editor, not left at "Checking…" for
// ever.
func TestRulesCheckRefusedIsSaid(t *testing.T) {
	st := memory.New()
	if err := st.PutAccount(context.Background(), store.Account{Name: "ada", Role: console.RoleAdmin, Hash: console.HashPassword("correct horse")}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(smallRules), 0o600); err != nil {
		t.Fatal(err)
	}
	// The browser keeps the session cookie until the machine's clock says
	// it expires: the console's clock is the machine's, moved by skew.
	var mu sync.Mutex
	var skew time.Duration
	con := console.New(console.Options{Store: st, Accounts: st,
		Now: func() time.Time {
			mu.Lock()
			defer mu.Unlock()
			return time.Now().Add(skew)
		},
		Rules: &console.RuleFile{Path: func() string { return file }, Reload: func(string) error { return nil },
			History: func(context.Context) ([]bot.Event, error) { return nil, nil }}})
	t.Cleanup(con.Close)
	mux := http.NewServeMux()
	for p, h := range con.Routes() {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	ctx := browser(t, false)
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/rules"),
		chromedp.WaitVisible(`input[name=name]`),
		chromedp.SendKeys(`input[name=name]`, "ada"),
		chromedp.SendKeys(`input[name=password]`, "correct horse"),
		chromedp.Click(`button[type=submit]`),
		chromedp.WaitVisible(`#draft`),
	); err != nil {
		t.Fatalf("log in to the rules page: %v", err)
	}
	// A check as the session lasts: the file loads.
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#draft`, "\n"), waitText(`#problems`, "The file loads.")); err != nil {
		said, _ := chromedp.Run(ctx, chromedp.Text(`#problems`))
		t.Fatalf("a check: the editor says %q: %v", said, err)
	}
	mu.Lock()
	skew = 13 * time.Hour // past the session's 12 hours
	mu.Unlock()
	if err := chromedp.Do(ctx, chromedp.SendKeys(`#draft`, "\n"), waitText(`#problems`, "Not checked: ")); err != nil {
		said, _ := chromedp.Run(ctx, chromedp.Text(`#problems`))
		t.Fatalf("a check refused: the editor says %q: %v", said, err)
	}
	if said, _ := chromedp.Run(ctx, chromedp.Text(`#problems`)); strings.TrimSpace(said) != "Not checked: log in first" {
		t.Errorf("the editor says %q", said)
	}
}

// waitText waits until the text of sel starts with prefix.
func waitText(sel, prefix string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		for {
			got, err := chromedp.Text(sel)(ctx, tg)
			if err == nil && strings.HasPrefix(strings.TrimSpace(got), prefix) {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
