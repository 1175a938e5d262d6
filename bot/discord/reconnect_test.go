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
