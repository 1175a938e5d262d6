package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestCatchUpStopsAskingMembersOfADiscordInTrouble: the gap's messages come
// from authors the gateway's state does not know (a raid's accounts), and
// Discord answers the first lookup of a member with a 503, as it would all
// the others while in trouble. The catch-up judges the rest with roles
// unknown (cases, not actions) without asking Discord for each: a raid of
// thousands of accounts would otherwise hold the catch-up a call timeout
// each (30 seconds, hours in all) while Discord hangs, and every later
// catch-up behind it. Before, each author was asked.
func TestCatchUpStopsAskingMembersOfADiscordInTrouble(t *testing.T) {
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

	raiders := []user{newbie, mallory, mod, {id: snowflake(t0.Add(-time.Minute), 7), name: "Raider"}}
	members := "/guilds/" + guildID + "/members/"
	f.Fail("GET", members, 503, `{"message": "upstream connect error", "code": 0}`, nil, -1)
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
		ev := testsync.Next(t, out)
		if !ev.Author.RolesUnknown {
			t.Errorf("%s's message handed over with roles known: %+v", ev.Author.ID, ev.Author)
		}
	}
	testsync.Eventually(t, "the end of the catch-up", func() bool { return strings.Contains(logs.String(), "caught up") })
	var asked int
	for _, call := range f.Calls("GET", members) {
		if !strings.HasSuffix(call.Path, "/"+botID) {
			asked++
		}
	}
	if !strings.Contains(logs.String(), "authors_not_asked=3") {
		t.Errorf("the catch-up's end does not say 3 authors were not asked:\n%s", logs)
	}
	if asked != 1 {
		t.Errorf("Discord asked for %d of the gap's authors while in trouble, want 1 (the first)\n%s", asked, logs)
	}
}
