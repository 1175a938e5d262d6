package discord

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// This file is the tests' Discord: a guild, its people and their events, for
// the fake Discord (discordfake) that the real discordgo client runs against.

// testAPIURL is the API address every test client is given. discordgo keeps it
// in package variables, so it is one address for the whole test binary; each
// test's HTTP client carries the requests to its own fake server.
const testAPIURL = "http://discord.test/api/v9"

const (
	botID     = discordfake.BotID
	appID     = discordfake.AppID
	guildID   = "800000000000000001"
	general   = "800000000000000010"
	deskID    = "800000000000000020"
	threadID  = "800000000000000030"
	modRole   = "800000000000000100"
	vipRole   = "800000000000000101"
	botRole   = "800000000000000102"
	adminRole = "800000000000000103"
	ownerID   = "700000000000000999"
)

// snowflake makes a Discord id created at t.
func snowflake(t time.Time, n int) string {
	return strconv.FormatInt((t.UnixMilli()-1420070400000)<<22|int64(n&0xfff), 10)
}

// newFakeDiscord is a fake Discord whose bot is in the test guild; the test
// sends its GUILD_CREATE (run does).
func newFakeDiscord(t *testing.T) *discordfake.Server {
	return discordfake.New(t, discordfake.Options{Guilds: []string{guildID}})
}

// guildCreate is the test guild as GUILD_CREATE describes it: vigie's role may
// do what perms says.
func guildCreate(perms int64) map[string]any {
	now := time.Now().UTC().Format(time.RFC3339)
	return map[string]any{
		"id": guildID, "name": "Gamers", "owner_id": ownerID, "unavailable": false, "verification_level": 1,
		"roles": []any{
			// As in most servers, the moderators' role is above vigie's.
			map[string]any{"id": guildID, "name": "@everyone", "permissions": "0", "position": 0},
			map[string]any{"id": modRole, "name": "Moderator", "permissions": "0", "position": 3},
			map[string]any{"id": vipRole, "name": "VIP", "permissions": "0", "position": 1},
			map[string]any{"id": botRole, "name": "vigie", "permissions": strconv.FormatInt(perms, 10), "position": 2},
		},
		"members": []any{map[string]any{"user": map[string]any{"id": botID, "username": "vigie", "bot": true}, "roles": []string{botRole}, "joined_at": now}},
		"channels": []any{
			map[string]any{"id": general, "type": 0, "name": "general", "guild_id": guildID},
			map[string]any{"id": deskID, "type": 0, "name": "mods", "guild_id": guildID},
		},
		"threads": []any{map[string]any{"id": threadID, "type": 11, "name": "a thread", "parent_id": general, "guild_id": guildID}},
	}
}

type user struct {
	id, name string
	roles    []string
	bot      bool
}

func (u user) json() map[string]any {
	return map[string]any{"id": u.id, "username": strings.ToLower(u.name), "global_name": u.name, "bot": u.bot,
		"avatar": nil, "discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil}
}

func (u user) member(joined time.Time) map[string]any {
	roles := u.roles
	if roles == nil {
		roles = []string{}
	}
	return map[string]any{"roles": roles, "joined_at": joined.UTC().Format(time.RFC3339), "nick": nil}
}

// t0 is the tests' clock: read once at start, so that the members' ages
// (carried in their snowflake ids) and the messages' times agree with the
// clock that the engine, the connector and the fake read, on any date.
var (
	t0      = time.Now().UTC().Truncate(time.Second)
	bob     = user{id: snowflake(t0.AddDate(-2, 0, 0), 1), name: "Bob"}
	newbie  = user{id: snowflake(t0.Add(-time.Hour), 2), name: "Newbie"}
	mod     = user{id: snowflake(t0.AddDate(-3, 0, 0), 3), name: "Mo", roles: []string{modRole}}
	cm      = user{id: snowflake(t0.AddDate(-4, 0, 0), 4), name: "Alice"}
	mallory = user{id: snowflake(t0.AddDate(-1, 0, 0), 5), name: "Mallory", roles: []string{vipRole}}
	robot   = user{id: snowflake(t0.AddDate(-1, 0, 0), 6), name: "Robot", bot: true}
)

// message is a MESSAGE_CREATE payload.
func message(id, channel string, from user, at time.Time, text string) map[string]any {
	return map[string]any{
		"id": id, "channel_id": channel, "guild_id": guildID, "type": 0, "content": text,
		"author": from.json(), "member": from.member(at.Add(-24 * time.Hour)),
		"timestamp": at.UTC().Format(time.RFC3339Nano), "edited_timestamp": nil,
		"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
		"flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false,
	}
}

// memberObject is a guild member as GUILD_MEMBER_ADD and GUILD_MEMBER_UPDATE
// carry it, in guild.
func memberObject(u user, nick any, joined time.Time) map[string]any {
	m := u.member(joined)
	m["guild_id"], m["user"], m["nick"] = guildID, u.json(), nick
	for _, k := range []string{"avatar", "banner", "communication_disabled_until", "premium_since"} {
		m[k] = nil
	}
	m["flags"], m["pending"], m["mute"], m["deaf"] = 0, false, false, false
	return m
}

// press is an INTERACTION_CREATE for a button of the card message.
func press(id string, from user, cardMsg, custom string) map[string]any {
	return map[string]any{
		"id": id, "application_id": appID, "type": 3, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": deskID,
		"member":  map[string]any{"user": from.json(), "roles": from.member(t0)["roles"], "joined_at": t0.Format(time.RFC3339), "permissions": "0"},
		"message": map[string]any{"id": cardMsg, "channel_id": deskID, "type": 0, "content": "card", "author": map[string]any{"id": botID, "username": "vigie", "bot": true}, "timestamp": t0.Format(time.RFC3339)},
		"data":    map[string]any{"custom_id": custom, "component_type": 2},
	}
}

// slash is an INTERACTION_CREATE for /vigie SUB.
func slash(id string, from user, sub string, opts ...map[string]any) map[string]any {
	o := map[string]any{"name": sub, "type": 1}
	if len(opts) > 0 {
		o["options"] = opts
	}
	return map[string]any{
		"id": id, "application_id": appID, "type": 2, "token": "tok-" + id, "version": 1,
		"guild_id": guildID, "channel_id": deskID,
		"member": map[string]any{"user": from.json(), "roles": from.member(t0)["roles"], "joined_at": t0.Format(time.RFC3339), "permissions": "0"},
		"data":   map[string]any{"id": "cmd-1", "name": "vigie", "type": 1, "options": []any{o}},
	}
}

func newTestClient(t *testing.T, f *discordfake.Server, cfg Config) (*Client, *testsync.Buffer) {
	t.Helper()
	return newTestClientVia(t, f, cfg, nil)
}

// newTestClientVia is newTestClient whose calls to Discord go through
// via(the fake's transport), when via is not nil: a proxy on the way.
func newTestClientVia(t *testing.T, f *discordfake.Server, cfg Config, via func(http.RoundTripper) http.RoundTripper) (*Client, *testsync.Buffer) {
	t.Helper()
	logs := &testsync.Buffer{}
	cfg.Token = "test-token"
	cfg.APIURL = testAPIURL
	cfg.HTTPClient = f.Client()
	if via != nil {
		cfg.HTTPClient.Transport = via(cfg.HTTPClient.Transport)
	}
	cfg.Logger = testsync.Logger(logs)
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs
}

// run starts c and stops it when the test ends; it returns once READY came and
// the guild is known, with what stops c sooner.
func run(t *testing.T, f *discordfake.Server, c *Client, out chan bot.Event, perms int64) (stop context.CancelFunc) {
	t.Helper()
	cancel, _ := start(t, f, c, out, perms, nil)
	return cancel
}

// runGuild is the client of the guild guildID on a fake Discord, run with
// every permission until the test ends; its events go to out.
func runGuild(t *testing.T) (f *discordfake.Server, c *Client, out chan bot.Event) {
	t.Helper()
	f = newFakeDiscord(t)
	c, _ = newTestClient(t, f, Config{Guilds: []string{guildID}})
	out = make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)
	return f, c, out
}

// runShard is run with the shard's memory in mem; stop returns once Run
// did.
func runShard(t *testing.T, f *discordfake.Server, c *Client, out chan bot.Event, perms int64, mem ChannelMemory) (stop func()) {
	t.Helper()
	_, stop = start(t, f, c, out, perms, mem)
	return stop
}

// start runs c with the memory mem, as run says; cancel stops it, stopped
// stops it and waits until Run returned.
func start(t *testing.T, f *discordfake.Server, c *Client, out chan bot.Event, perms int64, mem ChannelMemory) (cancel context.CancelFunc, stopped func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var runErr error
	go func() { runErr = c.RunShard(ctx, out, mem); close(done) }()
	stopped = func() {
		cancel()
		select {
		case <-done:
			if runErr != nil {
				t.Errorf("Run returned %v", runErr)
			}
		case <-time.After(testsync.Patience):
			t.Errorf("Run did not return after cancel")
		}
	}
	t.Cleanup(stopped)
	select {
	case <-f.Ready():
	case <-done:
		t.Fatalf("Run returned before READY: %v", runErr)
	case <-time.After(testsync.Patience):
		t.Fatal("no IDENTIFY")
	}
	f.Dispatch("GUILD_CREATE", guildCreate(perms))
	// READY already put the guild in the state, unavailable and without its
	// roles or channels: wait for GUILD_CREATE's.
	testsync.Eventually(t, "the guild in the state", func() bool {
		g, err := c.sess.State.Guild(guildID)
		if err != nil {
			return false
		}
		c.sess.State.RLock()
		defer c.sess.State.RUnlock()
		return !g.Unavailable
	})
	return cancel, stopped
}

// allPerms is what a well set-up vigie role may do.
const allPerms = 1<<10 | 1<<11 | 1<<16 | 1<<38 | 1<<13 | 1<<40 | 1<<1 | 1<<2 | 1<<28 | 1<<27 | 1<<34

// told is what vigie told the author of interaction id, which only they
// see: after the acknowledgement (a button's deferred update, a command's
// deferred answer), a follow-up message or the answer's edit.
func told(t *testing.T, f *discordfake.Server, id string) string {
	t.Helper()
	ack := f.WaitFor(t, "POST", "/interactions/"+id+"/", 1, nil)
	switch ack.Body["type"] {
	case float64(6):
		m := f.WaitFor(t, "POST", "/webhooks/"+appID+"/tok-"+id, 1, nil)
		if m.Body["flags"] != float64(64) {
			t.Errorf("follow-up to %s for everyone to see: %s", id, m.Raw)
		}
		return fmt.Sprint(m.Body["content"])
	case float64(4):
		d, _ := ack.Body["data"].(map[string]any)
		if d["flags"] != float64(64) {
			t.Errorf("answer to %s for everyone to see: %s", id, ack.Raw)
		}
		return fmt.Sprint(d["content"])
	case float64(5):
		if d, _ := ack.Body["data"].(map[string]any); d["flags"] != float64(64) {
			t.Errorf("answer to %s for everyone to see: %s", id, ack.Raw)
		}
		e := f.WaitFor(t, "PATCH", "/webhooks/"+appID+"/tok-"+id+"/messages/@original", 1, nil)
		return fmt.Sprint(e.Body["content"])
	}
	t.Errorf("acknowledgement of %s = %s", id, ack.Raw)
	return ""
}
