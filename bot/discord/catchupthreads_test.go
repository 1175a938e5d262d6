package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestThreadsStartedInTheGapAreCaughtUp: Discord will not resume the
// session, and a thread started while it was gone, with a message in it,
// was never delivered (no THREAD_CREATE, no MESSAGE_CREATE). The new
// session's GUILD_CREATE lists the guild's active threads: the thread's
// name is judged as its THREAD_CREATE would have been, and its messages
// are read from its history, as a channel's are.
func TestThreadsStartedInTheGapAreCaughtUp(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)

	at := time.Now().UTC().Add(-time.Minute)
	// Before: a message in the channel, delivered.
	before := message(snowflake(at, 1), general, bob, at, "hello")
	f.Post(before)
	f.Dispatch("MESSAGE_CREATE", before)
	testsync.Next(t, out)

	f.LoseSessions()
	started := time.Now().UTC()
	thread := snowflake(started, 2)
	inThread := message(snowflake(started.Add(time.Second), 3), thread, mallory, started.Add(time.Second), "claim it at claim-nitro.sbs/gift")
	f.Post(inThread)
	select {
	case <-f.Ready():
	case <-time.After(testsync.Patience):
		t.Fatalf("no new session\n%s", logs)
	}
	g := guildCreate(allPerms)
	g["threads"] = append(g["threads"].([]any), map[string]any{"id": thread, "type": 11, "name": "FREE NITRO giveaway",
		"parent_id": general, "guild_id": guildID, "owner_id": bob.id, "last_message_id": inThread["id"],
		"thread_metadata": map[string]any{"archived": false, "auto_archive_duration": 1440, "locked": false, "archive_timestamp": started.Format(time.RFC3339)}})
	f.Dispatch("GUILD_CREATE", g)

	var name, msg bool
	deadline := time.After(testsync.Patience)
	for !(name && msg) {
		select {
		case ev := <-out:
			switch {
			case ev.Thread == thread && namesThread(ev) && ev.Text == "FREE NITRO giveaway" && ev.Author.ID == bob.id && ev.Channel == general:
				name = true
			case ev.ID == inThread["id"] && ev.Thread == thread && ev.Author.ID == mallory.id:
				msg = true
			}
		case <-deadline:
			t.Fatalf("after the catch-up: the gap's thread's name read %v, its message read %v; want both\n%s", name, msg, logs)
		case <-time.After(20 * time.Millisecond):
		}
		if !(name && msg) && strings.Contains(logs.String(), "caught up after a lost gateway session") && len(out) == 0 {
			t.Fatalf("caught up: the gap's thread's name read %v, its message read %v; want both\n%s", name, msg, logs)
		}
	}
	testsync.Eventually(t, "the catch-up's end", func() bool { return strings.Contains(logs.String(), "threads=1") })
}
