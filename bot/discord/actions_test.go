package discord

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

func TestActionsOut(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{BanDeleteWindow: time.Hour, WarnByDM: true, Guilds: []string{guildID}})
	out := make(chan bot.Event, 4)
	run(t, f, c, out, allPerms)
	ctx := context.Background()
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id, Name: "Bob"}}
	inThread := msg
	inThread.Thread = threadID
	edit := msg
	edit.ID, edit.Kind = "1001@1700000000000", bot.KindEdit

	tests := []struct {
		name   string
		do     func() error
		method string
		path   string
		check  func(t *testing.T, c discordfake.Call)
	}{
		{"delete", func() error { return c.Delete(ctx, msg) }, "DELETE", "/channels/" + general + "/messages/1001", nil},
		{"delete in a thread", func() error { return c.Delete(ctx, inThread) }, "DELETE", "/channels/" + threadID + "/messages/1001", nil},
		{"delete an edited message", func() error { return c.Delete(ctx, edit) }, "DELETE", "/channels/" + general + "/messages/1001", nil},
		{"timeout", func() error { return c.Timeout(ctx, msg, 10*time.Minute) }, "PATCH", "/guilds/" + guildID + "/members/" + bob.id, func(t *testing.T, call discordfake.Call) {
			until, err := time.Parse(time.RFC3339, call.Body["communication_disabled_until"].(string))
			if d := time.Until(until); err != nil || d < 9*time.Minute || d > 11*time.Minute {
				t.Errorf("communication_disabled_until = %v (%v)", call.Body["communication_disabled_until"], err)
			}
			if call.Header.Get("X-Audit-Log-Reason") == "" {
				t.Errorf("no audit log reason")
			}
		}},
		{"timeout is capped at 28 days", func() error { return c.Timeout(ctx, msg, 60*24*time.Hour) }, "PATCH", "/guilds/" + guildID + "/members/" + bob.id, func(t *testing.T, call discordfake.Call) {
			until, _ := time.Parse(time.RFC3339, call.Body["communication_disabled_until"].(string))
			if d := time.Until(until); d > MaxTimeout || d < MaxTimeout-time.Hour {
				t.Errorf("timed out for %s", d)
			}
		}},
		{"untimeout", func() error { return c.Untimeout(ctx, msg) }, "PATCH", "/guilds/" + guildID + "/members/" + bob.id, func(t *testing.T, call discordfake.Call) {
			if string(call.Raw) != `{"communication_disabled_until":null}` {
				t.Errorf("untimeout body = %s, want communication_disabled_until null", call.Raw)
			}
		}},
		// Before the kick and the ban: a member kicked or banned is one no more.
		{"tag with a role", func() error { return c.Tag(ctx, msg, "vip") }, "PUT", "/guilds/" + guildID + "/members/" + bob.id + "/roles/" + vipRole, nil},
		{"untag a role", func() error { return c.Tag(ctx, msg, "-VIP") }, "DELETE", "/guilds/" + guildID + "/members/" + bob.id + "/roles/" + vipRole, nil},
		{"kick", func() error { return c.Kick(ctx, msg) }, "DELETE", "/guilds/" + guildID + "/members/" + bob.id, nil},
		{"ban with a clean-up window", func() error { return c.Ban(ctx, msg, 0) }, "PUT", "/guilds/" + guildID + "/bans/" + bob.id, func(t *testing.T, call discordfake.Call) {
			if call.Body["delete_message_seconds"] != float64(3600) {
				t.Errorf("ban body = %s", call.Raw)
			}
		}},
		{"unban", func() error { return c.Unban(ctx, msg) }, "DELETE", "/guilds/" + guildID + "/bans/" + bob.id, nil},
		{"reply", func() error { return c.Reply(ctx, msg, "Bonjour @everyone") }, "POST", "/channels/" + general + "/messages", func(t *testing.T, call discordfake.Call) {
			ref, _ := call.Body["message_reference"].(map[string]any)
			am, _ := call.Body["allowed_mentions"].(map[string]any)
			if call.Body["content"] != "Bonjour @everyone" || ref["message_id"] != "1001" || am == nil || len(am["parse"].([]any)) != 0 {
				t.Errorf("reply body = %s", call.Raw)
			}
		}},
		{"warn by DM", func() error { return c.Warn(ctx, msg, "slow down") }, "POST", "/channels/9" + bob.id + "/messages", func(t *testing.T, call discordfake.Call) {
			if call.Body["content"] != "slow down" {
				t.Errorf("DM body = %s", call.Raw)
			}
		}},
		{"tag with a reaction", func() error { return c.Tag(ctx, msg, "⚠️") }, "PUT", "/channels/" + general + "/messages/1001/reactions/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.Count(tt.method, tt.path)
			if err := tt.do(); err != nil {
				t.Fatalf("error %v", err)
			}
			call := f.WaitFor(t, tt.method, tt.path, before+1, nil)
			if tt.check != nil {
				tt.check(t, call)
			}
		})
	}

	t.Run("a member who refuses DMs is warned in the channel", func(t *testing.T) {
		f.Fail("POST", "/channels/9"+bob.id, 403, `{"message": "Cannot send messages to this user", "code": 50007}`, nil, 1)
		before := f.Count("POST", "/channels/"+general+"/messages")
		if err := c.Warn(ctx, msg, "slow down"); err != nil {
			t.Fatal(err)
		}
		f.WaitFor(t, "POST", "/channels/"+general+"/messages", before+1, nil)
	})
}

// TestTimeoutWithinDiscordsClock: Discord refuses a timeout that ends more
// than 28 days after its own clock; on a host whose clock runs two seconds
// ahead of Discord's, the longest timeout vigie asks (a rule's timeout(60d),
// a moderator's /mute 28d) is still taken.
func TestTimeoutWithinDiscordsClock(t *testing.T) {
	f := discordfake.New(t, discordfake.Options{Guilds: []string{guildID}, Now: func() time.Time { return time.Now().Add(-2 * time.Second) }})
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id}}
	for i, d := range []time.Duration{28 * 24 * time.Hour, 60 * 24 * time.Hour} {
		if err := c.Timeout(context.Background(), msg, d); err != nil {
			t.Fatalf("Timeout(%s) = %v", d, err)
		}
		call := f.WaitFor(t, "PATCH", "/guilds/"+guildID+"/members/"+bob.id, i+1, nil)
		until, err := time.Parse(time.RFC3339, call.Body["communication_disabled_until"].(string))
		if left := time.Until(until); err != nil || left < 27*24*time.Hour {
			t.Errorf("Timeout(%s): communication_disabled_until %v (%v), %s from now", d, call.Body["communication_disabled_until"], err, left)
		}
	}
}

// TestActionsOnAMemberWhoLeft: a member who left before the verdict was
// carried out (a raid's account that posts and goes) is Unknown Member to
// Discord for a kick, a timeout or a role. A kick counts as done: they are
// out. A timeout fails for good, to become a case, not to be tried again;
// a ban and a delete of their message are done as ever; once they come
// back, a timeout is taken again.
func TestActionsOnAMemberWhoLeft(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	ctx := context.Background()
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id, Name: "Bob"}}
	f.Dispatch("GUILD_MEMBER_REMOVE", map[string]any{"guild_id": guildID, "user": bob.json()})

	if err := c.Kick(ctx, msg); err != nil {
		t.Errorf("Kick of a member who left = %v, want done", err)
	}
	err := c.Timeout(ctx, msg, time.Hour)
	if err == nil || bot.Retryable(err) || !strings.Contains(err.Error(), "Unknown Member") {
		t.Errorf("Timeout of a member who left = %v, want a refusal for good naming Unknown Member", err)
	}
	if err := c.Ban(ctx, msg, 0); err != nil {
		t.Errorf("Ban of a member who left = %v", err)
	}
	if err := c.Delete(ctx, msg); err != nil {
		t.Errorf("Delete of the message of a member who left = %v", err)
	}
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(bob, nil, t0))
	if err := c.Timeout(ctx, msg, time.Hour); err != nil {
		t.Errorf("Timeout once back = %v", err)
	}
}

// TestActionsOnAMemberVigieRemoved: in a raid vigie kicks a fresh account on
// its join, then judges its name, which asks for a timeout: Discord answers
// Unknown Member, the member being out by vigie's own hand. That timeout
// counts as done, as a kick of a member who left does; it is not a failure,
// which would make a case for each account of the raid. A member vigie did
// not remove keeps the refusal (TestActionsOnAMemberWhoLeft).
func TestActionsOnAMemberVigieRemoved(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	ctx := context.Background()
	raider := bot.Event{ID: "join-1", Platform: "discord", Kind: bot.KindJoin, Space: guildID, Author: bot.Author{ID: newbie.id, Name: "Newbie"}}
	if err := c.Kick(ctx, raider); err != nil {
		t.Fatalf("Kick = %v", err)
	}
	if err := c.Timeout(ctx, raider, time.Hour); err != nil {
		t.Errorf("Timeout of a member vigie kicked = %v, want done", err)
	}
	banned := bot.Event{ID: "1002", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: mallory.id, Name: "Mallory"}}
	if err := c.Ban(ctx, banned, 0); err != nil {
		t.Fatalf("Ban = %v", err)
	}
	if err := c.Timeout(ctx, banned, time.Hour); err != nil {
		t.Errorf("Timeout of a member vigie banned = %v, want done", err)
	}
	left := bot.Event{ID: "1003", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id, Name: "Bob"}}
	f.Dispatch("GUILD_MEMBER_REMOVE", map[string]any{"guild_id": guildID, "user": bob.json()})
	if err := c.Timeout(ctx, left, time.Hour); err == nil || !strings.Contains(err.Error(), "Unknown Member") {
		t.Errorf("Timeout of a member who left on their own = %v, want Unknown Member", err)
	}
}

func TestActionErrors(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	out := make(chan bot.Event, 4)
	run(t, f, c, out, allPerms)
	ctx := context.Background()
	msg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id}}
	rl := http.Header{"X-Ratelimit-Limit": {"5"}, "X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset-After": {"0.01"}, "X-Ratelimit-Bucket": {"b1"}, "Retry-After": {"2"}}

	tests := []struct {
		name       string
		status     int
		body       string
		header     http.Header
		do         func() error
		retryable  bool
		retryAfter time.Duration
		want       string
	}{
		{"429", 429, `{"message": "You are being rate limited.", "retry_after": 1.5, "global": false}`, rl,
			func() error { return c.Timeout(ctx, msg, time.Minute) }, true, 1500 * time.Millisecond, "rate limited"},
		{"missing permission", 403, `{"message": "Missing Permissions", "code": 50013}`, nil,
			func() error { return c.Kick(ctx, msg) }, false, 0, "discord DELETE /api/v9/guilds/" + guildID + "/members/" + bob.id + ": 403 Missing Permissions (code 50013)"},
		{"server error", 500, `{"message": "500: Internal Server Error", "code": 0}`, nil,
			func() error { return c.Ban(ctx, msg, 0) }, true, 0, "500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method, path := "PATCH", "/guilds/"
			switch tt.name {
			case "missing permission":
				method = "DELETE"
			case "server error":
				method = "PUT"
			}
			f.Fail(method, path, tt.status, tt.body, tt.header, 1)
			err := tt.do()
			var ae *bot.ActionError
			if !errors.As(err, &ae) {
				t.Fatalf("error %v is not an ActionError", err)
			}
			if ae.Retryable != tt.retryable || ae.RetryAfter != tt.retryAfter || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q retryable %v after %s, want %v after %s containing %q", err, ae.Retryable, ae.RetryAfter, tt.retryable, tt.retryAfter, tt.want)
			}
		})
	}

	// Discord's Invalid Form Body says which field it refused in "errors":
	// the case and the moderator read it, not the bare message.
	t.Run("invalid form body names the field", func(t *testing.T) {
		f.Fail("POST", "/channels/", 400, `{"message": "Invalid Form Body", "code": 50035, "errors": {`+
			`"message_reference": {"_errors": [{"code": "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "message": "Unknown message"}]}, `+
			`"embeds": {"0": {"description": {"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 4096 or fewer in length."}]}}}}}`, nil, 1)
		err := c.Reply(ctx, msg, "hi")
		want := "400 Invalid Form Body (code 50035): embeds[0].description: Must be 4096 or fewer in length.; message_reference: Unknown message"
		if !strings.Contains(fmt.Sprint(err), want) || bot.Retryable(err) {
			t.Errorf("Reply = %v (retryable %v)\nwant %q, not retryable", err, bot.Retryable(err), want)
		}
	})

	// A 502 is a proxy's page (Cloudflare's), kilobytes of HTML: the error
	// says the status, and is worth another try.
	t.Run("bad gateway", func(t *testing.T) {
		f.Fail("DELETE", "/channels/", 502, "<html><head><title>502 Bad Gateway</title></head><body>"+
			strings.Repeat("<p>cloudflare</p>", 400)+"</body></html>", http.Header{"Content-Type": {"text/html"}}, 1)
		err := c.Delete(ctx, msg)
		if s := fmt.Sprint(err); !strings.Contains(s, "502 Bad Gateway") || strings.Contains(s, "cloudflare") || !bot.Retryable(err) {
			t.Errorf("Delete = %.300s… (%d bytes, retryable %v), want the status without the page, retryable", s, len(s), bot.Retryable(err))
		}
	})

	// A reaction marks a message for the moderators: on a message gone
	// (its author deleted it, or a ban took it), there is nothing to mark.
	t.Run("a reaction on a message already gone counts as done", func(t *testing.T) {
		f.Fail("PUT", "/channels/", 404, `{"message": "Unknown Message", "code": 10008}`, nil, 1)
		if err := c.Tag(ctx, msg, "⚠️"); err != nil {
			t.Errorf("Tag = %v", err)
		}
	})

	t.Run("a message already gone counts as deleted", func(t *testing.T) {
		f.Fail("DELETE", "/channels/", 404, `{"message": "Unknown Message", "code": 10008}`, nil, 1)
		if err := c.Delete(ctx, msg); err != nil {
			t.Errorf("Delete = %v", err)
		}
	})
	t.Run("a join has no message to delete", func(t *testing.T) {
		join := msg
		join.Kind = bot.KindJoin
		if err := c.Delete(ctx, join); err == nil || bot.Retryable(err) {
			t.Errorf("Delete(join) = %v", err)
		}
	})
}

// TestDeskRefusals: a card Discord refuses as it is (a 4xx other than 429) is
// not worth posting again; a 5xx or a 429 is.
func TestDeskRefusals(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	card := bot.Card{ID: "c-000001", Rule: "scam", Event: bot.Event{ID: "1001", Platform: "discord", Text: "hi"}}
	tests := []struct {
		name      string
		status    int
		body      string
		retryable bool
	}{
		{"invalid form body", 400, `{"message": "Invalid Form Body", "code": 50035}`, false},
		{"unknown channel", 404, `{"message": "Unknown Channel", "code": 10003}`, false},
		{"server error", 500, `{"message": "500: Internal Server Error", "code": 0}`, true},
		{"rate limited", 429, `{"message": "You are being rate limited.", "retry_after": 0.5, "global": false}`, true},
		// last: the desk channel's posts are refused for a minute after it
		{"missing permission", 403, `{"message": "Missing Permissions", "code": 50013}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.Fail("POST", "/channels/"+deskID+"/messages", tt.status, tt.body, nil, 1)
			err := desk.PostCard(context.Background(), card)
			if err == nil || bot.Retryable(err) != tt.retryable {
				t.Errorf("PostCard = %v, retryable %v; want retryable %v", err, err != nil && bot.Retryable(err), tt.retryable)
			}
		})
	}
}

// Discord refuses an action on a member above vigie (the owner, a role as
// high as vigie's highest) with the same 403 Missing Permissions as a
// permission vigie lacks; when vigie holds the permission, the error says
// what protects the member, since giving vigie a right would change nothing.
func TestActionsOnAMemberAboveVigie(t *testing.T) {
	refusal := `{"message": "Missing Permissions", "code": 50013}`
	ctx := context.Background()
	modMsg := bot.Event{ID: "1001", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: mod.id, Name: "Mo", Roles: []string{"Moderator"}}}
	ownerMsg := bot.Event{ID: "1002", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: ownerID, Name: "Olga"}}
	bobMsg := bot.Event{ID: "1003", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: bob.id, Name: "Bob"}}
	adminMsg := bot.Event{ID: "1004", Platform: "discord", Kind: bot.KindMessage, Space: guildID, Channel: general,
		Author: bot.Author{ID: cm.id, Name: "Ada", Roles: []string{"Admins"}}}
	tests := []struct {
		name      string
		perms     int64
		do        func(c *Client) error
		outranked string // "" when the refusal is a permission vigie lacks
	}{
		{"timeout of a moderator", allPerms, func(c *Client) error { return c.Timeout(ctx, modMsg, time.Hour) },
			"Mo's highest role, Moderator, is not below vigie's highest role, vigie: drag vigie's role above it"},
		{"ban of a moderator", allPerms, func(c *Client) error { return c.Ban(ctx, modMsg, 0) },
			"Mo's highest role, Moderator, is not below vigie's highest role, vigie"},
		{"kick of the owner", allPerms, func(c *Client) error { return c.Kick(ctx, ownerMsg) },
			"Olga owns the server"},
		{"timeout of a member below vigie", allPerms, func(c *Client) error { return c.Timeout(ctx, bobMsg, time.Hour) }, ""},
		// Discord exempts administrators from timeouts, whatever their rank.
		{"timeout of an administrator below vigie", allPerms, func(c *Client) error { return c.Timeout(ctx, adminMsg, time.Hour) },
			"Ada is an administrator of the server, and Discord lets nobody time out an administrator"},
		{"ban of an administrator below vigie", allPerms, func(c *Client) error { return c.Ban(ctx, adminMsg, 0) }, ""},
		{"timeout of a moderator without Moderate Members", allPerms &^ (1 << 40), func(c *Client) error { return c.Timeout(ctx, modMsg, time.Hour) }, ""},
		// A role vigie gives or takes must be below its own highest.
		{"tag with a role above vigie's", allPerms, func(c *Client) error { return c.Tag(ctx, bobMsg, "Moderator") },
			"the role Moderator is not below vigie's highest role, vigie: drag vigie's role above it"},
		{"tag with a role below vigie's", allPerms, func(c *Client) error { return c.Tag(ctx, bobMsg, "VIP") }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeDiscord(t)
			c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
			run(t, f, c, make(chan bot.Event, 4), tt.perms)
			// Admins is below vigie's role, and may do everything.
			f.Dispatch("GUILD_ROLE_CREATE", map[string]any{"guild_id": guildID, "role": map[string]any{
				"id": adminRole, "name": "Admins", "permissions": "8", "position": 1}})
			testsync.Eventually(t, "the role Admins", func() bool { _, err := c.sess.State.Role(guildID, adminRole); return err == nil })
			f.FailWhen(func(call discordfake.Call) bool { return strings.HasPrefix(call.Path, "/guilds/"+guildID+"/") }, 403, refusal)
			err := tt.do(c)
			if !strings.Contains(fmt.Sprint(err), "Missing Permissions (code 50013)") || bot.Retryable(err) {
				t.Fatalf("error = %v (retryable %v), want Discord's refusal, not retryable", err, bot.Retryable(err))
			}
			if tt.outranked == "" {
				if errors.Is(err, bot.ErrOutranked) || strings.Contains(err.Error(), "drag vigie's role") {
					t.Errorf("error %q blames the hierarchy for a missing permission", err)
				}
				return
			}
			if !strings.Contains(err.Error(), tt.outranked) {
				t.Errorf("error = %q, want it saying %q", err, tt.outranked)
			}
			if member := !strings.HasPrefix(tt.name, "tag"); errors.Is(err, bot.ErrOutranked) != member {
				t.Errorf("error %q: ErrOutranked %v, want %v (the member, not a role, is above vigie)", err, !member, member)
			}
		})
	}
}
