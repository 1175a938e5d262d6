package meta_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestBanBookCheckedAgainstTheBlockedList: the periodic check of vigie's
// ban book against the Page's blocked list, read page by page (Meta's
// cursors) with our Graph client from the fake Graph, the book in a real
// Redis, on an injected clock. A member vigie blocked for a week whom a CM
// unblocked by hand in Meta's tools is forgotten by the book within the
// check, logged and audited; a CM who blocks them again by hand later is
// not unblocked by the end of vigie's old ban (before, the lift found them
// blocked and unblocked them). The members still blocked, and a Messenger
// sender the list cannot name, stay in the book; the list's read stops
// once every member of the book was seen in it.
func TestBanBookCheckedAgainstTheBlockedList(t *testing.T) {
	const member = "6021345987654321" // fbComment's author
	ctx := context.Background()
	setup := func(t *testing.T) (*harness, *handlers.Moderator, store.Store, func(time.Duration)) {
		h, mod, st, later := bookHarness(t, "metabook")
		// 250 people blocked by hand before: three pages of the list
		h.graph.mu.Lock()
		for i := range 250 {
			h.graph.blocked = append(h.graph.blocked, fmt.Sprint(5000000000000000+i))
		}
		h.graph.mu.Unlock()
		return h, mod, st, later
	}
	other := fbReply // another commenter, banned for good
	kept := func(t *testing.T, st store.Store, ev bot.Event) bool {
		t.Helper()
		_, ok, err := st.(store.BanKeeper).KeptBan(ctx, store.BanKey(ev))
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	reads := func(h *harness) int {
		h.graph.mu.Lock()
		defer h.graph.mu.Unlock()
		return h.graph.blockedReads
	}

	t.Run("unblocked by hand, then blocked again by hand", func(t *testing.T) {
		h, mod, st, later := setup(t)
		for _, b := range []struct {
			ev bot.Event
			d  time.Duration
		}{{fbComment, 7 * 24 * time.Hour}, {other, 0}, {fbDM, 24 * time.Hour}} {
			if err := mod.Handle(ctx, b.ev, banFor(b.ev, b.d)); err != nil {
				t.Fatal(err)
			}
		}
		later(time.Hour)
		h.graph.unblockByHand(member)
		h.graph.unblockByHand(fbDM.Author.ID)
		later(15 * time.Minute)
		n, err := mod.CheckBanBook(ctx)
		if n != 1 || err != nil {
			t.Fatalf("CheckBanBook = %d, %v, want 1, nil\n%s", n, err, h.logs.String())
		}
		if kept(t, st, fbComment) {
			t.Error("the book still keeps the ban of the member a CM unblocked by hand")
		}
		if !kept(t, st, other) {
			t.Error("the book forgot the ban of a member still blocked")
		}
		if !kept(t, st, fbDM) {
			t.Error("the book forgot the ban of a Messenger sender, whom the blocked list does not name")
		}
		if r := reads(h); r < 3 {
			t.Errorf("%d pages of the blocked list read, want the whole list's 3 (a member of the book is missing from it)", r)
		}
		audit, err := st.Audit(ctx, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		said := 0
		for _, e := range audit {
			for _, m := range e.Verdict.Matches {
				if strings.Contains(m.Reason, "unblocked by hand in Meta's tools") {
					said++
					if e.Event.Author.ID != member || m.Rule != "scam" {
						t.Errorf("audited for %s, rule %s", e.Event.Author.ID, m.Rule)
					}
				}
			}
		}
		if said != 1 {
			t.Errorf("%d audit entries say the member was unblocked by hand, want 1: %+v", said, audit)
		}
		if !strings.Contains(h.logs.String(), "unblocked by hand in Meta's tools") {
			t.Errorf("the log does not say it:\n%s", h.logs.String())
		}
		// A CM blocks the member again by hand; vigie's week ends.
		later(24 * time.Hour)
		h.graph.mu.Lock()
		h.graph.blocked = append(h.graph.blocked, member)
		h.graph.mu.Unlock()
		later(7 * 24 * time.Hour)
		if _, err := mod.LiftBans(ctx); err != nil {
			t.Fatal(err)
		}
		if !h.graph.isBlocked(member) {
			t.Error("the CM's block by hand was lifted at the end of vigie's ban, which they had lifted by hand before")
		}
		// the next check finds nothing more to forget
		if n, err := mod.CheckBanBook(ctx); n != 0 || err != nil {
			t.Errorf("CheckBanBook again = %d, %v, want 0, nil", n, err)
		}
	})

	t.Run("everyone of the book still blocked", func(t *testing.T) {
		h, mod, st, later := setup(t)
		if err := mod.Handle(ctx, fbComment, banFor(fbComment, 7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		// the member is first in the list: the read stops at the first page
		h.graph.mu.Lock()
		h.graph.blocked = append([]string{member}, h.graph.blocked[:len(h.graph.blocked)-1]...)
		h.graph.mu.Unlock()
		later(15 * time.Minute)
		if n, err := mod.CheckBanBook(ctx); n != 0 || err != nil {
			t.Fatalf("CheckBanBook = %d, %v, want 0, nil", n, err)
		}
		if !kept(t, st, fbComment) {
			t.Error("the book forgot a ban still on")
		}
		if r := reads(h); r != 1 {
			t.Errorf("%d pages of the blocked list read, want 1: every member of the book was on the first", r)
		}
	})

	t.Run("the blocked list refused", func(t *testing.T) {
		h, mod, st, later := setup(t)
		if err := mod.Handle(ctx, fbComment, banFor(fbComment, 7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		h.graph.unblockByHand(member)
		refusal := graphErrorJSON(200, 0, "OAuthException", "(#200) Permissions error")
		for range 2 {
			h.graph.failNext("GET", "/"+pageID+"/blocked", 403, refusal, nil)
			later(15 * time.Minute)
			if n, err := mod.CheckBanBook(ctx); n != 0 || err != nil {
				t.Fatalf("CheckBanBook = %d, %v, want 0, nil", n, err)
			}
		}
		if !kept(t, st, fbComment) {
			t.Error("the book forgot a ban though the blocked list could not be read")
		}
		if n := strings.Count(h.logs.String(), "the list of bans not read"); n != 1 {
			t.Errorf("the refusal said %d times in two checks, want once:\n%s", n, h.logs.String())
		}
		// read again: the ban is forgotten
		later(15 * time.Minute)
		if n, err := mod.CheckBanBook(ctx); n != 1 || err != nil {
			t.Errorf("CheckBanBook once the list is read = %d, %v, want 1, nil", n, err)
		}
	})

	t.Run("the member's own read says blocked", func(t *testing.T) {
		h, mod, st, later := setup(t)
		if err := mod.Handle(ctx, fbComment, banFor(fbComment, 7*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
		h.graph.unblockByHand(member)
		// the list leaves the member out, the member's own read (user=)
		// says blocked: a CM blocked them again meanwhile
		h.graph.mu.Lock()
		h.graph.hideFromList = member
		h.graph.blocked = append(h.graph.blocked, member)
		h.graph.mu.Unlock()
		later(15 * time.Minute)
		if n, err := mod.CheckBanBook(ctx); n != 0 || err != nil {
			t.Fatalf("CheckBanBook = %d, %v, want 0, nil", n, err)
		}
		if !kept(t, st, fbComment) {
			t.Error("the book forgot a ban the member's own read says is on")
		}
	})
}

// bookHarness is a harness with handlers that keep their ban book in a real
// Redis (under prefix) and log to the harness's logs, on a clock that
// stands at fixedNow until later moves it on.
func bookHarness(t *testing.T, prefix string) (*harness, *handlers.Moderator, store.Store, func(time.Duration)) {
	t.Helper()
	h := newHarness(t, nil)
	var mu sync.Mutex
	now := fixedNow
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	st, err := redis.Open(redistest.URL(t), redis.WithPrefix(redistest.Prefix(prefix)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	mod, err := handlers.New(handlers.Options{Platforms: map[string]bot.Platform{"facebook": h.c.Facebook()}, Store: st,
		Retry: handlers.Retry{Attempts: 1}, Now: clock, Logger: testsync.Logger(h.logs)})
	if err != nil {
		t.Fatal(err)
	}
	later := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	return h, mod, st, later
}

// banFor is the verdict of the rule "scam" on ev: its author banned for d
// (0: for good).
func banFor(ev bot.Event, d time.Duration) bot.Verdict {
	return bot.Verdict{EventID: ev.ID, Platform: "facebook", At: fixedNow,
		Matches: []bot.Match{{Rule: "scam", Reason: "scam", Actions: []bot.Action{{Kind: bot.ActBan, Duration: d}}}}}
}
