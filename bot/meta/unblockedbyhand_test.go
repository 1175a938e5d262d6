package meta_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
)

// TestPageBlocksReadBack: the Page's blocked list (GET /{page-id}/blocked)
// is what vigie's ban book is checked against, with a real Redis keeping
// the book. A member vigie blocked for a time and a CM unblocked by hand in
// Meta's tools is not unblocked again at the ban's end, and the book forgets
// the ban, saying it was lifted already; a member a CM blocked by hand is
// not given a timed ban that vigie would lift, unblocking them early; and a
// member the book says is blocked for good but whom a CM unblocked is
// blocked again by the next ban, not left unblocked for a ban the book
// alone keeps.
func TestPageBlocksReadBack(t *testing.T) {
	const member = "6021345987654321" // fbComment's author
	ban := func(d time.Duration) bot.Verdict { return banFor(fbComment, d) }
	setup := func(t *testing.T) (*harness, *handlers.Moderator, store.Store, func(time.Duration)) {
		return bookHarness(t, "metablocks")
	}
	calls := func(h *harness, method string) int {
		n := 0
		for _, c := range h.graph.Calls() {
			if c.Method == method && c.Path == "/"+pageID+"/blocked" {
				n++
			}
		}
		return n
	}
	ctx := context.Background()

	t.Run("unblocked by hand before the end", func(t *testing.T) {
		h, mod, st, later := setup(t)
		if err := mod.Handle(ctx, fbComment, ban(7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if !h.graph.isBlocked(member) {
			t.Fatal("the member was not blocked")
		}
		h.graph.unblockByHand(member)
		later(7 * 24 * time.Hour)
		if n, err := mod.LiftBans(ctx); n != 1 || err != nil {
			t.Fatalf("LiftBans = %d, %v, want 1, nil", n, err)
		}
		if n := calls(h, "DELETE"); n != 0 {
			t.Errorf("%d unblocks of a member unblocked by hand already, want none", n)
		}
		if _, kept, err := st.(store.BanKeeper).KeptBan(ctx, store.BanKey(fbComment)); err != nil || kept {
			t.Errorf("the book still keeps the ban (%v, %v)", kept, err)
		}
		audit, err := st.Audit(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		said := false
		for _, e := range audit {
			for _, m := range e.Verdict.Matches {
				said = said || strings.Contains(m.Reason, "lifted already")
			}
		}
		if !said {
			t.Errorf("the audit does not say the ban was lifted already: %+v", audit)
		}
		if cs, _ := st.Cases(ctx, store.CaseOpen); len(cs) != 0 {
			t.Errorf("cases opened: %+v", cs)
		}
	})

	t.Run("blocked by hand, then a rule's timed ban", func(t *testing.T) {
		h, mod, _, later := setup(t)
		h.graph.mu.Lock()
		h.graph.blocked = append(h.graph.blocked, member)
		h.graph.mu.Unlock()
		if err := mod.Handle(ctx, fbComment, ban(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		later(24 * time.Hour)
		if _, err := mod.LiftBans(ctx); err != nil {
			t.Fatal(err)
		}
		if !h.graph.isBlocked(member) {
			t.Errorf("the CM's block was lifted by the end of a rule's shorter ban")
		}
	})

	t.Run("the book says for good, the Page was unblocked by hand", func(t *testing.T) {
		h, mod, _, later := setup(t)
		if err := mod.Handle(ctx, fbComment, ban(0)); err != nil {
			t.Fatal(err)
		}
		h.graph.unblockByHand(member)
		later(time.Hour)
		again := fbComment
		again.ID, again.At = "987654321098765_1122334455667799", fixedNow.Add(time.Hour)
		v := ban(24 * time.Hour)
		v.EventID = again.ID
		if err := mod.Handle(ctx, again, v); err != nil {
			t.Fatal(err)
		}
		if !h.graph.isBlocked(member) {
			t.Errorf("the member is not blocked after a ban: the book's ban for good, which a CM lifted, kept vigie from blocking")
		}
	})
}

// TestUnblockWhenTheBlockedListIsRefused: Meta will not show the Page's
// blocked list (a permission missing, a member not visible): the unblock is
// asked as before, rather than left undone on a read that said nothing.
func TestUnblockWhenTheBlockedListIsRefused(t *testing.T) {
	for _, refusal := range []string{
		graphErrorJSON(200, 0, "OAuthException", "(#200) Permissions error"),
		graphErrorJSON(210, 0, "OAuthException", "(#210) User not visible"),
	} {
		h := newHarness(t, nil)
		h.graph.blocked = []string{"6021345987654321"}
		h.graph.failNext("GET", "/"+pageID+"/blocked", 403, refusal, nil)
		if err := h.c.Facebook().Unban(context.Background(), fbComment); err != nil {
			t.Fatalf("unban = %v", err)
		}
		if h.graph.isBlocked("6021345987654321") {
			t.Errorf("the member is still blocked after the unban, the blocked list refused with %s", refusal)
		}
	}
}
