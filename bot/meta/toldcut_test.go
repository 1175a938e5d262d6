package meta_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/stepclock"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestPageTokenEndToldAfterACut: an instance tells the desk that Meta
// refuses the page token a second time, and is cut from Redis, then
// stopped, the moment it has claimed the telling: before it could write
// anything else of the trouble. Another instance, started on the same
// Redis, finds the refusal told, then the token taken again for ten
// minutes: the desk hears of that end. When the claim of a state and the
// forgetting of the state before were two writes, the cut between them left
// the first end's record, and the second end went untold for an hour.
func TestPageTokenEndToldAfterACut(t *testing.T) {
	g := newFakeGraph(t)
	srv := redistest.Start(t)
	prefix := redistest.Prefix("told-cut")
	proxy := redistest.NewHangProxy(t, srv.Addr())
	d := &sharedDesk{clock: stepclock.New(fixedNow), logs: []*testsync.Buffer{{}, {}}}
	const (
		refused = "Meta refuses vigie's page token"
		taken   = "Meta takes vigie's page token again"
		eased   = "Meta takes the page token again: the desk is told once"
	)
	_, stopA := d.start(t, g, proxy.URL(), prefix, "a", d.logs[0])
	t.Cleanup(stopA)

	// A first trouble and its end, told by the first instance.
	g.expire(true)
	testsync.Eventually(t, "the refusal told", func() bool { return d.told(refused) == 1 })
	g.expire(false)
	testsync.Eventually(t, "the token taken again", func() bool { return d.logged(eased) >= 1 })
	d.clock.Step(11 * time.Minute)
	testsync.Eventually(t, "the end told", func() bool { return d.told(taken) == 1 })

	// Refused again: whatever the instance asks Redis after its claim (the
	// record of the end told, by name) is cut, and the instance stopped.
	proxy.HangAt([]byte("token " + pageID + " " + "taken"))
	g.expire(true)
	testsync.Eventually(t, "the second refusal told", func() bool { return d.told(refused) == 2 })
	stopA()

	_, stopB := d.start(t, g, srv.URL(), prefix, "b", d.logs[1])
	t.Cleanup(stopB)
	testsync.Eventually(t, "the other instance finding the refusal", func() bool {
		return strings.Contains(d.logs[1].String(), "Meta refuses the page token: another instance told the desk")
	})
	g.expire(false)
	testsync.Eventually(t, "the other instance finding the token taken", func() bool {
		return strings.Contains(d.logs[1].String(), eased)
	})
	d.clock.Step(11 * time.Minute)
	testsync.Eventually(t, "the other instance finding the trouble over", func() bool {
		return d.told(taken) == 2 || strings.Contains(d.logs[1].String(), "Meta takes the page token again: another instance told the desk")
	})
	if n := d.told(taken); n != 2 {
		t.Fatalf("the desk was told of the token taken again %d times, want 2 (the second end untold): logs:\n%s\n%s", n, d.logs[0], d.logs[1])
	}
	if n := d.told(refused); n != 2 {
		t.Errorf("the desk was told of the token refused %d times, want 2", n)
	}
}
