package discord

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// These tests run under the race detector (make test): discordgo's gateway
// loop changes the cached guilds, channels and members in place while the
// catch-up and the desk's workers read them. A read of the state's structs
// without its lock is reported as a data race, which fails the test.

// stateUpdates dispatches updates of every struct of the test guild the state
// holds: its guild, channels, thread and a member.
type stateUpdates struct {
	done chan struct{} // one per round, once the gateway's loop handled it
}

func newStateUpdates(c *Client) *stateUpdates {
	u := &stateUpdates{done: make(chan struct{}, 1)}
	// The round's last event, handled after the state took it in.
	c.sess.AddHandler(func(_ *discordgo.Session, m *discordgo.GuildMemberUpdate) {
		if m.User != nil && m.User.ID == bob.id {
			select {
			case u.done <- struct{}{}:
			default:
			}
		}
	})
	return u
}

// round dispatches one update of each and waits until the loop handled them.
func (u *stateUpdates) round(t *testing.T, f *discordfake.Server, n int) bool {
	t.Helper()
	g := guildCreate(allPerms)
	for _, k := range []string{"members", "channels", "threads"} {
		delete(g, k)
	}
	g["name"] = "Gamers " + string(rune('a'+n%26))
	f.Dispatch("GUILD_UPDATE", g)
	f.Dispatch("CHANNEL_UPDATE", map[string]any{"id": general, "type": 0, "name": "general", "guild_id": guildID, "topic": strings.Repeat("x", n%7)})
	f.Dispatch("CHANNEL_UPDATE", map[string]any{"id": deskID, "type": 0, "name": "mods", "guild_id": guildID, "topic": strings.Repeat("y", n%7)})
	f.Dispatch("THREAD_UPDATE", map[string]any{"id": threadID, "type": 11, "name": "a thread", "parent_id": general, "guild_id": guildID})
	// The same names each time: a change of names would be judged, an event
	// whose way to the rules would order the loop after the catch-up's sends.
	f.Dispatch("GUILD_MEMBER_UPDATE", memberObject(bob, "bobby", t0.AddDate(0, -1, -n%28)))
	select {
	case <-u.done:
		return true
	case <-time.After(testsync.Patience):
		t.Error("the gateway's loop did not handle the updates")
		return false
	}
}

// TestCatchUpReadsTheStateUnderItsLock: channels, the guild and a member
// change on the gateway while the catch-up after a lost session judges the
// gap's messages, which reads them (a thread's parent, the author's roles,
// the guild's owner, the desk's guild).
func TestCatchUpReadsTheStateUnderItsLock(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, StaffRoles: []string{"Moderator"}})
	out := make(chan bot.Event)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // after Run stopped (run's cleanup)
	go func() {
		for {
			select {
			case <-out:
			case <-stop:
				return
			}
		}
	}()
	run(t, f, c, out, allPerms)
	updates := newStateUpdates(c)

	at := time.Now().UTC().Add(-8 * time.Minute)
	n := 0
	msg := func(channel string) map[string]any {
		n++
		when := at.Add(time.Duration(n) * 100 * time.Millisecond)
		return message(snowflake(when, n), channel, bob, when, "hello "+channel)
	}
	// Seen before the gap: the catch-up reads these channels, the general
	// one and its thread, which the updates change, and others.
	channels := []string{general, threadID}
	for i := range 8 {
		channels = append(channels, strconv.Itoa(800000000000000200+i))
	}
	for _, ch := range channels {
		m := msg(ch)
		f.Post(m)
		f.Dispatch("MESSAGE_CREATE", m)
	}
	updates.round(t, f, 0) // bob is in the state
	f.LoseSessions()
	for range 150 {
		for _, ch := range channels {
			f.Post(msg(ch))
		}
	}
	select {
	case <-f.Ready():
	case <-time.After(time.Minute):
		t.Fatalf("no new session\n%s", logs)
	}
	f.Dispatch("GUILD_CREATE", guildCreate(allPerms))
	caughtUp := func() bool { return strings.Contains(logs.String(), "caught up") }
	for i := 1; !caughtUp(); i++ {
		if !updates.round(t, f, i) {
			return
		}
		if i > 10_000 {
			t.Fatalf("no end of the catch-up\n%s", logs)
		}
	}
	testsync.Eventually(t, "the whole gap read", func() bool {
		return strings.Contains(logs.String(), "caught up after a lost gateway session") && strings.Contains(logs.String(), "messages=1500")
	})
}

// TestDeskWorkersReadTheStateUnderTheirLock: the desk channel changes on the
// gateway while the desk's workers carry out moderators' commands, which they
// check against the desk channel's guild.
func TestDeskWorkersReadTheStateUnderTheirLock(t *testing.T) {
	f := newFakeDiscord(t)
	c, logs := newTestClient(t, f, Config{DeskChannel: deskID, ModeratorRoles: []string{modRole}})
	// rounds tells a command under way of each round of updates handled
	// while it waits: the updates come while a worker is at work, after its
	// checks, and nothing it does orders them after its reads.
	rounds := make(chan struct{})
	c.Desk(deskCommands{rounds: rounds})
	out := make(chan bot.Event)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) }) // after Run stopped (run's cleanup)
	go func() {
		for {
			select {
			case <-out:
			case <-stop:
				return
			}
		}
	}()
	run(t, f, c, out, allPerms)
	updates := newStateUpdates(c)
	updates.round(t, f, 0)
	ctx, cancel := context.WithCancel(context.Background())
	updating := make(chan struct{})
	go func() {
		defer close(updating)
		for n := 1; ctx.Err() == nil; n++ {
			if !updates.round(t, f, n) {
				return
			}
			select {
			case rounds <- struct{}{}:
			default:
			}
		}
	}()
	defer func() { cancel(); <-updating }()
	for i := range 10 {
		id := strconv.Itoa(970000000000000100 + i)
		f.Dispatch("INTERACTION_CREATE", slash(id, mod, "status"))
		if got := told(t, f, id); !strings.Contains(got, "running") {
			t.Fatalf("/vigie status %d answered %q\n%s", i, got, logs)
		}
	}
}

// deskCommands answers /vigie status once two rounds of updates came.
type deskCommands struct {
	bot.DeskCommands
	rounds chan struct{}
}

func (d deskCommands) Status(ctx context.Context, _ string) (string, error) {
	for range 2 {
		select {
		case <-d.rounds:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return "running", nil
}
