package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/handlers"
	"github.com/vigie-bot/vigie/rules"
)

// A mod-log line quotes members (their names, what the rule matched in their
// message, a warning that names them): on Discord their markdown shows as
// written, so a name cannot be a link in vigie's voice, while vigie's own
// mention of the channel and its links stay as they are, and nobody is pinged.
func TestModLogShowsMembersMarkdownAsWritten(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	l, err := handlers.NewModLog(handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"discord": c}})
	if err != nil {
		t.Fatal(err)
	}
	l.SetConfig(rules.ModLog{DiscordChannel: deskID})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	l.Record(handlers.ModLogEntry{
		At: time.Date(2026, 11, 20, 22, 10, 0, 0, time.UTC),
		Event: bot.Event{ID: "1001", Platform: Platform, Space: guildID, Channel: general,
			Author: bot.Author{ID: bob.id, Name: "[Verify here](https://scam.example) **@everyone**"},
			Link:   "https://discord.com/channels/" + guildID + "/" + general + "/1001"},
		Action: bot.Action{Kind: bot.ActWarn, Text: "stop it, __" + "<@&" + modRole + ">__"},
		Rule:   "scam_link", Reason: "matched \"# free nitro\" in ||spoiler||",
	})
	post := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	got, _ := post.Body["content"].(string)
	want := `⚠️ warn("stop it, \_\_\<@&` + modRole + `\>\_\_") in <#` + general + `> — rule scam\_link: ` +
		`matched "\# free nitro" in \|\|spoiler\|\| · \[Verify here\](https://scam.example) \*\*@everyone\*\* (discord ` + bob.id + `)` +
		` · https://discord.com/channels/` + guildID + `/` + general + `/1001`
	if got != want {
		t.Errorf("line:\n%s\nwant:\n%s", got, want)
	}
	if fmt.Sprint(post.Body["allowed_mentions"]) != "map[parse:[] replied_user:false]" {
		t.Errorf("the line may ping: %s", post.Raw)
	}
}

// A long line is cut before a member's part is escaped, never inside an
// escape, and stays within a Discord message.
func TestModLogLongLineOnDiscord(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{Guilds: []string{guildID}})
	l, err := handlers.NewModLog(handlers.ModLogOptions{Posters: map[string]bot.LogPoster{"discord": c}})
	if err != nil {
		t.Fatal(err)
	}
	l.SetConfig(rules.ModLog{DiscordChannel: deskID})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	l.Record(handlers.ModLogEntry{
		Event:  bot.Event{ID: "1001", Platform: Platform, Space: guildID, Channel: general, Author: bot.Author{ID: bob.id, Name: "Bob"}},
		Action: bot.Action{Kind: bot.ActReply, Text: strings.Repeat("*_", 1000)},
		By:     strings.Repeat("|", 150), Reason: strings.Repeat("`", 300), Failed: strings.Repeat("]", 300),
	})
	post := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 1, nil)
	got, _ := post.Body["content"].(string)
	if n := len([]rune(got)); n > 2000 {
		t.Errorf("%d characters", n)
	}
	if !strings.HasSuffix(got, "…") || strings.HasSuffix(got, `\…`) {
		t.Errorf("line ends %q", got[max(0, len(got)-20):])
	}
	if !strings.Contains(got, `reply("\*\_\*\_`) || strings.Contains(got, "***") || strings.Contains(got, "||") {
		t.Errorf("markdown left unescaped: %s", got)
	}
}
