package discord

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// deskMessages counts the messages posted to the desk channel that hold want.
func deskMessages(f *discordfake.Server, want string) int {
	n := 0
	for _, call := range f.Calls("POST", "/channels/"+deskID+"/messages") {
		if s, _ := call.Body["content"].(string); strings.Contains(s, want) {
			n++
		}
	}
	return n
}

// TestNotInAListedGuildToldOnceAsTheShardMoves: vigie is not in a guild it is
// listed to moderate, and its shard moves from one process to another on
// one Redis (a restart, a rolling deploy, a lease taken over). Each finds
// it at its READY; the desk hears of it once, from the first, and the next
// logs that another process told it, rather than a message at each move.
func TestNotInAListedGuildToldOnceAsTheShardMoves(t *testing.T) {
	const gone = "111111111111111111"
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}})
	url, prefix := redistest.URL(t), redistest.Prefix("discord-guild-told")
	const told, other = "vigie is not in the server " + gone, "another process told the desk"
	for i := range 3 {
		c, logs := newTestClient(t, f, Config{Guilds: []string{guildID, gone}, DeskChannel: deskID,
			Told: redistest.Open(t, url, redis.WithPrefix(prefix))})
		_, stopped := start(t, f, c, make(chan bot.Event, 4), allPerms, nil)
		testsync.Eventually(t, "the process finding the guild", func() bool {
			return strings.Contains(logs.String(), "vigie is not in a guild it moderates") &&
				(strings.Contains(logs.String(), other) || deskMessages(f, told) > i)
		})
		stopped()
	}
	if n := deskMessages(f, told); n != 1 {
		t.Errorf("the desk was told %d times in 3 runs of the shard, want once", n)
	}
}
