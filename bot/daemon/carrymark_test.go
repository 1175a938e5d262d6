package daemon_test

import (
	"net/url"
	"sync"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestCarriedEndLostWithRedisNotDoneTwice: a CM presses Ban, and Telegram
// holds the ban open. Redis is frozen (SIGSTOP) meanwhile; the ban then
// goes through, and the vigie that carried it out keeps its end for Redis
// (it cannot write it there). That vigie is paused (SIGSTOP) before Redis
// returns: the other vigie takes the poller over, is handed the press, and
// has the claim once it ran out, with no end written on the case. The
// case says its decision was being carried out (the mark written before
// Telegram was asked), so the other asks Telegram whether the member is
// banned, finds them so, and does not ban again. Before, it found no end
// and banned the member a second time.
func TestCarriedEndLostWithRedisNotDoneTwice(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts two processes, freezes Redis and waits for a claim to run out")
	}
	tg := tgfake.New(t)
	tg.SetOwner(pressGroup, pressCM, false)
	gate := make(chan struct{})
	var once sync.Once
	open := func() { once.Do(func() { close(gate) }) }
	t.Cleanup(open)
	tg.SetTrouble(func(method string, p url.Values) (int, string, bool) {
		if method == "banChatMember" && p.Get("user_id") == "13" {
			<-gate
		}
		return 0, "", false
	})
	srv := redistest.Start(t)
	ins := startPressVigiesOn(t, tg, srv.URL(), "carrymark", 2)
	play := newPressPlay(t, tg, 4*handover)
	halCase, halCard := play.scam(13, "Hal")
	first := owner(t, "telegram", ins)
	second := ins[0]
	if second == first {
		second = ins[1]
	}
	play.press("cb-hal", halCase, halCard)
	tg.WaitFor("banChatMember", 1, nil)
	srv.Freeze()
	thawed := false
	defer func() {
		if !thawed {
			srv.Thaw()
		}
	}()
	open()
	play.waitFor(first.name+" keeping the ban's end for Redis", func() bool {
		// the second: after its end was tried on the case
		return first.logged("the case's cards do not show its decision", halCase) >= 2
	})
	first.pause(t)
	defer first.resume(t)
	srv.Thaw()
	thawed = true
	play.waitFor(second.name+" handed the press, and its claim", func() bool {
		if n := play.bans(13); n > 1 {
			t.Fatalf("Hal asked to be banned %d times, want once", n)
		}
		return second.logged("found done", halCase) > 0 || second.logged("carried out now", halCase) > 0 ||
			second.logged("banned now", halCase) > 0
	})
	if n := play.bans(13); n != 1 {
		t.Errorf("Hal asked to be banned %d times, want once", n)
	}
	if second.logged("the member is banned on the platform, found done", halCase) != 1 {
		t.Errorf("%s did not say it found Hal's ban done", second.name)
	}
	if t.Failed() {
		t.Logf("%s's logs:\n%s", first.name, first.logs)
		t.Logf("%s's logs:\n%s", second.name, second.logs)
	}
}
