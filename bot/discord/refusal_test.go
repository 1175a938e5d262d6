package discord

import (
	"testing"

	"github.com/vigie-bot/vigie/bot"
)

// TestRefusalWords: each refusal of Discord's vigie knows reads in a CM's
// words, by the action refused, its code in brackets; another keeps
// Discord's text.
func TestRefusalWords(t *testing.T) {
	for _, tc := range []struct {
		op   bot.ActionKind
		err  *APIError
		want string
	}{
		{bot.ActTimeout, &APIError{Method: "PATCH", Path: "/api/v9/guilds/1/members/2", Status: 403, Code: 50013, Message: "Missing Permissions"},
			"Discord refused: vigie lacks the Moderate Members permission in this server (or its role is below the member's) [discord 50013]"},
		{bot.ActDelete, &APIError{Method: "DELETE", Path: "/api/v9/channels/1/messages/2", Status: 403, Code: 50013, Message: "Missing Permissions"},
			"Discord refused: vigie lacks the Manage Messages permission in this channel [discord 50013]"},
		{bot.ActDelete, &APIError{Method: "DELETE", Path: "/api/v9/channels/1/messages/2", Status: 403, Code: 50001, Message: "Missing Access"},
			"Discord refused: vigie cannot see this channel: give its role View Channel there [discord 50001]"},
		{bot.ActTimeout, &APIError{Method: "PATCH", Path: "/api/v9/guilds/1/members/2", Status: 404, Code: 10007, Message: "Unknown Member"},
			"Discord refused: the member is no longer in the server [discord 10007]"},
		{bot.ActDelete, &APIError{Method: "DELETE", Path: "/api/v9/channels/1/messages/2", Status: 404, Code: 10008, Message: "Unknown Message"},
			"Discord refused: the message is already gone (deleted by its author or a moderator) [discord 10008]"},
		{bot.ActBan, &APIError{Method: "PUT", Path: "/api/v9/guilds/1/bans/2", Status: 429, Message: "You are being rate limited."},
			"Discord refused: vigie's calls are limited for now (too many at once): the case stays open on the desk [discord 429]"},
		{bot.ActDelete, &APIError{Method: "DELETE", Path: "/api/v9/channels/1/messages/2", Status: 400, Code: 50021, Message: "Cannot execute action on a system message"},
			"Discord refused: this is a system message (a join, a boost, a pin's notice), which Discord lets no bot act on: act on the member instead, or by hand [discord 50021]"},
		{bot.ActDelete, &APIError{Method: "POST", Path: "/api/v9/channels/1/messages/bulk-delete", Status: 400, Code: 50034, Message: "You can only bulk delete messages that are under 14 days old."},
			"Discord refused: Discord deletes in bulk only messages under 14 days old: delete the older ones one by one [discord 50034]"},
		{bot.ActReply, &APIError{Method: "POST", Path: "/api/v9/channels/1/messages", Status: 400, Code: 50083, Message: "Thread is archived"},
			"Discord refused: the thread is archived: open it again to act in it [discord 50083]"},
		{bot.ActWarn, &APIError{Method: "POST", Path: "/api/v9/channels/1/messages", Status: 403, Code: 50007, Message: "Cannot send messages to this user"},
			"Discord refused: the member takes no direct messages from vigie (their privacy settings, or they left every server vigie shares with them) [discord 50007]"},
		{bot.ActBan, &APIError{Method: "PUT", Path: "/api/v9/guilds/1/bans/2", Status: 404, Code: 10013, Message: "Unknown User"},
			"Discord refused: the member's account no longer exists [discord 10013]"},
		{bot.ActDelete, &APIError{Method: "DELETE", Path: "/api/v9/channels/1/messages/2", Status: 404, Code: 10003, Message: "Unknown Channel"},
			"Discord refused: the channel is gone (deleted), and its messages with it [discord 10003]"},
		{bot.ActBan, &APIError{Method: "PUT", Path: "/api/v9/guilds/1/bans/2", Status: 400, Code: 50035, Message: "Invalid Form Body"},
			"ban: discord PUT /api/v9/guilds/1/bans/2: 400 Invalid Form Body (code 50035)"},
	} {
		if got := bot.RefusalWords(&bot.ActionError{Op: tc.op, Err: tc.err}); got != tc.want {
			t.Errorf("%s refused %d/%d:\n got %q\nwant %q", tc.op, tc.err.Status, tc.err.Code, got, tc.want)
		}
	}
}

// Every permission the actions, the moderators' rights and the guild check
// ask for has its name: the texts that name it read the one table.
func TestEveryPermissionNamed(t *testing.T) {
	for action, p := range actionPermissions {
		if permissionName(p.perm) == "" {
			t.Errorf("%s needs a permission (%d) without a name", action, p.perm)
		}
	}
	for right, perm := range modPermission {
		if permissionName(perm) == "" {
			t.Errorf("the right %s is a permission (%d) without a name", right, perm)
		}
	}
	for _, n := range needed {
		if permissionName(n.perm) == "" {
			t.Errorf("the guild check needs a permission (%d) without a name", n.perm)
		}
	}
}
