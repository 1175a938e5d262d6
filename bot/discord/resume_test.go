package discord

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestNewSessionWhenResumesAreClosed: the gateway forgets the session and
// closes each RESUME with 4009, Session timed out ("reconnect and start a new
// one"), rather than answering Invalid Session on an open connection. discordgo
// keeps the lost session and would resume it for ever; vigie has it identify
// anew, and moderates the new session's messages.
func TestNewSessionWhenResumesAreClosed(t *testing.T) {
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, ResumeClosed: true})
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)

	f.LoseSessions()
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		t.Fatalf("no new session after %d resumes closed\n%s", f.ResumesRefused(), logs)
	}
	if n := f.ResumesRefused(); n == 0 {
		t.Fatalf("no RESUME was closed: the test did not test")
	}
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	id := snowflake(t0.Add(time.Second), 801)
	f.Dispatch("MESSAGE_CREATE", message(id, general, bob, t0.Add(time.Second), "spam"))
	select {
	case ev := <-out:
		if err := c.Delete(context.Background(), ev); err != nil {
			t.Fatalf("delete %s: %v", ev.Key(), err)
		}
	case <-time.After(testsync.Patience):
		t.Fatalf("the new session's message not received\n%s", logs)
	}
	f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+id, 1, nil)
}
