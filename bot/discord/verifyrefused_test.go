package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestVerifyRefusedToldOnceInAJoinRaid: a join raid in a server where vigie
// may not time members out. Each member's hold is refused alike, each is
// logged and audited, and the desk hears of it once, saying the next are
// not told there, rather than a message a member that would hold the desk
// channel (and the asks behind it) at Discord's pace. Ten minutes on, a
// refusal is told again: the CMs learn it goes on.
func TestVerifyRefusedToldOnceInAJoinRaid(t *testing.T) {
	f, _, _, clock, out, logs := newVerifyClient(t, "")
	const n = 6
	f.Fail("PATCH", "/guilds/"+guildID+"/members/", 403, `{"message": "Missing Permissions", "code": 50013}`, nil, n+1)
	for i := range n {
		f.Dispatch("GUILD_MEMBER_ADD", memberObject(raider(i), nil, t0))
		<-out
	}
	testsync.Eventually(t, "each hold refused and logged", func() bool {
		return strings.Count(logs.String(), "could not hold the new member") >= n
	})
	told := func() int { return deskMessages(f, "could not hold the new member") }
	testsync.Eventually(t, "the desk told", func() bool { return told() >= 1 })
	if got := told(); got != 1 {
		t.Errorf("the desk was told %d times of %d holds refused for one missing permission, want once", got, n)
	}
	if got := strings.Count(logs.String(), `could not hold the new member`); got != n {
		t.Errorf("%d holds refused logged, want %d", got, n)
	}

	clock.add(11 * time.Minute)
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(raider(n), nil, t0))
	<-out
	testsync.Eventually(t, "a refusal ten minutes on told again", func() bool { return told() == 2 })
}
