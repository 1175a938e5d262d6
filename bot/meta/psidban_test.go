package meta_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestMessengerBanLiftedByPSID: the end of a Messenger sender's timed ban,
// read back from the book (which keeps who and where, not the message's
// kind), unblocks them by page-scoped id, as they were blocked, not as a
// commenter's user id; nor is the blocked list asked about them by user.
func TestMessengerBanLiftedByPSID(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, nil)
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st, err := redis.Open(redistest.URL(t), redis.WithPrefix(redistest.Prefix("metapsid")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"facebook": h.c.Facebook()}, Store: st,
		Retry: handlers.Retry{Attempts: 1}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	v := bot.Verdict{EventID: fbDM.ID, Platform: "facebook", At: fixedNow,
		Matches: []bot.Match{{Rule: "scam", Reason: "scam", Actions: []bot.Action{{Kind: bot.ActBan, Duration: 24 * time.Hour}}}}}
	if err := mod.Handle(ctx, fbDM, v); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(24 * time.Hour)
	mu.Unlock()
	if n, err := mod.LiftBans(ctx); n != 1 || err != nil {
		t.Fatalf("LiftBans = %d, %v, want 1, nil", n, err)
	}
	for _, c := range h.graph.Calls() {
		if c.Path == "/"+pageID+"/blocked" && (c.Params.Has("user") || !c.Params.Has("psid")) && c.Method != "GET" {
			t.Errorf("%s %s with %v: a Messenger sender is named by psid", c.Method, c.Path, c.Params)
		}
		if c.Path == "/"+pageID+"/blocked" && c.Method == "GET" && c.Params.Get("user") == fbDM.Author.ID {
			t.Errorf("the blocked list asked about a Messenger sender as a user: %v", c.Params)
		}
	}
}
