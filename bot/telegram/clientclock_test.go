package telegram

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/stepclock"
)

// TestWindowsOnTheClientsClock: what the client trusts for a while, and
// whom it tells only once in a while, is timed on its clock (Config.Now,
// the daemon's), not the wall clock: an admin list is looked up again once
// adminTTL passed, a linked channel asked again linkedRetry after a failed
// getChat, a title nameAskAgain after Telegram gave nothing, a stranger told
// of a refusal or of a busy desk again after refusalGap, the moved basic
// groups asked about again after askGap; an update taken is dated on it.
func TestWindowsOnTheClientsClock(t *testing.T) {
	f := newFakeBotAPI(t)
	f.setAdmins(group.id, carol.id)
	start := time.Unix(1_700_000_000, 0)
	clock := stepclock.New(start)
	c, _ := newTestClient(t, f, Config{Chats: []int64{group.id}, Now: clock.Now})

	knowAdmins(t, c, group.id)
	if _, _, due := c.admins.get(group.id, 0); due {
		t.Error("an admin list just looked up is due again")
	}
	c.linked.failed(group.id)
	if !c.dir.mayAsk("chat") {
		t.Error("a title never asked may not be asked")
	}
	if !c.refused.first(group.id, bob.id) || !c.busyTold.first(group.id, bob.id) {
		t.Error("a stranger never told is not told")
	}
	const unknown = -1009999999999 // a supergroup vigie does not know
	if !c.moved.dueFor(unknown) {
		t.Error("the first update of a supergroup vigie does not know asks nothing")
	}

	clock.Step(30 * time.Second)
	if !c.linked.mayAsk(group.id) {
		t.Errorf("a linked channel is not asked again %s after a failed getChat", linkedRetry)
	}
	clock.Step(10 * time.Minute)
	if !c.moved.dueFor(unknown) {
		t.Errorf("the moved groups are not asked about again after %s", askGap)
	}
	if _, _, due := c.admins.get(group.id, 0); !due {
		t.Errorf("an admin list looked up 10m30s ago is not due again (kept %s)", adminTTL)
	}
	if !c.dir.mayAsk("chat") {
		t.Errorf("a title is not asked again %s after Telegram gave nothing", nameAskAgain)
	}
	if !c.refused.first(group.id, bob.id) {
		t.Errorf("a stranger is not told of a refusal again after %s", refusalGap)
	}
	if !c.busyTold.first(group.id, bob.id) {
		t.Errorf("a stranger is not told of a busy desk again after %s", refusalGap)
	}
	if got, want := c.inboxNow(), start.Add(10*time.Minute+30*time.Second); !got.Equal(want) {
		t.Errorf("an update taken now is dated %v, want %v", got, want)
	}
}
