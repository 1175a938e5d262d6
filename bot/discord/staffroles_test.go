package discord

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestStaffRolesNotFound: DISCORD_STAFF_ROLES names a role the server does not
// have (a plural, a typo). Its holders would be judged as any member, at night
// too, with nothing said: vigie names it at start, as it names the moderator
// roles it cannot find; a name in another case and a role id are found.
func TestStaffRolesNotFound(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}, StaffRoles: []string{"moderator", "Moderators", vipRole, "810000000000000999"}})
	run(t, f, c, make(chan bot.Event, 16), allPerms)
	want := "staff roles not found in guild Gamers (" + guildID + "): Moderators, 810000000000000999; no member is staff by them: write the names or ids of the server's roles in DISCORD_STAFF_ROLES"
	testsync.Eventually(t, "the staff roles not found logged", func() bool { return strings.Contains(logs.String(), want) })
}
