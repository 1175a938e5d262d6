package daemon_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

const discordBanRules = `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: [delete, ban]
`

// TestBusyMemberVerdictsFolded: a raider's lock is held (another
// instance's ban of them) as they post scam after scam, and once it is
// let go Discord's ban endpoint hangs on their first verdict's ban. Their
// first verdict waits apart, in their lane; the later ones are folded into
// its ban: their messages deleted at once, while the lock is held and then
// while the ban hangs, no ban of theirs asked, counted and logged once.
// Before, each waited in the raider's lane for its own ban's turn, its
// message left up, the lane holding a verdict per scam.
func TestBusyMemberVerdictsFolded(t *testing.T) {
	w := discordOnRedis(t, discordBanRules, 192_000_000_000)
	guild, channel, f, in := w.guild, w.channel, w.f, w.in

	const raider = "600000000000000009"
	unlock := w.holdLock(t, raider)
	defer unlock()
	banPath := "/guilds/" + guild + "/bans/" + raider
	release := f.Hold(func(c discordfake.Call) bool { return c.Method == "PUT" && c.Path == banPath })
	deleted := func(id string) bool {
		return len(f.Calls("DELETE", "/channels/"+channel+"/messages/"+id)) > 0
	}
	scam := func(n int) string {
		id := fmt.Sprint(700000000000000300 + n)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool { return f.Message(guild, channel, id, raider, "FREE NITRO "+id) })
		return id
	}
	first := scam(1)
	testsync.Eventually(t, "the first verdict waiting apart", func() bool {
		return metric(t, in, `vigie_busy_member_verdicts_total{where="apart"}`) == 1
	})
	var later []string
	for n := 2; n <= 5; n++ {
		later = append(later, scam(n))
	}
	allDeleted := func(ids []string) func() bool {
		return func() bool {
			for _, id := range ids {
				if !deleted(id) {
					return false
				}
			}
			return true
		}
	}
	testsync.Eventually(t, "the later scams deleted while the raider's lock is held", allDeleted(later))

	unlock()
	testsync.Eventually(t, "the first ban asked, and hanging", func() bool { return f.Count("PUT", banPath) >= 1 })
	last := scam(6)
	testsync.Eventually(t, "the last scam deleted while the first ban hangs", allDeleted([]string{last}))
	if f.Banned(guild, raider) {
		t.Fatalf("the raider banned while the ban hangs")
	}
	later = append(later, last)
	if v := metric(t, in, `vigie_busy_member_verdicts_total{where="folded"}`); v != float64(len(later)) {
		t.Errorf("verdicts folded = %v, want %d", v, len(later))
	}
	if v := metric(t, in, `vigie_busy_member_verdicts_total{where="apart"}`); v != 1 {
		t.Errorf("verdicts waiting apart = %v, want the first only", v)
	}
	if n := strings.Count(in.logs.String(), "are folded into it"); n != 1 {
		t.Errorf("the folds logged %d times, want once:\n%s", n, in.logs)
	}

	release()
	testsync.Eventually(t, "the raider banned, the first scam deleted", func() bool {
		return f.Banned(guild, raider) && deleted(first)
	})
	for _, id := range later {
		if strings.Contains(in.logs.String(), "event=discord:"+id+" action=ban") {
			t.Errorf("a folded verdict's ban carried out (%s):\n%s", id, in.logs)
		}
	}
}

// TestBusyMemberShare: a raider whose lock is held posts more scams than
// their lane may hold, each a timeout no ban covers. Sixteen wait in their
// lane; the rest become cases, said once; the place goes on. Before, every
// one of them waited in the raider's lane, their share unbounded.
func TestBusyMemberShare(t *testing.T) {
	w := discordOnRedis(t, discordFailingRules, 193_000_000_000)
	guild, channel, f, in := w.guild, w.channel, w.f, w.in

	const raider, other = "600000000000000011", "600000000000000012"
	unlock := w.holdLock(t, raider)
	defer unlock()
	const share, over = 16, 3
	for n := range share + over {
		id := fmt.Sprint(700000000000000400 + n)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool { return f.Message(guild, channel, id, raider, "FREE NITRO "+id) })
	}
	testsync.Eventually(t, "the raider's verdicts past their share made cases", func() bool {
		return metric(t, in, `vigie_busy_member_verdicts_total{where="desk"}`) == over
	})
	if v := metric(t, in, `vigie_busy_member_verdicts_total{where="apart"}`); v != share {
		t.Errorf("verdicts waiting apart = %v, want %d", v, share)
	}
	if n := strings.Count(in.logs.String(), "too many verdicts wait in the busy member's lane"); n != 1 {
		t.Errorf("the share used up logged %d times, want once:\n%s", n, in.logs)
	}
	// The place goes on: another member's scam is carried out at once.
	testsync.Eventually(t, "the gateway taking the other's scam", func() bool {
		return f.Message(guild, channel, "700000000000000499", other, "FREE NITRO there")
	})
	testsync.Eventually(t, "the other member's scam deleted", func() bool {
		return len(f.Calls("DELETE", "/channels/"+channel+"/messages/700000000000000499")) > 0
	})
	unlock()
	testsync.Eventually(t, "the raider's lane drained", func() bool {
		return len(f.Calls("PATCH", "/guilds/"+guild+"/members/"+raider)) >= 1
	})
}

// TestFoldedVerdictsCasedWhenTheirBanFails: a raider's later scams are
// folded into the ban of their first, waiting in their lane; then Discord
// refuses that ban for good (403). Each folded scam becomes a case with
// the ban it dropped, counted and logged: the CMs see every message, and
// the raider, who stays, is not covered by one case alone. Before, the
// folded verdicts' bans were lost with the first one's.
func TestFoldedVerdictsCasedWhenTheirBanFails(t *testing.T) {
	w := discordOnRedis(t, discordBanRules, 194_000_000_000)
	guild, channel, f, in := w.guild, w.channel, w.f, w.in

	const raider = "600000000000000013"
	unlock := w.holdLock(t, raider)
	defer unlock()
	banPath := "/guilds/" + guild + "/bans/" + raider
	f.FailWhen(func(c discordfake.Call) bool { return c.Method == "PUT" && c.Path == banPath },
		http.StatusForbidden, `{"message": "Missing Permissions", "code": 50013}`)
	scam := func(n int) string {
		id := fmt.Sprint(700000000000000500 + n)
		testsync.Eventually(t, "the gateway taking scam "+id, func() bool { return f.Message(guild, channel, id, raider, "FREE NITRO "+id) })
		return id
	}
	scam(1)
	testsync.Eventually(t, "the first verdict waiting apart", func() bool {
		return metric(t, in, `vigie_busy_member_verdicts_total{where="apart"}`) == 1
	})
	later := []string{scam(2), scam(3)}
	testsync.Eventually(t, "the later scams folded", func() bool {
		return metric(t, in, `vigie_busy_member_verdicts_total{where="folded"}`) == 2
	})
	unlock()
	testsync.Eventually(t, "the folded verdicts made cases once the first ban is refused", func() bool {
		return metric(t, in, `vigie_busy_member_verdicts_total{where="unfolded"}`) == 2
	})
	if f.Banned(guild, raider) {
		t.Fatalf("the raider banned though Discord refused it")
	}
	// The second folded scam's case is the first's, a hit added to it
	// (same author and rule).
	for _, id := range later {
		testsync.Eventually(t, "the case of folded scam "+id, func() bool {
			logs := in.logs.String()
			return strings.Contains(logs, `msg="actions deferred to the desk" event=discord:`+id) &&
				(strings.Contains(logs, `msg="case opened" case=`) && strings.Contains(logs, `event=discord:`+id+` rule=scam reason="not carried out: folded into the ban`) ||
					strings.Contains(logs, `msg="hit added to a case"`) && strings.Contains(logs, `event=discord:`+id+` rule=scam count=2`))
		})
	}
	testsync.Eventually(t, "the desk shown the folded scams' case", func() bool {
		for _, c := range f.Calls("POST", "/channels/"+deskChannel+"/messages") {
			if strings.Contains(string(c.Raw), "FREE NITRO "+later[0]) && strings.Contains(string(c.Raw), "folded into the ban") {
				return true
			}
		}
		return false
	})
}
