package telegram

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestVerifyRefusedToldOnceInAJoinRaid: a join raid in a group where vigie
// may not restrict members. Each member's hold is refused alike, each is
// logged and audited, and the desk hears of it once, saying the next are not
// told there, rather than a message a member at Telegram's pace in the desk
// chat. Ten minutes on, a refusal is told again.
func TestVerifyRefusedToldOnceInAJoinRaid(t *testing.T) {
	f, _, _, clock, out, logs := newVerifyClient(t)
	const n = 6
	raiders := make([]tgUser, n+1)
	for i := range raiders {
		raiders[i] = tgUser{id: int64(9000 + i), first: "Raider"}
		f.fail("restrictChatMember", 400, "Bad Request: not enough rights to restrict/unrestrict chat member", 0)
	}
	told := func() int {
		got := 0
		for _, c := range f.callsOf("sendMessage") {
			if inChat(deskChat.id)(c) && strings.Contains(c.Params.Get("text"), "could not hold the new member") {
				got++
			}
		}
		return got
	}
	for _, r := range raiders[:n] {
		f.push(joins(r, t0))
		<-out
	}
	testsync.Eventually(t, "each hold refused and logged", func() bool {
		return strings.Count(logs.String(), "could not hold the new member") >= n
	})
	testsync.Eventually(t, "the desk told", func() bool { return told() >= 1 })
	if got := told(); got != 1 {
		t.Errorf("the desk was told %d times of %d holds refused for one missing right, want once", got, n)
	}

	clock.add(11 * time.Minute)
	f.push(joins(raiders[n], t0))
	<-out
	testsync.Eventually(t, "a refusal ten minutes on told again", func() bool { return told() == 2 })
}
