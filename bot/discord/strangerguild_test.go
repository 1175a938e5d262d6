package discord

import (
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestStrangersGuildIsNotModerated: with neither a guild list nor a desk
// channel, anyone may invite vigie's public bot to a server of their own.
// Such a server is not moderated; a server a CM owns is.
func TestStrangersGuildIsNotModerated(t *testing.T) {
	f := newFakeDiscord(t)
	// The fake's guild is owned by 700000000000000999; the other by the intruder.
	c, logs := newTestClient(t, f, Config{CMs: []string{"discord:700000000000000999"}})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)
	f.Dispatch("GUILD_CREATE", otherGuildCreate())
	f.Dispatch("MESSAGE_CREATE", elsewhere(message(snowflake(t0, 300), otherGeneral, intruder, t0, "buy followers")))
	f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 310), general, bob, t0, "hello"))
	if ev := testsync.Next(t, out); ev.Space != guildID {
		t.Errorf("event from %s handed to the rules, want only the CM's guild", ev.Space)
	}
	testsync.Eventually(t, "the stranger's guild logged", func() bool {
		return strings.Contains(logs.String(), "ignoring guild Elsewhere ("+otherGuild+")")
	})
	select {
	case ev := <-out:
		t.Errorf("unexpected event %+v", ev)
	default:
	}
	if !strings.Contains(logs.String(), "vigie moderates only the guilds a Discord CM of desk.cms owns") {
		t.Errorf("the start-up log does not say which guilds are moderated:\n%s", logs)
	}
}

// TestFirstRunModeratesNoGuild: with neither a guild list, a desk channel nor a
// Discord CM (the starter pack's first run), no guild is moderated, and the
// start-up log says so rather than "only the guilds a CM owns".
func TestFirstRunModeratesNoGuild(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)
	f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 310), general, bob, t0, "hello"))
	want := "no desk channel and no Discord CM in desk.cms: vigie moderates no guild yet; list the guilds' ids to moderate them (a guild's id is in the `ignoring guild` log line), or name their owner as a CM"
	testsync.Eventually(t, "the guild's message ignored, and the start-up log saying no guild is moderated", func() bool {
		return strings.Contains(logs.String(), "ignoring guild") && strings.Contains(logs.String(), want)
	})
	select {
	case ev := <-out:
		t.Errorf("event handed to the rules with no guild moderated: %+v", ev)
	default:
	}
}
