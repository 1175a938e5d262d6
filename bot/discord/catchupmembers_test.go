package discord

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestCatchUpStopsAskingMembersOfADiscordInTrouble: the gap's messages come
// from authors the gateway's state does not know (a raid's accounts), and
// Discord answers the lookups of members with a 503, as it would all of
// them while in trouble. After three in a row, the catch-up judges the rest
// with roles unknown (cases, not actions) without asking Discord for each:
// a raid of thousands of accounts would otherwise hold the catch-up a call
// timeout each (30 seconds, hours in all) while Discord hangs, and every
// later catch-up behind it. Before, each author was asked. A single 503 (a
// blip) makes no case of the others: they are asked.
func TestCatchUpStopsAskingMembersOfADiscordInTrouble(t *testing.T) {
	t.Run("in trouble", func(t *testing.T) { testCatchUpMembers(t, -1, 3) })
	t.Run("a blip", func(t *testing.T) { testCatchUpMembers(t, 1, 6) })
}

// testCatchUpMembers has Discord fail the gap's first failures member
// lookups (-1: all) and wants asked of them asked.
func testCatchUpMembers(t *testing.T, failures, want int) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)

	at := time.Now().UTC().Add(-time.Minute)
	msg := func(n int, from user, text string) map[string]any {
		when := at.Add(time.Duration(n) * time.Second)
		return message(snowflake(when, n), general, from, when, text)
	}
	before := msg(1, bob, "hello")
	f.Post(before)
	f.Dispatch("MESSAGE_CREATE", before)
	testsync.Next(t, out)

	raiders := []user{newbie, mallory, mod}
	for i := range 3 {
		raiders = append(raiders, user{id: snowflake(t0.Add(-time.Minute), 7+i), name: fmt.Sprintf("Raider %d", i)})
	}
	members := "/guilds/" + guildID + "/members/"
	f.Fail("GET", members, 503, `{"message": "upstream connect error", "code": 0}`, nil, failures)
	f.LoseSessions()
	for i, r := range raiders {
		f.Post(msg(2+i, r, "scam.example"))
	}
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		t.Fatalf("no new session\n%s", logs)
	}
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	for range raiders {
		testsync.Next(t, out)
	}
	testsync.Eventually(t, "the end of the catch-up", func() bool { return strings.Contains(logs.String(), "caught up") })
	var asked int
	for _, call := range f.Calls("GET", members) {
		if !strings.HasSuffix(call.Path, "/"+botID) {
			asked++
		}
	}
	if asked != want {
		t.Errorf("Discord asked for %d of the gap's %d authors, want %d\n%s", asked, len(raiders), want, logs)
	}
	notAsked := len(raiders) - want
	if said := strings.Contains(logs.String(), fmt.Sprintf("authors_not_asked=%d", notAsked)); said != (notAsked > 0) {
		t.Errorf("the catch-up's end does not say %d authors were not asked:\n%s", notAsked, logs)
	}
}
