package daemon_test

import (
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// pressKillRules forwards the scams to the desk, where a CM decides them.
const pressKillRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [forward("scam")]
`

// TestPressKilledMidWork: a CM presses Ban on a case's card, and the
// process that polls is SIGKILLed while the work is under way. First with
// Telegram's ban in flight (the case decided, the member not banned yet,
// the CM told it is still being tried): the next poller takes the press
// from the inbox, bans the member and the card shows the decision. Then with the ban done and the card's edit in
// flight: the next poller shows the decision on the card and does not ban
// again. Neither press is answered twice (answerCallbackQuery), and the CM
// is never told the case was decided already. Before, the press left the
// inbox as it was taken off the updates' loop: the first member was never
// banned, the case decided all the same.
func TestPressKilledMidWork(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("starts three processes")
	}
	tg := tgfake.New(t)
	tg.SetOwner(pressGroup, pressCM, false)
	// held is the Bot API method that hangs (until the caller is killed).
	var held atomic.Value
	held.Store("")
	tg.SetTrouble(func(method string, _ url.Values) (int, string, bool) {
		return 0, "", method == held.Load().(string)
	})
	ins := startPressVigies(t, tg, "presskill", 3)
	// The decision killed with the lock of the member held waits for the
	// lock to run out (redis.MemberLockTTL) before it bans.
	play := newPressPlay(t, tg, 3*handover)
	waitFor, scam, press, bans, shown := play.waitFor, play.scam, play.press, play.bans, play.shown
	answers := func(id string) int {
		return tg.Count("answerCallbackQuery", func(c tgfake.Call) bool { return c.Params.Get("callback_query_id") == id })
	}
	killOwner := func() *vigieProcess {
		t.Helper()
		o := owner(t, "telegram", ins)
		o.kill()
		held.Store("")
		if next := owner(t, "telegram", ins); next == o {
			t.Fatal("the killed process still owns the poller")
		}
		return o
	}

	// Killed with the ban in flight, after the CM was told it is still
	// being tried (the decision goes on in the background).
	eveCase, eveCard := scam(7, "Eve")
	held.Store("banChatMember")
	press("cb-eve", eveCase, eveCard)
	tg.WaitFor("banChatMember", 1, nil)
	tg.WaitFor("sendMessage", 1, func(c tgfake.Call) bool { return strings.Contains(c.Params.Get("text"), "still being tried") })
	killOwner()
	waitFor("Eve banned by the next poller", func() bool { return bans(7) == 2 }) // the one killed, then the one done
	waitFor("Eve's card showing the ban", func() bool { return shown(eveCard) })

	// Killed with the ban done and the card's edit in flight.
	frankCase, frankCard := scam(9, "Frank")
	held.Store("editMessageText")
	press("cb-frank", frankCase, frankCard)
	tg.WaitFor("editMessageText", 1, func(c tgfake.Call) bool { return c.Params.Get("message_id") == strconv.Itoa(frankCard) })
	if n := bans(9); n != 1 {
		t.Fatalf("Frank banned %d times before the kill, want once", n)
	}
	killOwner()
	waitFor("Frank's card showing the ban", func() bool { return shown(frankCard) })

	if n := bans(9); n != 1 {
		t.Errorf("Frank banned %d times, want once: the ban done before the kill is done again", n)
	}
	if n := bans(7); n != 2 {
		t.Errorf("Eve asked to be banned %d times, want twice (the call killed, then the one done)", n)
	}
	for _, id := range []string{"cb-eve", "cb-frank"} {
		if n := answers(id); n != 1 {
			t.Errorf("press %s answered %d times, want once", id, n)
		}
	}
	for _, c := range tg.CallsOf("sendMessage") {
		if text := c.Params.Get("text"); strings.Contains(text, "already decided") {
			t.Errorf("the CM was told: %q", text)
		}
	}
}
