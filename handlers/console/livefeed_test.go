package console_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers/console"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/memory"
)

// countedStore is a memory store that counts the reads of all the open
// cases, the live views' looks.
type countedStore struct {
	*memory.Store
	looks atomic.Int32
}

func (s *countedStore) Cases(ctx context.Context, st store.CaseStatus) ([]store.Case, error) {
	s.looks.Add(1)
	return s.Store.Cases(ctx, st)
}

// TestLiveViewsShareOneLook: the open cases (up to 10,000 of them) are read
// once a poll for all the live views, not once per view: a viewer opening
// tabs does not multiply the store's work. One account keeps at most 16
// live views open; another account is not held back by it.
func TestLiveViewsShareOneLook(t *testing.T) {
	ctx := context.Background()
	st := &countedStore{Store: memory.New(memory.WithCaseEpoch("tests"))}
	at := time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC)
	for _, name := range []string{"vic", "ann"} {
		if err := st.PutAccount(ctx, store.Account{Name: name, Role: console.RoleViewer, Hash: console.HashPassword("correct horse")}); err != nil {
			t.Fatal(err)
		}
	}
	ev := bot.Event{ID: "m1", Platform: "discord", Kind: bot.KindMessage, Space: "g", Channel: "c", Author: bot.Author{ID: "u1"}, Text: "free nitro", At: at}
	if _, err := st.OpenCase(ctx, store.Case{Event: ev, Rule: "scam", Opened: at}); err != nil {
		t.Fatal(err)
	}
	// A poll of an hour: the looks the test sees are those the views'
	// opening asked for.
	con := console.New(console.Options{Store: st, Accounts: st.Store, Now: func() time.Time { return at }, Poll: time.Hour,
		Outcomes: func(bot.Event) []bot.ActionKind { return nil }})
	t.Cleanup(con.Close)
	routes := con.Routes()
	mux := http.NewServeMux()
	for p, h := range routes {
		mux.Handle(p, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	vic := login(t, routes, "vic", "correct horse")
	view := func(session *http.Cookie) *http.Response {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/queue/live", nil)
		req.AddCookie(session)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	before := st.looks.Load()
	for i := range 16 {
		resp := view(vic)
		if e := nextEvent(t, bufio.NewScanner(resp.Body)); e != "queue" {
			t.Fatalf("view %d's first event: %s, want queue", i+1, e)
		}
	}
	if n := st.looks.Load() - before; n != 1 {
		t.Errorf("16 live views read the open cases %d times, want once", n)
	}
	if resp := view(vic); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("vic's 17th live view: %d, want 429", resp.StatusCode)
	}
	resp := view(login(t, routes, "ann", "correct horse"))
	if e := nextEvent(t, bufio.NewScanner(resp.Body)); resp.StatusCode != http.StatusOK || e != "queue" {
		t.Errorf("ann's live view beside vic's 16: %d, first event %s", resp.StatusCode, e)
	}
}
