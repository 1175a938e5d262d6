package discord

import (
	"context"
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
	f, _, out := runGuild(t)

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

// Deleting a forum post's starter message would leave its title, the scam,
// at the top of the forum: a delete of the post as it was created takes the
// whole post away (DELETE /channels/{post}, Manage Threads). A message
// posted later in the post, or an edit of its starter message, is deleted
// alone. A post already gone counts as deleted; a post Discord refuses to
// delete (no Manage Threads) has its message deleted instead, and the refusal
// says the title stays.
func TestForumPostDeleteTakesThePost(t *testing.T) {
	f, c, out := runGuild(t)
	ctx := context.Background()

	at := t0.Add(time.Minute)
	f.Dispatch("CHANNEL_CREATE", map[string]any{"id": forumID, "type": 15, "name": "trading", "guild_id": guildID})
	post := snowflake(at, 7)
	f.Dispatch("THREAD_CREATE", map[string]any{"id": post, "type": 11, "name": "FREE NITRO giveaway",
		"parent_id": forumID, "guild_id": guildID, "owner_id": bob.id, "newly_created": true,
		"thread_metadata": map[string]any{"archived": false, "auto_archive_duration": 4320, "locked": false, "archive_timestamp": at.Format(time.RFC3339)}})
	f.Dispatch("MESSAGE_CREATE", message(post, post, bob, at, "https://claim-nitro.sbs/gift"))
	starter := testsync.Next(t, out)
	reply := snowflake(at, 8)
	f.Dispatch("MESSAGE_CREATE", message(reply, post, mallory, at, "scam.example too"))
	later := testsync.Next(t, out)

	if err := c.Delete(ctx, starter); err != nil {
		t.Fatalf("Delete(the post) = %v", err)
	}
	postDeletes := func() int {
		n := 0
		for _, c := range f.Calls("DELETE", "/channels/"+post) {
			if strings.HasSuffix(c.Path, "/channels/"+post) {
				n++
			}
		}
		return n
	}
	if n := postDeletes(); n != 1 || f.Count("DELETE", "/channels/"+post+"/messages/") != 0 {
		t.Errorf("the post deleted %d times, its message alone %d: want the post once", n, f.Count("DELETE", "/channels/"+post+"/messages/"))
	}
	if err := c.Delete(ctx, later); err != nil {
		t.Fatalf("Delete(a reply) = %v", err)
	}
	if f.Count("DELETE", "/channels/"+post+"/messages/"+reply) != 1 || postDeletes() != 1 {
		t.Errorf("a reply in the post: want its message alone deleted")
	}
	edit := starter
	edit.Kind, edit.ID = bot.KindEdit, post+"@123"
	if err := c.Delete(ctx, edit); err != nil || f.Count("DELETE", "/channels/"+post+"/messages/"+post) != 1 {
		t.Errorf("an edit of the starter message: Delete = %v, want its message alone deleted", err)
	}

	f.Fail("DELETE", "/channels/"+post, 404, `{"message": "Unknown Channel", "code": 10003}`, nil, 1)
	if err := c.Delete(ctx, starter); err != nil {
		t.Errorf("Delete(a post already gone) = %v, want done", err)
	}
	// A message of a post (or channel) deleted meanwhile is gone with it.
	f.Fail("DELETE", "/channels/"+post+"/messages/"+reply, 404, `{"message": "Unknown Channel", "code": 10003}`, nil, 1)
	if err := c.Delete(ctx, later); err != nil {
		t.Errorf("Delete(a reply in a post gone) = %v, want done", err)
	}
	f.Fail("DELETE", "/channels/"+post, 403, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	before := f.Count("DELETE", "/channels/"+post+"/messages/"+post)
	if err := c.Delete(ctx, starter); err == nil || bot.Retryable(err) || !strings.Contains(err.Error(), "not its title") {
		t.Errorf("Delete(a post Discord refuses) = %v, want a refusal saying the title stays", err)
	}
	if f.Count("DELETE", "/channels/"+post+"/messages/"+post) != before+1 {
		t.Errorf("the post refused: its message was not deleted instead")
	}
}
