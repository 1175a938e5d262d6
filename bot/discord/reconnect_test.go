package discord

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestModeratesAfterAReconnect: the gateway drops; discordgo resumes the
// session, and what comes after is received and moderated as before.
func TestModeratesAfterAReconnect(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)
	ctx := context.Background()

	moderate := func(n int) {
		t.Helper()
		id := snowflake(t0.Add(time.Duration(n)*time.Second), 700+n)
		f.Dispatch("MESSAGE_CREATE", message(id, general, bob, t0.Add(time.Duration(n)*time.Second), "spam"))
		select {
		case ev := <-out:
			if err := c.Delete(ctx, ev); err != nil {
				t.Fatalf("delete %s: %v", ev.Key(), err)
			}
		case <-time.After(testsync.Patience):
			t.Fatalf("message %d not received\n%s", n, logs)
		}
		f.WaitFor(t, "DELETE", "/channels/"+general+"/messages/"+id, 1, nil)
	}
	moderate(1)

	f.Drop() // the gateway drops
	select {
	case <-f.Ready(): // RESUMED, or READY again
	case <-time.After(testsync.Patience):
		t.Fatalf("no reconnection\n%s", logs)
	}
	moderate(2)
}

// TestZombieConnection: the gateway's connection stays open but its
// heartbeats are no longer acknowledged (a half-dead link, which never
// fails a read). discordgo drops it after five heartbeats unanswered and
// resumes on a new connection; vigie's link is down meanwhile, and up again
// with what comes after received.
func TestZombieConnection(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	run(t, f, c, out, allPerms)
	f.Zombie()
	select {
	case <-f.Ready():
	case <-time.After(testsync.Patience):
		t.Fatalf("the zombie connection was never dropped\n%s", logs)
	}
	testsync.Eventually(t, "the link up", func() bool { return c.Link().Up })
	id := snowflake(t0.Add(time.Second), 801)
	f.Dispatch("MESSAGE_CREATE", message(id, general, bob, t0.Add(time.Second), "after"))
	if ev := testsync.Next(t, out); ev.ID != id {
		t.Errorf("after the zombie got %s, want %s", ev.ID, id)
	}
	if f.ResumesRefused() != 0 {
		t.Errorf("resumes refused: %d", f.ResumesRefused())
	}
}
