package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// A thread a member starts in a text channel shows its name to everyone in
// the channel, above any message in it: the name is read as a message of its
// own, in the thread, and a rename as its edit. A change that leaves the name
// (archived, locked) is not read again. A delete of it deletes the thread
// (DELETE /channels/{thread}, Manage Threads), since the name stays as long as
// the thread does; a thread already gone counts as deleted, and Discord's
// refusal is not retried.
func TestThreadNameIsRead(t *testing.T) {
	f, c, out := runGuild(t)
	ctx := context.Background()

	at := t0.Add(time.Minute)
	thread := snowflake(at, 7)
	meta := map[string]any{"archived": false, "auto_archive_duration": 1440, "locked": false, "archive_timestamp": at.Format(time.RFC3339)}
	created := map[string]any{"id": thread, "type": 11, "name": "FREE NITRO at claim-nitro.sbs/gift",
		"parent_id": general, "guild_id": guildID, "owner_id": bob.id, "newly_created": true, "thread_metadata": meta}
	f.Dispatch("THREAD_CREATE", created)
	ev := testsync.Next(t, out)
	if ev.Kind != bot.KindMessage || ev.Space != guildID || ev.Channel != general || ev.Thread != thread || ev.Author.ID != bob.id {
		t.Fatalf("the new thread's event is %s, want a message of %s in thread %s of %s", show(ev), bob.id, thread, general)
	}
	if ev.Text != "FREE NITRO at claim-nitro.sbs/gift" || ev.Content() != ev.Text {
		t.Errorf("the new thread reads %q, content %q: want its name", ev.Text, ev.Content())
	}
	if err := CheckIDs(ev); err != nil {
		t.Errorf("CheckIDs(the thread's event) = %v", err)
	}

	renamed := map[string]any{}
	for k, v := range created {
		renamed[k] = v
	}
	delete(renamed, "newly_created")
	renamed["name"] = "steam gift for all: steamcommunity.lat"
	f.Dispatch("THREAD_UPDATE", renamed)
	edit := testsync.Next(t, out)
	if edit.Kind != bot.KindEdit || edit.Thread != thread || edit.Text != "steam gift for all: steamcommunity.lat" || edit.ID == ev.ID {
		t.Errorf("the rename's event is %s, text %q: want an edit of the thread's name, read anew", show(edit), edit.Text)
	}
	archived := map[string]any{}
	for k, v := range renamed {
		archived[k] = v
	}
	archived["thread_metadata"] = map[string]any{"archived": true, "auto_archive_duration": 1440, "locked": false, "archive_timestamp": at.Format(time.RFC3339)}
	f.Dispatch("THREAD_UPDATE", archived)
	f.Dispatch("MESSAGE_CREATE", message(snowflake(at, 8), general, mallory, at, "after the archive"))
	if next := testsync.Next(t, out); next.Text != "after the archive" {
		t.Errorf("a thread archived, its name unchanged, was read again: %s %q", show(next), next.Text)
	}

	// The warning goes to the channel, where the name was shown and where it
	// outlives the thread.
	if err := c.Warn(ctx, edit, "no scams here"); err != nil || f.Count("POST", "/channels/"+general+"/messages") != 1 {
		t.Errorf("Warn(the thread's name) = %v, want a message in the thread's channel:%s", err, f.Summary())
	}
	if err := c.Delete(ctx, edit); err != nil {
		t.Fatalf("Delete(the thread's name) = %v", err)
	}
	messages := f.Count("DELETE", "/channels/"+thread+"/messages/") + f.Count("DELETE", "/channels/"+general+"/messages/")
	if n := f.Count("DELETE", "/channels/"+thread) - messages; n != 1 || messages != 0 {
		t.Errorf("the thread deleted %d times, %d messages deleted: want the thread once, no message", n, messages)
	}
	f.Fail("DELETE", "/channels/"+thread, 404, `{"message": "Unknown Channel", "code": 10003}`, nil, 1)
	if err := c.Delete(ctx, ev); err != nil {
		t.Errorf("Delete(a thread already gone) = %v, want done", err)
	}
	f.Fail("DELETE", "/channels/"+thread, 403, `{"message": "Missing Permissions", "code": 50013}`, nil, 1)
	if err := c.Delete(ctx, ev); err == nil || bot.Retryable(err) || !strings.Contains(err.Error(), "Missing Permissions") {
		t.Errorf("Delete(a thread Discord refuses to delete) = %v, want a refusal not retried", err)
	}
}
