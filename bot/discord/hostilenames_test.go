package discord

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/bot/internal/desktest"
)

// TestHostileNamesOnDiscordCards: a member's name, on Discord or on another
// platform whose cases come to the Discord desk, cannot change what the
// moderators read of a card: it stays on the author's line, cut, and a
// right-to-left override in it turns nothing after it, also once cut.
func TestHostileNamesOnDiscordCards(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	for i, tt := range []struct{ what, platform, name string }{
		{"name of three lines", "telegram", "Eve\n\n✅ Kept — decided by Ann"},
		{"name with other line breaks", "discord", "Eve\r✅ Kept\u2028— decided\u0085by Ann"},
		{"name of 4,096 characters", "telegram", strings.Repeat("E", 4096)},
		{"long name turning the line", "telegram", "Eve\u202e" + strings.Repeat("x", 4096)},
		{"name stacking marks over the lines around", "discord", "E" + strings.Repeat("\u0301", 30)},
	} {
		ev := bot.Event{ID: fmt.Sprint(1001 + i), Platform: tt.platform, Kind: bot.KindMessage, Space: "-100", Channel: "-100",
			Author: bot.Author{ID: "7", Name: tt.name}, Text: "hello"}
		if err := desk.PostCard(context.Background(), bot.Card{ID: fmt.Sprintf("c-%d", i), Rule: "scam", Event: ev}); err != nil {
			t.Fatalf("%s: PostCard: %v", tt.what, err)
		}
		content := fmt.Sprint(f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", i+1, nil).Body["content"])
		line, before := desktest.AuthorLine(content, "7")
		switch {
		case !strings.HasPrefix(line, "<#") && !strings.HasPrefix(line, tt.platform+" "):
			t.Errorf("%s: the author's line does not start the card's place: %q\ncard:\n%s", tt.what, line, content)
		case strings.Contains(content, "\n✅") || strings.ContainsAny(content, "\r\u2028\u0085"):
			t.Errorf("%s: a name broke the card's lines:\n%s", tt.what, content)
		case strings.Count(before, "\u2068") != strings.Count(before, "\u2069"):
			t.Errorf("%s: the author's id is turned by what comes before it: %q", tt.what, before)
		case len([]rune(line)) > 120:
			t.Errorf("%s: the author's line is %d long, not cut: %.80q…", tt.what, len([]rune(line)), line)
		case desktest.MarksInARow(content) > bot.MaxMarks:
			t.Errorf("%s: %d combining marks stacked on one letter: %q", tt.what, desktest.MarksInARow(content), line)
		}
	}
}

// TestDiscordCardSaysWhoPosesAsACM: on the Discord desk too, a member named
// like a CM of the desk without being them, by the CM's nickname, display
// name or username, or by a look-alike of one (Cyrillic letters, a joiner,
// fullwidth), has a card that says so under the author's line; so has
// another platform's member whose username shown on the card is the CM's.
// The CM's own case and a member of another name have none. The CM is not
// in the state: Discord is asked for their names.
func TestDiscordCardSaysWhoPosesAsACM(t *testing.T) {
	f := newFakeDiscord(t)
	f.SetMember(guildID, memberObject(cm, "Ali", t0.AddDate(-1, 0, 0)))
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, CMs: []string{"discord:" + cm.id}})
	desk := c.Desk(&desktest.Commands{})
	run(t, f, c, make(chan bot.Event, 4), allPerms)
	const warning = "⚠️ Not the CM Ali (@alice): named like them"
	for i, tt := range []struct {
		what     string
		platform string
		author   bot.Author
		poses    bool
	}{
		{"her nickname", "discord", bot.Author{ID: "7", Name: "Ali", Username: "eve"}, true},
		{"her display name with a Cyrillic А", "discord", bot.Author{ID: "7", Name: "\u0410lice", Username: "eve"}, true},
		{"her nickname with a zero-width joiner", "discord", bot.Author{ID: "7", Name: "A\u200dli", Username: "eve"}, true},
		{"her username in a name, fullwidth", "discord", bot.Author{ID: "7", Name: "Eve (@\uff41lice)", Username: "eve"}, true},
		{"her username on Telegram, with a Cyrillic с", "telegram", bot.Author{ID: "7", Name: "Eve", Username: "ali\u0441e"}, true},
		{"another name", "discord", bot.Author{ID: "7", Name: "Alicia", Username: "alicia"}, false},
		{"herself", "discord", bot.Author{ID: cm.id, Name: "Ali", Username: "alice"}, false},
	} {
		ev := bot.Event{ID: fmt.Sprint(2001 + i), Platform: tt.platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: tt.author, Text: "hello"}
		if tt.platform != Platform {
			ev.Space, ev.Channel = "-100", "-100"
		}
		if err := desk.PostCard(context.Background(), bot.Card{ID: fmt.Sprintf("c-%d", i), Rule: "scam", Event: ev}); err != nil {
			t.Fatalf("%s: PostCard: %v", tt.what, err)
		}
		content := fmt.Sprint(f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", i+1, nil).Body["content"])
		if got := strings.Contains(content, "**"+warning+"**"); got != tt.poses {
			t.Errorf("%s: card says %q: %v, want %v:\n%s", tt.what, warning, got, tt.poses, content)
		}
	}
}

// TestDiscordCardSaysWhoPosesAsAModerator: a member named like one who
// holds a moderator role (DISCORD_MODERATOR_ROLES) has a card that says so,
// as for a CM of desk.cms: the moderators are known as the gateway told
// them (a member who joins, or writes), not by asking Discord for the
// guild's members; one whose role is taken away is a moderator no more.
func TestDiscordCardSaysWhoPosesAsAModerator(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID, ModeratorRoles: []string{"Moderator"}})
	desk := c.Desk(&desktest.Commands{})
	out := make(chan bot.Event, 16)
	run(t, f, c, out, allPerms)
	// heard waits for bob's message text: the gateway's events are taken
	// in order, those dispatched before it too
	heard := func(text string) {
		t.Helper()
		f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 20+len(text)), general, bob, t0, text))
		for {
			select {
			case ev := <-out:
				if ev.Text == text {
					return
				}
			case <-time.After(time.Minute):
				t.Fatalf("bob's %q never came from the gateway", text)
			}
		}
	}
	zed := user{id: snowflake(t0.AddDate(-2, 0, 0), 9), name: "Zed", roles: []string{modRole}}
	f.Dispatch("GUILD_MEMBER_ADD", memberObject(mod, nil, t0.AddDate(-1, 0, 0)))
	f.Dispatch("MESSAGE_CREATE", message(snowflake(t0, 10), general, zed, t0, "evening all"))
	heard("hi")
	posted := 0
	card := func(author bot.Author) string {
		t.Helper()
		ev := bot.Event{ID: fmt.Sprint(3001 + posted), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: general,
			Author: author, Text: "hello"}
		if err := desk.PostCard(context.Background(), bot.Card{ID: fmt.Sprintf("c-%d", posted), Rule: "scam", Event: ev}); err != nil {
			t.Fatalf("PostCard: %v", err)
		}
		posted++
		return fmt.Sprint(f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", posted, nil).Body["content"])
	}
	for _, tt := range []struct {
		what   string
		author bot.Author
		want   string
	}{
		{"Mo with a Cyrillic о", bot.Author{ID: "7", Name: "M\u043e", Username: "eve"}, "**⚠️ Not the CM Mo (@mo): named like them**"},
		{"Zed, who wrote, with a Cyrillic е", bot.Author{ID: "7", Name: "Z\u0435d", Username: "eve"}, "**⚠️ Not the CM Zed (@zed): named like them**"},
		{"Mo himself", bot.Author{ID: mod.id, Name: "Mo", Username: "mo"}, ""},
		{"another name", bot.Author{ID: "7", Name: "Eve", Username: "eve"}, ""},
	} {
		content := card(tt.author)
		if tt.want == "" && strings.Contains(content, "Not the CM") || tt.want != "" && !strings.Contains(content, tt.want) {
			t.Errorf("%s: card =\n%s\nwant %q", tt.what, content, tt.want)
		}
	}
	unmod := mod
	unmod.roles = []string{}
	f.Dispatch("GUILD_MEMBER_UPDATE", memberObject(unmod, nil, t0.AddDate(-1, 0, 0)))
	heard("hi again")
	if content := card(bot.Author{ID: "7", Name: "M\u043e", Username: "eve"}); strings.Contains(content, "Not the CM") {
		t.Errorf("a card names Mo, no moderator any more:\n%s", content)
	}
	for _, call := range f.Calls("GET", "/guilds/"+guildID+"/members") {
		if call.Path == "/guilds/"+guildID+"/members" {
			t.Errorf("the guild's members were asked for: %s?%s", call.Path, call.Query.Encode())
		}
	}
}

// TestMembersTextCannotCrowdTheDecisionOffADiscordCard: what a member wrote
// is quoted on the card within the room the rest leaves, counted once
// escaped, so that a text of asterisks, of empty lines or of short lines,
// two or three times longer quoted than written, leaves the link to the
// message and the decision on a decided card; and a carriage return, a
// line break to Discord's reader, starts a quoted line too, so that the
// member writes no line of the card's own under their quote.
func TestMembersTextCannotCrowdTheDecisionOffADiscordCard(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	const link = "https://discord.com/channels/1/5/1001"
	for i, tt := range []struct {
		what, text string
		edited     bool
	}{
		{"text of 1,500 asterisks", strings.Repeat("*", 1500), false},
		{"text of 1,500 empty lines", strings.Repeat("\n", 1500), false},
		{"text of 700 short lines", strings.Repeat("a\n", 700), false},
		{"text of 1,000 brackets, edited to 1,000 more", strings.Repeat("[", 1000), true},
		{"text writing a decision after a carriage return", "hello\r\r**✅ Kept** — decided by Ann", false},
		{"text writing a decision after CR LF", "hello\r\n\n✅ Kept — decided by Ann", false},
	} {
		ev := bot.Event{ID: fmt.Sprint(1001 + i), Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: "5",
			Author: bot.Author{ID: "7", Name: "Eve"}, Text: tt.text, Link: link}
		card := bot.Card{ID: fmt.Sprintf("c-%d", i), Rule: "scam", Event: ev, Suggested: []bot.Action{{Kind: bot.ActDelete}},
			Outcome: bot.OutcomeDelete, DecidedBy: "discord:9", DecidedAt: t0}
		if tt.edited {
			card.Edited = &bot.Edited{Edits: 1, Text: strings.Repeat("]", 1000)}
		}
		content := decidedCard(t, f, desk, fmt.Sprint(1100+i), card, tt.what)
		// as Discord's reader takes the lines: a carriage return breaks one
		for l := range strings.SplitSeq(strings.ReplaceAll(content, "\r", "\n"), "\n") {
			if strings.Contains(l, "Ann") && !strings.HasPrefix(l, "> ") {
				t.Errorf("%s: the member wrote a line of the card's own: %q\ncard:\n%s", tt.what, l, content)
			}
		}
	}
}

func tail(s string, n int) string {
	r := []rune(s)
	return string(r[max(len(r)-n, 0):])
}

// TestMembersTextWritesNoLineOfTheDiscordQueue: in /vigie queue, a member's
// text stays on its case's line whatever line breaks it holds (a carriage
// return, a line or paragraph separator), so that it lists no case of its
// own nor hides one.
func TestMembersTextWritesNoLineOfTheDiscordQueue(t *testing.T) {
	for _, text := range []string{"hi\r• **c-9** spam · Ann: all clear", "hi\u2028• **c-9** spam · Ann", "hi\u2029\u0085\v\f• **c-9** spam · Ann"} {
		cards := []bot.Card{{ID: "c-1", Rule: "scam", Event: bot.Event{Platform: Platform, Author: bot.Author{ID: "7", Name: "Eve"}, Text: text}},
			{ID: "c-2", Rule: "flood", Event: bot.Event{Platform: Platform, Author: bot.Author{ID: "8", Name: "Bob"}, Text: "ok"}}}
		got := renderQueue(cards)
		if lines := strings.FieldsFunc(got, func(r rune) bool { return strings.ContainsRune("\n\r\v\f\u0085\u2028\u2029", r) }); len(lines) != 3 {
			t.Errorf("queue of 2 cases for %q has %d lines, want 3:\n%s", text, len(lines), got)
		}
	}
}

// TestMembersLinksShowNoPreviewOnTheDiscordDesk: a card quoting a member's
// link, as posted and as edited once decided, an alert and a crisis page
// ask Discord to show no embed: the title and picture a scam site chose
// would show under vigie's card, and Discord would fetch the page as the
// case reaches the desk.
func TestMembersLinksShowNoPreviewOnTheDiscordDesk(t *testing.T) {
	f := newFakeDiscord(t)
	c, _ := newTestClient(t, f, Config{DeskChannel: deskID})
	desk := c.Desk(&desktest.Commands{})
	ev := bot.Event{ID: "1001", Platform: Platform, Kind: bot.KindMessage, Space: guildID, Channel: "5",
		Author: bot.Author{ID: "7", Name: "Eve"}, Text: "✅ Kept — decided by Ann https://scam.example/og-kept-by-ann"}
	card := bot.Card{ID: "c-1", Rule: "scam", Event: ev}
	if err := desk.PostCard(context.Background(), card); err != nil {
		t.Fatalf("PostCard: %v", err)
	}
	card.Outcome, card.DecidedBy = bot.OutcomeKeep, "discord:9"
	if err := desk.EditCard(context.Background(), bot.CardRef{Platform: Platform, Chat: deskID, Message: "1100"}, card, ""); err != nil {
		t.Fatalf("EditCard: %v", err)
	}
	if err := desk.Alert(context.Background(), "copy wave: https://scam.example/og"); err != nil {
		t.Fatalf("Alert: %v", err)
	}
	if err := desk.Page(context.Background(), "copy wave: https://scam.example/og"); err != nil {
		t.Fatalf("Page: %v", err)
	}
	for _, call := range []struct{ what, method, path string }{
		{"card", "POST", "/channels/" + deskID + "/messages"},
		{"decided card", "PATCH", "/channels/" + deskID + "/messages/1100"},
	} {
		body := f.WaitFor(t, call.method, call.path, 1, nil).Body
		if flags, _ := body["flags"].(float64); int(flags)&int(discordgo.MessageFlagsSuppressEmbeds) == 0 {
			t.Errorf("%s: flags = %v, want SUPPRESS_EMBEDS", call.what, body["flags"])
		}
	}
	for i, what := range []string{"alert", "page"} {
		body := f.WaitFor(t, "POST", "/channels/"+deskID+"/messages", 2+i, nil).Body
		if flags, _ := body["flags"].(float64); int(flags)&int(discordgo.MessageFlagsSuppressEmbeds) == 0 {
			t.Errorf("%s: flags = %v, want SUPPRESS_EMBEDS", what, body["flags"])
		}
	}
}
