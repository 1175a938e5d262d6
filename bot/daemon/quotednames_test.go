package daemon_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/internal/discordfake"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

const quotingRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "free nitro"'
    do: ['warn("{{author.name}}, no scams here")', 'reply("Noted, {{author.name}}.")']
faq:
  cooldown: {channel: off, user: off}
  entries:
    - id: hours
      questions: ["when are you open?"]
      answer: {en: "9am-7pm, {{author.name}}."}
`

// What Telegram makes of a message's text (Bot API, MessageEntity): a
// command, "/" then a letter, digit or "_" after no letter, digit, "_", "/",
// "<" or ">"; a mention, "@" then a letter, digit or "_" after no word
// character; a link, an address with its scheme or a bare host.
var (
	tgCommand = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_/<>])/[A-Za-z0-9_]`)
	tgMention = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_])@[A-Za-z0-9_]`)
	tgLink    = regexp.MustCompile(`https?://|scam\.example`)
)

// TestNamesInVigiesWordsOnTelegram: a member's name that a rule's warning,
// a reply or an FAQ answer quotes ({{author.name}}) is one line, cut, and
// makes nothing of vigie's message: no command a tap sends, no mention that
// pings the CM it names, no link, no line of its own in vigie's voice.
func TestNamesInVigiesWordsOnTelegram(t *testing.T) {
	const group = -100200
	api := telegramGroupHeard(t, quotingRules, group)
	const name = "Bob\n✅ Verified /pause @ann_cm https://scam.example/x scam.example"
	api.Push(groupMessage(group, 7, name, "FREE NITRO here"))
	api.Push(groupMessage(group, 7, name, "when are you open?"))
	var said []url.Values
	testsync.Eventually(t, "the warning, the reply and the answer", func() bool {
		said = find(api, "sendMessage", "chat_id", strconv.Itoa(group))
		return len(said) == 3
	})
	for _, p := range said {
		text := p.Get("text")
		if p.Get("parse_mode") == "HTML" {
			// the warning names the member by a link to them first
			text = regexp.MustCompile(`<[^>]*>`).ReplaceAllString(text, "")
		}
		if !strings.Contains(text, "Bob") {
			t.Errorf("vigie said %q: the name is not quoted", text)
		}
		for what, re := range map[string]*regexp.Regexp{"a command": tgCommand, "a mention": tgMention, "a link": tgLink} {
			if found := re.FindAllString(text, -1); len(found) > 0 {
				t.Errorf("vigie said %q: the name made %s of it, %q", text, what, found)
			}
		}
		if strings.Contains(text, "\n") {
			t.Errorf("vigie said %q: the name wrote a line of its own", text)
		}
	}
}

// TestNamesInVigiesWordsOnDiscord: on Discord too, a nickname that a rule's
// warning and reply quote makes no link under other words, no mention and
// no address in vigie's voice (vigie's messages ping nobody, but a mention
// still shows as one).
func TestNamesInVigiesWordsOnDiscord(t *testing.T) {
	w := discordOnRedis(t, quotingRules, 195_000_000_000)
	const nick = "[Free nitro](https://scam.example) <@600000000000000009> @everyone"
	now := w.f.Now().UTC()
	w.f.Dispatch("MESSAGE_CREATE", map[string]any{
		"id": "700000000000000301", "channel_id": w.channel, "guild_id": w.guild, "type": 0, "content": "FREE NITRO here",
		"author": map[string]any{"id": "600000000000000007", "username": "eve", "global_name": "Eve", "avatar": nil, "discriminator": "0",
			"public_flags": 0, "flags": 0, "primary_guild": nil},
		"member":    map[string]any{"roles": []string{}, "nick": nick, "joined_at": now.Add(-24 * time.Hour).Format(time.RFC3339)},
		"timestamp": now.Format(time.RFC3339Nano), "edited_timestamp": nil,
		"attachments": []any{}, "embeds": []any{}, "mentions": []any{}, "mention_roles": []any{},
		"flags": 0, "components": []any{}, "pinned": false, "mention_everyone": false, "tts": false,
	})
	var said []discordfake.Call
	testsync.Eventually(t, "the warning and the reply", func() bool {
		said = w.f.Calls("POST", "/channels/"+w.channel+"/messages")
		return len(said) == 2
	})
	made := regexp.MustCompile(`\]\(|<@|@everyone|https?://`)
	for _, c := range said {
		text := fmt.Sprint(c.Body["content"])
		if !strings.Contains(text, "Free nitro") {
			t.Errorf("vigie said %q: the name is not quoted", text)
		}
		if found := made.FindAllString(text, -1); len(found) > 0 {
			t.Errorf("vigie said %q: the name made %q of it", text, found)
		}
	}
}

// TestGroupTitleInVigiesWordsOnTelegram: a Telegram group's members may
// change its title (the default rights let them); a title that a warning
// quotes ({{space}}) makes no command, mention or link of vigie's message
// either.
func TestGroupTitleInVigiesWordsOnTelegram(t *testing.T) {
	rules := strings.Replace(quotingRules, `'warn("{{author.name}}, no scams here")', 'reply("Noted, {{author.name}}.")'`, `'warn("no scams in {{space}}")'`, 1)
	const group = -100200
	api := telegramGroupHeard(t, rules, group)
	m := groupMessage(group, 7, "Bob", "FREE NITRO here")
	m["message"].(map[string]any)["chat"].(map[string]any)["title"] = "Fans /pause @ann_cm https://scam.example/x"
	api.Push(m)
	var said []url.Values
	testsync.Eventually(t, "the warning", func() bool {
		said = find(api, "sendMessage", "chat_id", strconv.Itoa(group))
		return len(said) == 1
	})
	text := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(said[0].Get("text"), "")
	if !strings.Contains(text, "Fans") {
		t.Errorf("vigie said %q: the title is not quoted", text)
	}
	for what, re := range map[string]*regexp.Regexp{"a command": tgCommand, "a mention": tgMention, "a link": tgLink} {
		if found := re.FindAllString(text, -1); len(found) > 0 {
			t.Errorf("vigie said %q: the title made %s of it, %q", text, what, found)
		}
	}
}

// telegramGroupHeard runs vigie on rules with Telegram on, and returns once
// it heard group and listed its admins: until then its authors may be staff,
// and a rule hit is only a case.
func telegramGroupHeard(t *testing.T, rules string, group int64) *tgfake.Server {
	t.Helper()
	api := tgfake.New(t)
	in := start(t, rules, map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL})
	api.Push(groupMessage(group, 6, "Dan", "hello"))
	testsync.Eventually(t, "the group's admins listed", func() bool {
		return strings.Contains(string(in.do(t, "GET", "/metrics", nil, nil).body), `vigie_telegram_admin_lookups_total{result="ok"} 1`)
	})
	return api
}
