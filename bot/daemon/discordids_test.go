package daemon_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestDiscordEventIDsChecked: an event posted over HTTP for Discord, the
// connector on, whose guild, channel, thread, author or message id is not
// a Discord id is refused with a 400 naming the field: "../.." or
// "123?x=" put into Discord's REST paths would call another endpoint, or
// with the poster's query. Nothing of it reaches Discord; a well-formed
// event after them is acted on. Before, they were judged and the scam's
// author "banned" at whatever path the id made.
func TestDiscordEventIDsChecked(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 5)
	in := startOnly(t, discordClaimsRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret},
		[]daemon.Connector{discordConnector(cl)})
	<-f.Ready()
	const member = "600000000000000007"
	event := func(id string, set func(map[string]any)) map[string]any {
		ev := map[string]any{"id": id, "platform": "discord", "kind": "message", "space": guild, "channel": channel,
			"author": map[string]any{"id": member, "name": "Someone"}, "text": "FREE NITRO on example.com",
			"at": time.Now().UTC().Format(time.RFC3339)}
		if set != nil {
			set(ev)
		}
		return ev
	}
	author := func(id string) func(map[string]any) {
		return func(ev map[string]any) { ev["author"] = map[string]any{"id": id, "name": "Someone"} }
	}
	for _, tc := range []struct {
		name, field string
		ev          map[string]any
	}{
		{"author up the path", "author.id", event("800000000000000301", author("../.."))},
		{"author with a query", "author.id", event("800000000000000302", author("123?x="))},
		{"guild with a slash", "space", event("800000000000000303", func(ev map[string]any) { ev["space"] = guild + "/../1" })},
		{"channel with a query", "channel", event("800000000000000304", func(ev map[string]any) { ev["channel"] = channel + "?around=1" })},
		{"thread up the path", "thread", event("800000000000000305", func(ev map[string]any) { ev["thread"] = ".." })},
		{"message with a query", "id", event("123?x=", nil)},
		{"edit of a message up the path", "id", event("../..@1", func(ev map[string]any) { ev["kind"] = "edit" })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, _ := json.Marshal(tc.ev)
			r := in.do(t, "POST", "/v1/events", body, map[string]string{"X-Vigie-Signature": sign(body, secret)})
			if r.code != http.StatusBadRequest || !strings.Contains(string(r.body), tc.field+" ") || !strings.Contains(string(r.body), "not a Discord id") {
				t.Errorf("POST /v1/events = %d %s; want 400 naming %s", r.code, r.body, tc.field)
			}
		})
	}
	in.post(t, event("800000000000000310", nil))
	testsync.Eventually(t, "the well-formed event's author banned", func() bool { return f.Banned(guild, member) })
	testsync.Eventually(t, "its message deleted", func() bool {
		return f.Count("DELETE", "/channels/"+channel+"/messages/800000000000000310") == 1
	})
	if n := f.Count("PUT", "/guilds/"+guild+"/bans/"); n != 1 {
		t.Errorf("%d bans asked of Discord, want the well-formed event's only:\n%s", n, f.Summary())
	}
	if n := f.Count("DELETE", "/channels/"); n != 1 {
		t.Errorf("%d deletes asked of Discord, want the well-formed event's only:\n%s", n, f.Summary())
	}
}
