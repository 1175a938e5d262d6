package daemon_test

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestPendingMarkSettledAfterAnOutage: Redis stops (killed, its data kept
// on disk) between the pending mark of an event's id, written there, and
// its journal entry, which would settle it; or before the event came, which
// is then judged from memory alone. The delete is carried out from memory,
// and once Redis runs again the mark is settled there too. A retry of the
// event after the hold, on another vigie sharing Redis, is a duplicate.
// Before, the mark stayed pending in Redis for the 72 hours of the
// duplicate check, or Redis never heard of the id, and any retry past the
// hold (a webhook delivered again, a catch-up, an inbox handed on after the
// outage) was judged again and deleted the message a second time.
func TestPendingMarkSettledAfterAnOutage(t *testing.T) {
	t.Run("between the mark and the entry", func(t *testing.T) { testSettledAfterOutage(t, true) })
	t.Run("judged from memory", func(t *testing.T) { testSettledAfterOutage(t, false) })
}

func testSettledAfterOutage(t *testing.T, marked bool) {
	// Redis keeps its data across a restart, as one with an AOF does.
	srv := redistest.Start(t, "--appendonly", "yes", "--appendfsync", "always")
	env := map[string]string{"VIGIE_REDIS_URL": srv.URL()}
	const hold = 10 * time.Second
	clk := &manualClock{t: time.Now().UTC().Truncate(time.Second)}
	opts := func(c *daemon.Config) { c.Now, c.PendingHold = clk.now, hold }
	var stopped atomic.Bool
	first := start(t, deleteAll, env, opts, func(c *daemon.Config) {
		daemon.AfterJudging(c, func(ev *bot.Event) {
			if marked && ev.ID == "m-1" && stopped.CompareAndSwap(false, true) {
				srv.Stop() // the mark written, the journal entry not yet
			}
		})
	})
	second := start(t, deleteAll, env, opts)
	if !marked {
		srv.Stop()
	}
	ev := map[string]any{"id": "m-1", "platform": "discord", "kind": "message", "space": "guild-1", "channel": "general",
		"author": map[string]any{"id": "u-7", "name": "Bob"}, "text": "delete me", "at": clk.now().Format(time.RFC3339)}

	first.feed.in <- bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "delete me", At: clk.now()}
	testsync.Eventually(t, "the delete carried out with Redis stopped", func() bool {
		return slices.Contains(first.chat.Calls(), "delete m-1")
	})
	testsync.Eventually(t, "the outage known", func() bool { return metric(t, first, "vigie_store_degraded") == 1 })
	srv.Restart()
	testsync.Eventually(t, "vigie_store_degraded 0", func() bool { return metric(t, first, "vigie_store_degraded") == 0 })
	testsync.Eventually(t, "vigie_store_buffered 0", func() bool { return metric(t, first, "vigie_store_buffered") == 0 })
	// The second vigie may have met the outage too (its leases asked
	// then): the retry is sent once Redis runs again for it, not while it
	// still judges from memory, which knows nothing of the first's events.
	testsync.Eventually(t, "the second vigie back on Redis", func() bool { return metric(t, second, "vigie_store_degraded") == 0 })

	clk.add(hold + time.Second)
	if v := second.post(t, ev); !v.Duplicate {
		t.Errorf("a retry after the hold, once Redis ran again = %+v, want a duplicate: it was carried out", v)
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	calls := append(first.chat.Calls(), second.chat.Calls()...)
	if want := []string{"delete m-1"}; !slices.Equal(calls, want) {
		t.Errorf("calls = %q, want %q: the delete once", calls, want)
	}
}

// TestForgedEventPostedAgainIsADuplicate: an event posted over HTTP about a
// platform whose connector is on, which the rule file does not let act
// there (it may be forged), has its delete withheld: nothing to journal, so
// its mark is never settled. Posted again after the pending hold, it is a
// duplicate, as any event judged in full. Before, it was judged again each
// time, logged as a judge that stopped before its journal entry and counted
// in vigie_journal_recovered_total{result="judged_again"}: an alarm anyone
// who can post could raise at will.
func TestForgedEventPostedAgainIsADuplicate(t *testing.T) {
	const hold = 10 * time.Second
	const rules = `timezone: UTC
rules:
  - name: all
    when: 'text == "delete me"'
    do: [delete]
`
	clk := &manualClock{t: time.Now().UTC().Truncate(time.Second)}
	in := start(t, rules, map[string]string{}, func(c *daemon.Config) { c.Now, c.PendingHold = clk.now, hold })
	ev := map[string]any{"id": "m-9", "platform": "discord", "kind": "message", "space": "guild-1", "channel": "general",
		"author": map[string]any{"id": "u-7", "name": "Bob"}, "text": "delete me", "at": clk.now().Format(time.RFC3339)}
	if v := in.post(t, ev); v.Duplicate || v.Withheld == "" {
		t.Fatalf("first posted = %+v, want judged, its delete withheld", v)
	}
	clk.add(hold + time.Second)
	if v := in.post(t, ev); !v.Duplicate {
		t.Errorf("posted again after the hold = %+v, want a duplicate", v)
	}
	if n := metric(t, in, `vigie_journal_recovered_total{result="judged_again"}`); n != 0 {
		t.Errorf("judged_again = %v, want 0", n)
	}
	if strings.Contains(in.logs.String(), "event judged again") {
		t.Errorf("the forged event posted again is logged as judged again:\n%s", in.logs)
	}
	if calls := in.chat.Calls(); len(calls) != 0 {
		t.Errorf("calls = %q, want none", calls)
	}
}
