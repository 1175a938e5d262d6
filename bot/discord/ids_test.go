package discord

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
)

// TestActionsRefuseOddIDs: whatever let an event with an id that is not a
// Discord id through (one posted over HTTP, a case kept from before), no
// action puts it into a path of Discord's: each fails at once, not to be
// retried, naming the field, and no call reaches Discord.
func TestActionsRefuseOddIDs(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 10), allPerms)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/guilds/"+guildID+"/commands", 1, nil)
	f.WaitFor(t, "PUT", "/applications/"+appID+"/commands", 1, nil)
	good := bot.Event{ID: snowflake(t0, 300), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}}
	odd := map[string]func(*bot.Event){
		"author.id": func(ev *bot.Event) { ev.Author.ID = "../.." },
		"space":     func(ev *bot.Event) { ev.Space = "123?x=" },
		"channel":   func(ev *bot.Event) { ev.Channel = general + "/../1" },
		"thread":    func(ev *bot.Event) { ev.Thread = "1 2" },
		"id":        func(ev *bot.Event) { ev.ID = "123?x=" },
	}
	ctx := context.Background()
	onMessage := map[string]bool{"delete": true, "tag": true}
	actions := map[string]func(bot.Event) error{
		"delete":    func(ev bot.Event) error { return c.Delete(ctx, ev) },
		"timeout":   func(ev bot.Event) error { return c.Timeout(ctx, ev, time.Hour) },
		"untimeout": func(ev bot.Event) error { return c.Untimeout(ctx, ev) },
		"kick":      func(ev bot.Event) error { return c.Kick(ctx, ev) },
		"ban":       func(ev bot.Event) error { return c.Ban(ctx, ev, 0) },
		"unban":     func(ev bot.Event) error { return c.Unban(ctx, ev) },
		"reply":     func(ev bot.Event) error { return c.Reply(ctx, ev, "hi") },
		"warn":      func(ev bot.Event) error { return c.Warn(ctx, ev, "hi") },
		"tag":       func(ev bot.Event) error { return c.Tag(ctx, ev, "✅") },
		"lock":      func(ev bot.Event) error { _, err := c.Lock(ctx, ev); return err },
		"slowmode":  func(ev bot.Event) error { _, err := c.SlowMode(ctx, ev, time.Minute); return err },
	}
	calls := func() int {
		return len(f.Calls("GET", "")) + len(f.Calls("PUT", "")) + len(f.Calls("PATCH", "")) + len(f.Calls("DELETE", "")) + len(f.Calls("POST", ""))
	}
	n0 := calls()
	for field, set := range odd {
		ev := good
		set(&ev)
		for name, act := range actions {
			if field == "id" && !onMessage[name] {
				continue // the message's id goes into no path of theirs
			}
			err := act(ev)
			if err == nil || bot.Retryable(err) || !strings.Contains(err.Error(), field+" ") || !strings.Contains(err.Error(), "not a Discord id") {
				t.Errorf("%s with an odd %s = %v (retryable %v); want refused, naming %s", name, field, err, bot.Retryable(err), field)
			}
		}
		if field == "id" {
			continue
		}
		if _, staff, known := c.ResolveRoles(ctx, ev); staff || known {
			t.Errorf("roles of an event with an odd %s resolved: staff %v known %v", field, staff, known)
		}
	}
	if n := calls(); n != n0 {
		t.Errorf("%d calls reached Discord for events with odd ids:\n%s", n-n0, f.Summary())
	}
}
