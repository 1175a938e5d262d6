package daemon_test

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// manualClock is a clock the test moves.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestJudgeStoppedBeforeItsJournal: the judge of an event that asks for a
// delete stops after the store marked its id seen and before its verdict
// was journaled (a panic here; a kill does the same to the store). A retry
// of the event within the pending hold is a duplicate, as it would be if
// the judge were still at work; a retry after it, on the same vigie with
// the memory store, on another vigie sharing Redis, is judged again and the
// delete carried out, once: a retry after that is a duplicate. An event
// whose judging ended, with nothing to journal or with its verdict carried
// out, is a duplicate after the hold as before.
func TestJudgeStoppedBeforeItsJournal(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testJudgeStopped(t, map[string]string{}, false) })
	t.Run("redis", func(t *testing.T) {
		srv := redistest.Start(t)
		testJudgeStopped(t, map[string]string{"VIGIE_REDIS_URL": srv.URL()}, true)
	})
}

func testJudgeStopped(t *testing.T, env map[string]string, shared bool) {
	const hold = 10 * time.Second
	clk := &manualClock{t: time.Now().UTC().Truncate(time.Second)}
	opts := func(c *daemon.Config) { c.Now, c.PendingHold = clk.now, hold }
	var stop atomic.Bool
	stop.Store(true)
	first := start(t, deleteAll, env, opts, func(c *daemon.Config) {
		daemon.AfterJudging(c, func(ev *bot.Event) {
			if ev.ID == "m-1" && stop.CompareAndSwap(true, false) {
				panic("stopped between the seen mark and the journal")
			}
		})
	})
	second := first
	if shared {
		second = start(t, deleteAll, env, opts)
	}
	event := func(id, text string) map[string]any {
		return map[string]any{"id": id, "platform": "discord", "kind": "message", "space": "guild-1", "channel": "general",
			"author": map[string]any{"id": "u-7", "name": "Bob"}, "text": text, "at": clk.now().Format(time.RFC3339)}
	}
	ev := event("m-1", "delete me")
	first.feed.in <- bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "delete me", At: clk.now()}
	testsync.Eventually(t, "the judge stopped", func() bool {
		return strings.Contains(first.logs.String(), "event not fully handled after a panic")
	})

	if v := second.post(t, ev); !v.Duplicate {
		t.Errorf("a retry within the hold = %+v, want a duplicate: its judge may still be at work", v)
	}
	clk.add(hold + time.Second)
	v := second.post(t, ev)
	if v.Duplicate || len(v.Matches) != 1 || v.Matches[0].Rule != "all" {
		t.Fatalf("a retry after the hold = %+v, want it judged again and matching all", v)
	}
	testsync.Eventually(t, "the delete carried out", func() bool {
		return slices.Contains(second.chat.Calls(), "delete m-1")
	})
	if v := second.post(t, ev); !v.Duplicate {
		t.Errorf("a retry once carried out = %+v, want a duplicate", v)
	}
	clk.add(time.Minute)
	if v := first.post(t, ev); !v.Duplicate {
		t.Errorf("a retry a minute after it was carried out = %+v, want a duplicate", v)
	}

	// Judged in full, with nothing to journal or carried out: duplicates
	// after the hold as before.
	for _, e := range []map[string]any{event("m-2", "hello"), event("m-3", "delete me")} {
		if v := first.post(t, e); v.Duplicate {
			t.Fatalf("%s first sent = %+v", e["id"], v)
		}
	}
	testsync.Eventually(t, "m-3 deleted", func() bool { return slices.Contains(first.chat.Calls(), "delete m-3") })
	clk.add(hold + time.Second)
	for _, e := range []map[string]any{event("m-2", "hello"), event("m-3", "delete me")} {
		if v := second.post(t, e); !v.Duplicate {
			t.Errorf("%s sent again after the hold = %+v, want a duplicate", e["id"], v)
		}
	}
	if n := metric(t, second, `vigie_journal_recovered_total{result="judged_again"}`); n != 1 {
		t.Errorf("judged_again = %v, want 1", n)
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	calls := first.chat.Calls()
	if shared {
		calls = append(calls, second.chat.Calls()...)
	}
	slices.Sort(calls)
	if want := []string{"delete m-1", "delete m-3"}; !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q: each delete once", calls, want)
	}
}
