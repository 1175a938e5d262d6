package daemon_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/discord"
	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// namedMessage is a message in a group titled title, from a member with a
// first name and a username, in the forum topic thread (named topic) when
// thread is not 0.
func namedMessage(chat int64, title string, user int64, first, username, text string, thread int, topic string) map[string]any {
	msgID++
	m := map[string]any{
		"message_id": msgID, "date": time.Now().Unix(), "text": text,
		"chat": map[string]any{"id": chat, "type": "supergroup", "title": title, "is_forum": thread != 0},
		"from": map[string]any{"id": user, "is_bot": false, "first_name": first, "username": username},
	}
	if thread != 0 {
		m["message_thread_id"], m["is_topic_message"] = thread, true
		m["reply_to_message"] = map[string]any{
			"message_id": thread, "date": time.Now().Unix(), "message_thread_id": thread,
			"chat":                map[string]any{"id": chat, "type": "supergroup", "title": title, "is_forum": true},
			"forum_topic_created": map[string]any{"name": topic, "icon_color": 7322096},
		}
	}
	return map[string]any{"message": m}
}

// The desk names the group by its title, the forum topic by its name and
// people by their names (a CM who decides too), not by ids; a title or a
// name made of HTML or Markdown is shown as written, and breaks no card; a
// renamed group's next card has its new title.
func TestTelegramDeskNames(t *testing.T) {
	api := tgfake.New(t)
	const group, desk = -100200, -100500
	api.SetAdmins(group, 1)
	start(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})

	api.Push(namedMessage(group, "Fans <b>FR</b> *bold*", 8, "<b>Eve</b> *", "eve_x", "FREE NITRO here", 5, "Off-topic & </blockquote>"))
	var card string
	testsync.Eventually(t, "the card", func() bool {
		cards := find(api, "sendMessage", "chat_id", strconv.Itoa(desk))
		if len(cards) > 0 {
			card = cards[0].Get("text")
		}
		return len(cards) == 1
	})
	for _, want := range []string{
		"telegram · Fans &lt;b&gt;FR&lt;/b&gt; *bold* › Off-topic &amp; &lt;/blockquote&gt;",
		"&lt;b&gt;Eve&lt;/b&gt; * (@eve_x) (id 8)",
	} {
		if !strings.Contains(card, want) {
			t.Errorf("card = %s\nwant %q in it", card, want)
		}
	}
	// The CM decides with the card's Keep: the card says who by name.
	caseID := strings.TrimSuffix(strings.TrimPrefix(card[:strings.Index(card, "</b>")], "<b>Case "), "")
	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-1", "data": "v1:" + caseID + ":keep", "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
		"message": map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": map[string]any{"id": desk, "type": "supergroup", "title": "CM desk"}},
	}})
	var edited string
	testsync.Eventually(t, "the card's update", func() bool {
		edits := find(api, "editMessageText", "chat_id", strconv.Itoa(desk))
		if len(edits) > 0 {
			edited = edits[0].Get("text")
		}
		return len(edits) == 1
	})
	if !strings.Contains(edited, "decided by Ann (@ann_cm)") {
		t.Errorf("decided card = %s\nwant it decided by Ann (@ann_cm)", edited)
	}

	// Renamed: the next card has the new title.
	api.Push(namedMessage(group, "Fans", 9, "Zed", "", "free nitro again", 0, ""))
	testsync.Eventually(t, "the second card", func() bool { return len(find(api, "sendMessage", "text", "Zed")) == 1 })
	if got := find(api, "sendMessage", "text", "Zed")[0].Get("text"); !strings.Contains(got, "telegram · Fans · Zed (id 9)") {
		t.Errorf("card after the rename = %s\nwant it to name the group Fans", got)
	}
}

// A raid's alert and lockdown name the Telegram group by its title, from
// the alerts (a wave's page) as from the rules (an alert action): a CM with
// several groups knows which one from the message alone.
func TestTelegramRaidAlertNamesTheGroup(t *testing.T) {
	for name, c := range map[string]struct{ rules, alert string }{
		"wave": {`alerts:
  - name: raid
    when: kind == "join" and counters.joins >= 3
    do: ['alert("Possible raid: over 3 joins in a minute")', lockdown(10m)]
`, "3 joins in 1m on telegram · Fans FR (-100200)"},
		"rule": {`  - name: raid
    category: raid
    when: kind == "join" and counters.joins == 3
    do: ['alert("Possible raid: over 3 joins in a minute")', lockdown(10m)]
`, "Possible raid: over 3 joins in a minute (telegram · Fans FR)"},
	} {
		t.Run(name, func(t *testing.T) {
			api := tgfake.New(t)
			const group = -100200
			api.SetAdmins(group, 1)
			start(t, `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
counters:
  joins: {key: space, window: 1m, when: 'kind == "join"'}
rules:
  - name: noop
    when: "false"
`+c.rules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
			for i := range 3 {
				msgID++
				api.Push(map[string]any{"message": map[string]any{
					"message_id": msgID, "date": time.Now().Unix(),
					"chat":             map[string]any{"id": group, "type": "supergroup", "title": "Fans FR"},
					"from":             map[string]any{"id": 200 + i, "is_bot": false, "first_name": "New"},
					"new_chat_members": []any{map[string]any{"id": 200 + i, "is_bot": false, "first_name": "New"}},
				}})
			}
			testsync.Eventually(t, "the alert", func() bool { return len(find(api, "sendMessage", "text", "Possible raid")) == 1 })
			if got := find(api, "sendMessage", "text", "Possible raid")[0].Get("text"); !strings.Contains(got, c.alert) {
				t.Errorf("alert = %q, want %q in it", got, c.alert)
			}
			testsync.Eventually(t, "the lockdown told", func() bool { return len(find(api, "sendMessage", "text", "🔒")) == 1 })
			if got := find(api, "sendMessage", "text", "🔒")[0].Get("text"); !strings.Contains(got, "on telegram · Fans FR until") {
				t.Errorf("lockdown told = %q, want it to name the group", got)
			}
		})
	}
}

// telegramOnTheDiscordDesk runs vigie on a fake Telegram, whose group's
// admin is user 1, with the telegramRules' desk and a Discord desk posting
// to a fake Discord.
func telegramOnTheDiscordDesk(t *testing.T, group int64) (*tgfake.Server, *discordfake.Server) {
	t.Helper()
	api := tgfake.New(t)
	api.SetAdmins(group, 1)
	dc := discordfake.New(t, discordfake.Options{})
	cl, err := discord.New(discord.Config{Token: discordfake.Token, APIURL: discordAPIURL, DeskChannel: deskChannel, HTTPClient: dc.Client()})
	if err != nil {
		t.Fatal(err)
	}
	startWith(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL},
		daemon.DiscordDeskOf(cl))
	return api, dc
}

// A Telegram case's card on the Discord desk names the group, its topic and
// the member as the Telegram desk does, not by ids.
func TestTelegramCaseOnTheDiscordDeskIsNamed(t *testing.T) {
	const group = -100200
	api, dc := telegramOnTheDiscordDesk(t, group)
	api.Push(namedMessage(group, "Fans FR", 8, "Eve", "eve_x", "FREE NITRO here", 5, "Off-topic"))
	testsync.Eventually(t, "the card on Discord", func() bool { return len(posted(dc, "NITRO")) == 1 })
	card := posted(dc, "NITRO")[0]
	if want := "telegram · Fans FR › Off-topic · Eve (@eve\\_x) (id 8)"; !strings.Contains(card, want) {
		t.Errorf("card = %s\nwant %q in it", card, want)
	}
}

// A forum topic renamed keeps its new name on the cards after a restart (on
// Redis, shared by the instances), though Telegram shows the topic's first
// name in the messages that follow.
func TestTelegramTopicRenameKeptAcrossRestart(t *testing.T) {
	api := tgfake.New(t)
	const group = -100200
	api.SetAdmins(group, 1)
	env := map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"VIGIE_REDIS_URL": redistest.URL(t), "VIGIE_REDIS_PREFIX": redistest.Prefix("topics"),
		// The poller starts 3.6s after the first found no lease, not 18s,
		// and the second takes it over once the first's 3s lease ran out.
		"VIGIE_LEASE_TTL": "3s", "VIGIE_LEASE_TTL_MAX": "3s"}
	first := start(t, telegramRules, env)
	msgID++
	api.Push(map[string]any{"message": map[string]any{
		"message_id": msgID, "date": time.Now().Unix(), "message_thread_id": 5, "is_topic_message": true,
		"chat":               map[string]any{"id": group, "type": "supergroup", "title": "Fans", "is_forum": true},
		"from":               map[string]any{"id": 1, "is_bot": false, "first_name": "Admin"},
		"forum_topic_edited": map[string]any{"name": "Support"},
	}})
	api.Push(namedMessage(group, "Fans", 8, "Eve", "", "FREE NITRO here", 5, "Off-topic"))
	testsync.Eventually(t, "the first card", func() bool { return len(find(api, "sendMessage", "text", "Eve")) == 1 })
	if got := find(api, "sendMessage", "text", "Eve")[0].Get("text"); !strings.Contains(got, "telegram · Fans › Support · Eve") {
		t.Errorf("card before the restart = %s\nwant the topic named Support", got)
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}
	start(t, telegramRules, env)
	api.Push(namedMessage(group, "Fans", 9, "Zed", "", "FREE NITRO again", 5, "Off-topic"))
	testsync.Eventually(t, "the card after the restart", func() bool { return len(find(api, "sendMessage", "text", "Zed")) == 1 })
	if got := find(api, "sendMessage", "text", "Zed")[0].Get("text"); !strings.Contains(got, "telegram · Fans › Support · Zed") {
		t.Errorf("card after the restart = %s\nwant the topic named Support", got)
	}
}

// A Telegram member named like a Telegram CM has a card on the Discord desk
// that says so, as the Telegram desk's does: the CMs a member can pose as
// are those of the member's own platform, whichever desk shows the case.
func TestTelegramCaseOnTheDiscordDeskSaysWhoPosesAsACM(t *testing.T) {
	const group = -100200
	api, dc := telegramOnTheDiscordDesk(t, group)
	// the CM telegram:42 speaks in the group: vigie hears their names
	api.Push(namedMessage(group, "Fans", 42, "Ann", "ann_cm", "good evening all", 0, ""))
	api.Push(namedMessage(group, "Fans", 8, "\u0410nn", "eve_x", "FREE NITRO here", 0, ""))
	api.Push(namedMessage(group, "Fans", 9, "Bob", "bob_x", "free nitro too", 0, ""))
	testsync.Eventually(t, "the cards on Discord", func() bool { return len(posted(dc, "NITRO")) == 1 && len(posted(dc, "nitro too")) == 1 })
	const warning = `**⚠️ Not the CM Ann (@ann\_cm): named like them**`
	if card := posted(dc, "NITRO")[0]; !strings.Contains(card, warning) {
		t.Errorf("card = %s\nwant %q in it", card, warning)
	}
	if card := posted(dc, "nitro too")[0]; strings.Contains(card, "Not the CM") {
		t.Errorf("card of a member of another name = %s\nwant no warning", card)
	}
}

// A Discord member named like a Discord CM has a card on the Telegram desk
// that says so: the Discord client names its CM, as on its own desk, and
// the Telegram desk shows it as the other names it quotes, no @mention.
func TestDiscordCaseOnTheTelegramDeskSaysWhoPosesAsACM(t *testing.T) {
	api := tgfake.New(t)
	guild, channel, f, _ := discordGuild(t, 7)
	const cm, author = "600000000000000042", "600000000000000008"
	cl, err := discord.New(discord.Config{Token: discordfake.Token, APIURL: discordAPIURL, Guilds: []string{guild},
		CMs: []string{"discord:" + cm}, HTTPClient: f.Client()})
	if err != nil {
		t.Fatal(err)
	}
	f.SetMember(guild, map[string]any{
		"user": map[string]any{"id": cm, "username": "evelyn", "global_name": "Eve", "bot": false, "avatar": nil,
			"discriminator": "0", "public_flags": 0, "flags": 0, "primary_guild": nil},
		"nick": nil, "avatar": nil, "banner": nil, "roles": []string{}, "joined_at": "2025-01-01T00:00:00Z", "premium_since": nil,
		"communication_disabled_until": nil, "flags": 0, "pending": false, "mute": false, "deaf": false,
	})
	startOnly(t, telegramRules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL},
		[]daemon.Connector{{Name: "discord", Source: cl, Platforms: []bot.Platform{cl}}})
	// the fake's members are all named Eve (@eve)
	testsync.Eventually(t, "the gateway taking a scam", func() bool {
		return f.Message(guild, channel, "700000000000000301", author, "FREE NITRO here")
	})
	var card string
	testsync.Eventually(t, "the card on the Telegram desk", func() bool {
		got := find(api, "sendMessage", "text", "NITRO")
		if len(got) == 1 {
			card = got[0].Get("text")
		}
		return card != ""
	})
	const want = "⚠️ Not the CM Eve (@\u2060evelyn): named like them"
	if !strings.Contains(card, want) {
		t.Errorf("card = %s\nwant %q in it", card, want)
	}
	// A CM keeps the message: the card, decided, still says it.
	caseID := strings.TrimPrefix(card[:strings.Index(card, "</b>")], "<b>Case ")
	api.Push(map[string]any{"callback_query": map[string]any{
		"id": "cb-1", "data": "v1:" + caseID + ":keep", "chat_instance": "x",
		"from":    map[string]any{"id": 42, "is_bot": false, "first_name": "Ann", "username": "ann_cm"},
		"message": map[string]any{"message_id": 100, "date": time.Now().Unix(), "chat": map[string]any{"id": -100500, "type": "supergroup", "title": "CM desk"}},
	}})
	var edited string
	testsync.Eventually(t, "the card's update", func() bool {
		edits := find(api, "editMessageText", "chat_id", "-100500")
		if len(edits) > 0 {
			edited = edits[0].Get("text")
		}
		return len(edits) == 1
	})
	if !strings.Contains(edited, "decided by Ann") || !strings.Contains(edited, want) {
		t.Errorf("decided card = %s\nwant it decided by Ann, and %q in it", edited, want)
	}
}
