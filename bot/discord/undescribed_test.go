package discord

import (
	"context"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestAuthorBeforeTheGuildIsDescribed: READY lists the guilds as unavailable
// and each GUILD_CREATE, with its roles and owner, comes after. A message that
// comes first (or without its member) cannot say whether its author is staff:
// it goes out with roles unknown, so that no action falls on a moderator, and
// ResolveRoles tells once the guild is described.
func TestAuthorBeforeTheGuildIsDescribed(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{StaffRoles: []string{"Moderator"}, Guilds: []string{guildID}})
	out := make(chan bot.Event, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx, out) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(testsync.Patience):
			t.Errorf("Run did not return after cancel")
		}
	})
	select {
	case <-f.Ready():
	case <-time.After(testsync.Patience):
		t.Fatalf("no READY\n%s", logs)
	}

	next := func() bot.Event {
		t.Helper()
		select {
		case ev := <-out:
			return ev
		case <-time.After(testsync.Patience):
			t.Fatalf("no event\n%s", logs)
		}
		return bot.Event{}
	}
	f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 901), general, mod, t0, "please stop"))
	fromMod := next()
	if !fromMod.Author.RolesUnknown || fromMod.Author.Staff {
		t.Fatalf("a moderator's message before GUILD_CREATE: author %+v, want roles unknown", fromMod.Author)
	}
	noMember := message(snowflake(t0, 902), general, bob, t0, "hi")
	delete(noMember, "member")
	f.Dispatch("MESSAGE_CREATE", noMember)
	fromBob := next()
	if !fromBob.Author.RolesUnknown {
		t.Fatalf("a message without its member: author %+v, want roles unknown", fromBob.Author)
	}

	type answer struct{ staff, known bool }
	resolved := make(chan answer, 2)
	for _, ev := range []bot.Event{fromMod, fromBob} {
		go func() {
			_, staff, known := c.ResolveRoles(t.Context(), ev)
			resolved <- answer{staff, known}
		}()
	}
	f.SetMember(guildID, memberObject(bob, nil, t0.AddDate(-1, 0, 0)))
	f.SetMember(guildID, memberObject(mod, nil, t0.AddDate(-1, 0, 0)))
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	got := map[answer]int{}
	for range 2 {
		select {
		case a := <-resolved:
			got[a]++
		case <-time.After(testsync.Patience):
			t.Fatalf("ResolveRoles did not answer once the guild was described\n%s", logs)
		}
	}
	if got[answer{staff: true, known: true}] != 1 || got[answer{staff: false, known: true}] != 1 {
		t.Errorf("ResolveRoles answered %v, want the moderator staff and Bob not, both known", got)
	}

	testsync.Eventually(t, "the guild described", func() bool { return c.guildDescribed(guildID) })
	f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 903), general, mod, t0, "thanks"))
	if ev := next(); ev.Author.RolesUnknown || !ev.Author.Staff {
		t.Errorf("a moderator's message once the guild is described: author %+v, want staff", ev.Author)
	}
}
