package discord

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// Discord refuses a call for a missing permission with a bare "Missing
// Permissions" (403, code 50013). When the state shows which of the
// permissions the action needs vigie lacks, and where (the server, or a
// channel's overwrites: a thread's are its parent's), the error names it,
// so that the case and the moderator read what to give vigie.
func TestMissingPermissionNamed(t *testing.T) {
	refusal := `{"message": "Missing Permissions", "code": 50013}`
	ctx := context.Background()
	bobMsg := bot.Event{ID: "1003", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}}
	inThread := bobMsg
	inThread.Thread = threadID
	overwrite := func(deny, allow int64) []any {
		return []any{map[string]any{"id": botRole, "type": 0,
			"deny": strconv.FormatInt(deny, 10), "allow": strconv.FormatInt(allow, 10)}}
	}
	const manageMessages = discordgo.PermissionManageMessages
	channelLack := "vigie lacks Manage Messages in #general (" + general + ") of Gamers (" + guildID + "): give it to vigie's role, and allow it in the channel's permissions"
	tests := []struct {
		name       string
		perms      int64
		overwrites []any // general's, nil for none
		do         func(c *Client) error
		want       string // "" when the state shows vigie with the permission
	}{
		{"delete without Manage Messages", allPerms &^ manageMessages, nil,
			func(c *Client) error { return c.Delete(ctx, bobMsg) }, channelLack},
		{"delete in a channel that denies it", allPerms, overwrite(manageMessages, 0),
			func(c *Client) error { return c.Delete(ctx, bobMsg) }, channelLack},
		{"delete in a thread of a channel that denies it", allPerms, overwrite(manageMessages, 0),
			func(c *Client) error { return c.Delete(ctx, inThread) }, channelLack},
		{"delete in a channel that allows it", allPerms &^ manageMessages, overwrite(0, manageMessages),
			func(c *Client) error { return c.Delete(ctx, bobMsg) }, ""},
		{"delete with every permission", allPerms, nil,
			func(c *Client) error { return c.Delete(ctx, bobMsg) }, ""},
		{"timeout without Moderate Members", allPerms &^ discordgo.PermissionModerateMembers, nil,
			func(c *Client) error { return c.Timeout(ctx, bobMsg, time.Hour) },
			"vigie lacks Moderate Members in the server Gamers (" + guildID + "): give it to vigie's role (Server Settings → Roles)"},
		{"kick without Kick Members", allPerms &^ discordgo.PermissionKickMembers, nil,
			func(c *Client) error { return c.Kick(ctx, bobMsg) }, "vigie lacks Kick Members in the server Gamers"},
		{"ban without Ban Members", allPerms &^ discordgo.PermissionBanMembers, nil,
			func(c *Client) error { return c.Ban(ctx, bobMsg, 0) }, "vigie lacks Ban Members in the server Gamers"},
		{"reply without Send Messages", allPerms&^discordgo.PermissionSendMessages | discordgo.PermissionReadMessageHistory, nil,
			func(c *Client) error { return c.Reply(ctx, bobMsg, "hi") }, "vigie lacks Send Messages in #general"},
		{"reply without Read Message History", allPerms &^ discordgo.PermissionReadMessageHistory, nil,
			func(c *Client) error { return c.Reply(ctx, bobMsg, "hi") }, "vigie lacks Read Message History in #general"},
		// In a thread, sending is Send Messages in Threads.
		{"reply in a thread without Send Messages in Threads", allPerms &^ discordgo.PermissionSendMessagesInThreads, nil,
			func(c *Client) error { return c.Reply(ctx, inThread, "hi") }, "vigie lacks Send Messages in Threads in #general"},
		// A lockdown reads the guild and the channel, then edits them.
		{"lockdown without Manage Server", allPerms, nil,
			func(c *Client) error { _, err := c.Lock(ctx, bot.Event{Space: guildID}); return err },
			"vigie lacks Manage Server in the server Gamers"},
		{"slow mode without Manage Channels", allPerms, nil,
			func(c *Client) error { _, err := c.SlowMode(ctx, bobMsg, time.Minute); return err },
			"vigie lacks Manage Channels in #general"},
		{"slow mode of a thread without Manage Threads", allPerms &^ discordgo.PermissionManageThreads, nil,
			func(c *Client) error { _, err := c.SlowMode(ctx, inThread, time.Minute); return err },
			"vigie lacks Manage Threads in #general"},
		{"reply in a thread with Send Messages in Threads", allPerms | discordgo.PermissionReadMessageHistory | discordgo.PermissionSendMessagesInThreads, nil,
			func(c *Client) error { return c.Reply(ctx, inThread, "hi") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
			run(t, f, c, make(chan bot.Event, 4), tt.perms)
			if tt.overwrites != nil {
				f.Dispatch("CHANNEL_UPDATE", map[string]any{"id": general, "type": 0, "name": "general", "guild_id": guildID,
					"permission_overwrites": tt.overwrites})
				testsync.Eventually(t, "the overwrites in the state", func() bool {
					ch, err := c.sess.State.Channel(general)
					if err != nil {
						return false
					}
					c.sess.State.RLock()
					defer c.sess.State.RUnlock()
					return len(ch.PermissionOverwrites) > 0
				})
			}
			f.FailWhen(func(call discordfake.Call) bool { return call.Method != "GET" }, 403, refusal)
			err := tt.do(c)
			if !strings.Contains(fmt.Sprint(err), "Missing Permissions (code 50013)") || bot.Retryable(err) {
				t.Fatalf("error = %v (retryable %v), want Discord's refusal, not retryable", err, bot.Retryable(err))
			}
			if tt.want == "" {
				if strings.Contains(err.Error(), "vigie lacks") {
					t.Errorf("error %q names a permission vigie holds", err)
				}
				return
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant it saying %q", err, tt.want)
			}
		})
	}
}

// A channel hidden from vigie (View Channels taken away mid-raid, the
// channel "locked" for everyone) makes Discord answer 403 Missing Access
// (code 50001) to each of the raid's deletes waiting in its lane: each is
// an invalid request towards Discord's ban of the address, as a 50013 is.
// The first names what vigie lacks; the next are answered by vigie.
func TestMissingAccessHeld(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	f.Dispatch("CHANNEL_UPDATE", map[string]any{"id": general, "type": 0, "name": "general", "guild_id": guildID,
		"permission_overwrites": []any{map[string]any{"id": guildID, "type": 0,
			"deny": strconv.FormatInt(discordgo.PermissionViewChannel, 10), "allow": "0"}}})
	testsync.Eventually(t, "the overwrites in the state", func() bool {
		ch, err := c.sess.State.Channel(general)
		if err != nil {
			return false
		}
		c.sess.State.RLock()
		defer c.sess.State.RUnlock()
		return len(ch.PermissionOverwrites) > 0
	})
	f.FailWhen(func(call discordfake.Call) bool { return call.Method == "DELETE" }, 403, `{"message": "Missing Access", "code": 50001}`)
	for i := range 20 {
		ev := bot.Event{ID: snowflake(t0, 200+i), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: bob.id, Name: "Bob"}}
		err := c.Delete(context.Background(), ev)
		if !strings.Contains(fmt.Sprint(err), "Missing Access (code 50001)") || bot.Retryable(err) {
			t.Fatalf("Delete %d = %v (retryable %v), want Discord's refusal, not retryable", i, err, bot.Retryable(err))
		}
		if want := "vigie lacks View Channels in #general"; !strings.Contains(err.Error(), want) {
			t.Errorf("Delete %d = %v\nwant it saying %q", i, err, want)
		}
	}
	if n := f.Count("DELETE", "/channels/"); n != 1 {
		t.Errorf("%d deletes reached Discord, want 1", n)
	}
}

// A join raid's bans where vigie's role lacks Ban Members: Discord refuses
// each with 50013, and each raider's ban is a path of its own, which the
// rate gate's hold of a member's refusal (made for the hierarchy, which
// protects one member) does not cover: every ban would be an invalid
// request. When the state shows the permission missing in the server, the
// refusal holds the route for every member, as a channel's does.
func TestMissingGuildPermissionHoldsTheRoute(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 4), allPerms&^discordgo.PermissionBanMembers)
	f.FailWhen(func(call discordfake.Call) bool { return call.Method == "PUT" && strings.Contains(call.Path, "/bans/") }, 403,
		`{"message": "Missing Permissions", "code": 50013}`)
	for i := range 20 {
		ev := bot.Event{ID: snowflake(t0, 300+i), Platform: Platform, Kind: bot.KindJoin, Space: guildID,
			Author: bot.Author{ID: snowflake(t0.Add(-time.Hour), 300+i), Name: "raider"}}
		err := c.Ban(context.Background(), ev, 0)
		if !strings.Contains(fmt.Sprint(err), "vigie lacks Ban Members") || bot.Retryable(err) {
			t.Fatalf("Ban %d = %v (retryable %v), want the missing permission named, not retryable", i, err, bot.Retryable(err))
		}
	}
	if n := f.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 1 {
		t.Errorf("%d bans reached Discord, want 1", n)
	}
	// A member's refusal by the hierarchy holds that member only.
	f2 := newFakeDiscord(t)
	c2, _ := newTestClient(t, f2, Config{Guilds: []string{guildID}})
	run(t, f2, c2, make(chan bot.Event, 4), allPerms)
	f2.FailWhen(func(call discordfake.Call) bool { return call.Method == "PUT" }, 403, `{"message": "Missing Permissions", "code": 50013}`)
	for _, u := range []user{mod, mallory} {
		ev := bot.Event{ID: "1", Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: bot.Author{ID: u.id, Name: u.name, Roles: u.roles}}
		_ = c2.Ban(context.Background(), ev, 0)
	}
	if n := f2.Count("PUT", "/guilds/"+guildID+"/bans/"); n != 2 {
		t.Errorf("%d bans reached Discord after a refusal for one member, want 2", n)
	}
}
