package discord

import (
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// forumID is a forum channel of the test guild, created after its
// GUILD_CREATE.
const forumID = "800000000000000040"

// A forum post is a thread whose starter message has the thread's id; its
// title is the thread's name, which the member wrote as much as the text: a
// scam or a slur put in the title only is read with the text, in the
// event's text, as the post's title then its body. A message posted later in
// the post, a thread's name in a text channel and the starter message of a
// thread not known to the state carry their text alone.
func TestForumPostTitleIsRead(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)

	at := t0.Add(time.Minute)
	f.Dispatch("CHANNEL_CREATE", map[string]any{"id": forumID, "type": 15, "name": "trading", "guild_id": guildID})
	post := snowflake(at, 7)
	f.Dispatch("THREAD_CREATE", map[string]any{"id": post, "type": 11, "name": "FREE NITRO giveaway, claim before midnight",
		"parent_id": forumID, "guild_id": guildID, "owner_id": bob.id, "newly_created": true,
		"thread_metadata": map[string]any{"archived": false, "auto_archive_duration": 4320, "locked": false, "archive_timestamp": at.Format(time.RFC3339)}})
	f.Dispatch("MESSAGE_CREATE", message(post, post, bob, at, "https://claim-nitro.sbs/gift"))
	ev := testsync.Next(t, out)
	if ev.ID != post || ev.Channel != forumID || ev.Thread != post {
		t.Fatalf("the post's event is %s, want message %s in thread %s of the forum %s", show(ev), post, post, forumID)
	}
	if want := "FREE NITRO giveaway, claim before midnight\nhttps://claim-nitro.sbs/gift"; ev.Text != want || ev.Content() != want {
		t.Errorf("the post's text %q, content %q: want its title then its body, %q", ev.Text, ev.Content(), want)
	}

	f.Dispatch("MESSAGE_CREATE", message(snowflake(at, 8), post, mallory, at, "is this legit?"))
	if ev := testsync.Next(t, out); ev.Text != "is this legit?" {
		t.Errorf("a reply in the post reads %q, want its own text alone", ev.Text)
	}
	f.Dispatch("MESSAGE_CREATE", message(threadID, threadID, bob, at, "a thread's own first message"))
	if ev := testsync.Next(t, out); ev.Text != "a thread's own first message" {
		t.Errorf("a message in a text channel's thread reads %q, want its own text alone", ev.Text)
	}
	unknown := snowflake(at, 9)
	f.Dispatch("MESSAGE_CREATE", message(unknown, unknown, bob, at, "body only"))
	if ev := testsync.Next(t, out); !strings.HasPrefix(ev.Text, "body only") {
		t.Errorf("a starter message of a thread not known reads %q", ev.Text)
	}
}
