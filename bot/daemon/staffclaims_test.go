package daemon_test

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const claimsRules = `timezone: UTC
http_events: {act_on: [telegram]}
desk:
  telegram_chat: "-100700"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'not author.staff and lower(text) contains "free nitro"'
    do: [delete, ban]
`

// TestStaffIsThePlatformsWord: an event posted over HTTP about a platform
// whose connector is on, and which the rule file lets act there
// (http_events.act_on), says who its author is; whether the author is
// staff is the platform's word, not the event's. A group's administrator
// posted as "staff": false is not banned: Telegram is asked first, as for
// a member whose roles vigie does not know yet, and the case goes to the
// CMs; so are a CM of the desk, staff wherever they write, and the group
// writing as itself (an anonymous administrator). A member posted with "is_admin": true and an administrator's roles
// is banned as any member: fields the event contract does not have, and
// roles, make no one staff.
func TestStaffIsThePlatformsWord(t *testing.T) {
	api := tgfake.New(t)
	const group = -100710
	const mod, member = 77, 80
	api.SetAdmins(group, mod)
	in := start(t, claimsRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret,
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	event := func(msg int, author map[string]any) map[string]any {
		return map[string]any{"id": strconv.Itoa(group) + ":" + strconv.Itoa(msg), "platform": "telegram", "kind": "message",
			"space": strconv.Itoa(group), "author": author, "text": "FREE NITRO on example.com",
			"at": time.Now().UTC().Format(time.RFC3339)}
	}
	in.post(t, event(9001, map[string]any{"id": strconv.Itoa(mod), "name": "Mod", "staff": false}))
	in.post(t, event(9003, map[string]any{"id": "42", "name": "Alice", "staff": false}))
	in.post(t, event(9004, map[string]any{"id": strconv.Itoa(group), "name": "Fans"}))
	in.post(t, event(9002, map[string]any{"id": strconv.Itoa(member), "name": "Eve", "is_admin": true, "roles": []string{"administrator", "creator"}}))
	// One place, one lane: once the member's ban is asked, the
	// administrator's event was carried out before it.
	testsync.Eventually(t, "the member banned", func() bool {
		return len(find(api, "banChatMember", "user_id", strconv.Itoa(member))) == 1
	})
	if got := find(api, "banChatMember", "user_id", strconv.Itoa(mod)); len(got) != 0 {
		t.Errorf("the group's administrator, posted as not staff, was banned: %v", got)
	}
	if got := find(api, "deleteMessage", "message_id", "9001"); len(got) != 0 {
		t.Errorf("the administrator's message was deleted: %v", got)
	}
	if got := find(api, "deleteMessage", "message_id", "9004"); len(got) != 0 {
		t.Errorf("the group's anonymous administrator's message was deleted: %v", got)
	}
	if got := find(api, "banChatMember", "user_id", "42"); len(got) != 0 {
		t.Errorf("a CM of the desk, posted as not staff, was banned: %v", got)
	}
}

const discordClaimsRules = `timezone: UTC
http_events: {act_on: [discord]}
rules:
  - name: scam
    category: spam
    when: 'not author.staff and lower(text) contains "free nitro"'
    do: [delete, ban]
`

// TestStaffIsDiscordsWord: on Discord too, an event posted over HTTP that
// acts there takes its author's staff from Discord: the guild's owner
// posted as "staff": false is not banned, and a member posted as
// "staff": true is.
func TestStaffIsDiscordsWord(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 4)
	const owner, member = "700000000000000999", "600000000000000007"
	in := startOnly(t, discordClaimsRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret},
		[]daemon.Connector{discordConnector(cl)})
	<-f.Ready()
	for _, id := range []string{owner, member} {
		f.SetMember(guild, map[string]any{
			"user": map[string]any{"id": id, "username": "user" + id[len(id)-3:], "global_name": nil, "bot": false, "avatar": nil,
				"discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil},
			"nick": nil, "avatar": nil, "banner": nil, "roles": []string{}, "joined_at": "2025-01-01T00:00:00Z", "premium_since": nil,
			"communication_disabled_until": nil, "flags": 0, "pending": false, "mute": false, "deaf": false,
		})
	}
	event := func(id, author string, staff bool) map[string]any {
		return map[string]any{"id": id, "platform": "discord", "kind": "message", "space": guild, "channel": channel,
			"author": map[string]any{"id": author, "name": "Someone", "staff": staff}, "text": "FREE NITRO on example.com",
			"at": time.Now().UTC().Format(time.RFC3339)}
	}
	in.post(t, event("800000000000000101", owner, false))
	in.post(t, event("800000000000000102", member, true))
	testsync.Eventually(t, "the member banned", func() bool { return f.Banned(guild, member) })
	if f.Banned(guild, owner) {
		t.Errorf("the guild's owner, posted as not staff, was banned")
	}
	if got := f.Calls("DELETE", "/channels/"+channel+"/messages/800000000000000101"); len(got) != 0 {
		t.Errorf("the owner's message was deleted: %v", got)
	}
}

// TestStaffLookupMissIsRemembered: while Telegram does not answer who a
// group's administrators are, an event posted over HTTP that acts there waits
// for it once, not once per event: the group's next events are judged at once
// as of roles unknown (their actions become cases, nobody is banned), and the
// miss is logged once. Once the window ends on the daemon's clock, Telegram's
// answer is acted on.
func TestStaffLookupMissIsRemembered(t *testing.T) {
	api := tgfake.New(t)
	const group = -100720
	const mod, member = 77, 80
	api.SetAdmins(group, mod)
	release := api.HoldAdmins(group)
	var clock atomic.Int64
	clock.Store(time.Now().UTC().Truncate(time.Second).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
	in := start(t, claimsRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret,
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL},
		func(c *daemon.Config) { c.Now = now })
	event := func(msg int) map[string]any {
		return map[string]any{"id": strconv.Itoa(group) + ":" + strconv.Itoa(msg), "platform": "telegram", "kind": "message",
			"space": strconv.Itoa(group), "author": map[string]any{"id": strconv.Itoa(member), "name": "Eve"},
			"text": "FREE NITRO on example.com", "at": now().Format(time.RFC3339)}
	}
	lookups := func() int { return len(find(api, "getChatAdministrators", "chat_id", strconv.Itoa(group))) }
	const n = 4
	for i := range n {
		if v := in.post(t, event(9100+i)); len(v.Matches) != 1 {
			t.Fatalf("event %d: matches %v, want the scam rule", i, v.Matches)
		}
	}
	if got := lookups(); got != 1 {
		t.Errorf("%d events while Telegram does not answer asked it %d times, want once", n, got)
	}
	// Their verdicts carried out (in the group's lane, after the answers)
	// before the window ends: once it has, they would ask Telegram again.
	testsync.Eventually(t, "the bans left to the CMs, roles unknown", func() bool {
		return metric(t, in, `vigie_actions_total{action="ban",platform="telegram",result="roles_unknown"}`) == n
	})
	if got := find(api, "banChatMember", "user_id", strconv.Itoa(member)); len(got) != 0 {
		t.Errorf("an author whose roles Telegram did not give was banned: %v", got)
	}
	if got := strings.Count(in.logs.String(), "did not say in time"); got != 1 {
		t.Errorf("the miss was logged %d times, want once:\n%s", got, in.logs.String())
	}
	// Telegram answers again; the window ends on the daemon's clock.
	release()
	clock.Add(int64(time.Minute))
	in.post(t, event(9200))
	// Within the window, the event would be judged at once as of roles
	// unknown, whatever Telegram says meanwhile: banned, it was judged on
	// Telegram's answer, by a lookup asked again or by the one held (a
	// lookup of the group's admins begun at the start may still be under
	// way when it is released, and answer for it).
	testsync.Eventually(t, "the member banned", func() bool {
		return len(find(api, "banChatMember", "user_id", strconv.Itoa(member))) == 1
	})
	if got := metric(t, in, `vigie_actions_total{action="ban",platform="telegram",result="roles_unknown"}`); got != n {
		t.Errorf("%v bans left to the CMs, roles unknown, after the window, want the %d of before", got, n)
	}
}

// TestStaffLookupMissOfAnUnknownGuild: events posted over HTTP that name a
// guild the Discord connector does not know wait for it once: the miss is
// logged once, the guild's next events are judged at once as of roles
// unknown, and nothing is asked of Discord about it nor done there.
func TestStaffLookupMissOfAnUnknownGuild(t *testing.T) {
	_, channel, f, cl := discordGuild(t, 4)
	const unknown, member = "900000000000000001", "600000000000000007"
	in := startOnly(t, discordClaimsRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret},
		[]daemon.Connector{discordConnector(cl)})
	<-f.Ready()
	for i := range 3 {
		v := in.post(t, map[string]any{"id": "80000000000000020" + strconv.Itoa(i), "platform": "discord", "kind": "message",
			"space": unknown, "channel": channel, "author": map[string]any{"id": member, "name": "Someone"},
			"text": "FREE NITRO on example.com", "at": time.Now().UTC().Format(time.RFC3339)})
		if len(v.Matches) != 1 {
			t.Fatalf("event %d: matches %v, want the scam rule", i, v.Matches)
		}
	}
	if got := strings.Count(in.logs.String(), "did not say in time"); got != 1 {
		t.Errorf("the miss was logged %d times, want once:\n%s", got, in.logs.String())
	}
	if got := f.Calls("GET", "/guilds/"+unknown+"/members/"+member); len(got) != 0 {
		t.Errorf("Discord was asked about a member of a guild vigie does not know: %v", got)
	}
	if f.Banned(unknown, member) {
		t.Errorf("an author whose roles Discord did not give was banned")
	}
}

// TestStaffLookupOfAnAuthorIsRemembered: Discord is asked once whether the
// author of events posted over HTTP is a member, and with which roles, not
// once per event: a stranger's events (not in the guild: Unknown Member)
// and a member's (whom the gateway has not described) would otherwise each
// cost a call to Discord's member route, which the stranger repeats at will
// and the guild's real lookups wait behind. Both are still judged as Discord
// said: the stranger and the member, not staff, are banned.
func TestStaffLookupOfAnAuthorIsRemembered(t *testing.T) {
	guild, channel, f, cl := discordGuild(t, 5)
	const stranger, member = "600000000000000011", "600000000000000012"
	in := startOnly(t, discordClaimsRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret},
		[]daemon.Connector{discordConnector(cl)})
	<-f.Ready()
	f.SetMember(guild, map[string]any{
		"user": map[string]any{"id": member, "username": "user012", "global_name": nil, "bot": false, "avatar": nil,
			"discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil},
		"nick": nil, "avatar": nil, "banner": nil, "roles": []string{}, "joined_at": "2025-01-01T00:00:00Z", "premium_since": nil,
		"communication_disabled_until": nil, "flags": 0, "pending": false, "mute": false, "deaf": false,
	})
	const n = 4
	for i := range n {
		for j, author := range []string{stranger, member} {
			v := in.post(t, map[string]any{"id": "80000000000000030" + strconv.Itoa(2*i+j), "platform": "discord", "kind": "message",
				"space": guild, "channel": channel, "author": map[string]any{"id": author, "name": "Someone"},
				"text": "FREE NITRO on example.com", "at": time.Now().UTC().Format(time.RFC3339)})
			if len(v.Matches) != 1 {
				t.Fatalf("event %d of %s: matches %v, want the scam rule", i, author, v.Matches)
			}
		}
	}
	testsync.Eventually(t, "both banned", func() bool { return f.Banned(guild, stranger) && f.Banned(guild, member) })
	for _, author := range []string{stranger, member} {
		if got := f.Calls("GET", "/guilds/"+guild+"/members/"+author); len(got) != 1 {
			t.Errorf("%d events of %s asked Discord about them %d times, want once", n, author, len(got))
		}
	}
}
