package meta_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store/memory"
)

// A rule's ban(7d) on a Facebook commenter blocks them from the Page (Meta's
// blocks do not end by themselves) and vigie unblocks them with DELETE
// /{page-id}/blocked at the end, not before. It was refused before, and
// opened a case.
func TestPageTimedBanUnblockedAtItsEnd(t *testing.T) {
	h := newHarness(t, nil)
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st := memory.New()
	t.Cleanup(func() { _ = st.Close() })
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"facebook": h.c.Facebook()}, Store: st,
		Retry: handlers.Retry{Attempts: 1}, Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v := bot.Verdict{EventID: fbComment.ID, Platform: "facebook", At: fixedNow,
		Matches: []bot.Match{{Rule: "scam", Reason: "scam", Actions: []bot.Action{{Kind: bot.ActBan, Duration: 7 * 24 * time.Hour}}}}}
	if err := mod.Handle(ctx, fbComment, v); err != nil {
		t.Fatal(err)
	}
	calls := func(method string) []graphCall {
		var out []graphCall
		for _, c := range h.graph.Calls() {
			if c.Method == method && c.Path == "/"+pageID+"/blocked" {
				out = append(out, c)
			}
		}
		return out
	}
	if blocks := calls("POST"); len(blocks) != 1 || blocks[0].Params.Get("user") != `["6021345987654321"]` {
		t.Fatalf("blocks = %+v, want one of the commenter", blocks)
	}
	if cases, _ := st.Cases(ctx, "open"); len(cases) != 0 {
		t.Errorf("cases opened: %+v", cases)
	}
	mu.Lock()
	now = now.Add(7*24*time.Hour - time.Minute)
	mu.Unlock()
	if n, err := mod.LiftBans(ctx); n != 0 || err != nil || len(calls("DELETE")) != 0 {
		t.Fatalf("a minute early: LiftBans = %d, %v; unblocks %+v", n, err, calls("DELETE"))
	}
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	if n, err := mod.LiftBans(ctx); n != 1 || err != nil {
		t.Fatalf("LiftBans at the end = %d, %v", n, err)
	}
	if un := calls("DELETE"); len(un) != 1 || un[0].Params.Get("user") != "6021345987654321" {
		t.Errorf("unblocks = %+v, want one of the commenter", un)
	}
}
