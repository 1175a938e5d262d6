package daemon_test

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

const deleteTimeoutRules = `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete, timeout(10m)]
`

// timeoutBug is a platform whose timeouts panic (a bug in its client):
// its deletes are carried out.
type timeoutBug struct {
	chat
	timeouts atomic.Int32
}

func (p *timeoutBug) Timeout(context.Context, bot.Event, time.Duration) error {
	p.timeouts.Add(1)
	panic("a bug in the platform's client")
}

// TestDeferredCaseSaysWhatWasDone: a scam's delete is carried out and its
// timeout panics, each time vigie carries the verdict out (the first time,
// and twice from the journal, on Redis). Left unfinished three times, the
// verdict is left to the desk: its case says the delete was done and the
// timeout was not, rather than both not done.
func TestDeferredCaseSaysWhatWasDone(t *testing.T) {
	srv := redistest.Start(t)
	st := redistest.Open(t, srv.URL())
	p := &timeoutBug{chat: chat{name: "discord"}}
	clk := stepclock.New(time.Date(2026, 11, 18, 22, 0, 0, 0, time.UTC), stepclock.RecordCallers())
	in := start(t, deleteTimeoutRules, map[string]string{"VIGIE_REDIS_URL": srv.URL()}, onClock(clk), func(c *daemon.Config) {
		c.Connectors[0].Platforms = []bot.Platform{p}
	})
	in.feed.in <- bot.Event{ID: "m-1", Platform: "discord", Kind: bot.KindMessage, Space: "guild-1", Channel: "general",
		Author: bot.Author{ID: "u-7", Name: "Bob"}, Text: "FREE NITRO here", At: clk.Now()}
	// Each time the timeout panics, the journal's look past RecoverAfter
	// (2m, looked at every 30s) carries the verdict out again; after the
	// third, it leaves it to the desk. The clock is stepped only once the
	// verdict cut short is back in the journal: before, the journal's look
	// passes over it as still carried out here, and no other look comes.
	for tries := int32(1); tries <= 3; tries++ {
		testsync.Eventually(t, "the timeout tried", func() bool { return p.timeouts.Load() == tries })
		testsync.Eventually(t, "the verdict left in the journal", func() bool {
			return strings.Count(in.logs.String(), "verdict left in the journal, to be carried out again") == int(tries)
		})
		testsync.Eventually(t, "the journal's next look set", func() bool { return clk.Armed(30*time.Second, "(*daemon).runResume") })
		clk.Step(2*time.Minute + time.Second)
	}

	var open []store.Case
	testsync.Eventually(t, "the verdict's case", func() bool {
		var err error
		open, err = st.Cases(context.Background(), store.CaseOpen)
		return err == nil && len(open) > 0
	})
	c := open[0]
	timeout := bot.Action{Kind: bot.ActTimeout, Duration: 10 * time.Minute}
	want := "not carried out: left unfinished 3 times: would timeout(10m); done: delete"
	if len(open) != 1 || c.Reason != want || !slices.Equal(c.NotDone, []bot.Action{timeout}) || len(c.Suggested) != 2 {
		t.Errorf("cases = %+v\nwant one: %q, the timeout alone not done", open, want)
	}
	if n := p.timeouts.Load(); n != 3 {
		t.Errorf("%d timeouts tried, want 3", n)
	}
	if err := in.stop(); err != nil {
		t.Fatal(err)
	}
}
