package rules_test

import (
	"context"
	"testing"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// TestWhatAMessageShows checks that the rules read what a message shows
// besides its text (a forward, hidden links, embeds, a poll, file names) and
// members' names, and that text stays what the author wrote.
func TestWhatAMessageShows(t *testing.T) {
	rs := parse(t, `
lists:
  scam: [free nitro]
rules:
  - name: scam-anywhere
    when: has_any(content, lists.scam)
    do: [delete]
  - name: scam-written
    when: has_any(text, lists.scam)
    do: [delete]
  - name: linked
    when: '"dlscord.gift" in domains'
    do: [delete]
  - name: hidden
    when: len(hidden_links) > 0
    do: [tag("hidden")]
  - name: forwarded
    when: forwarded and forward.from == "Crypto Signals" and forward.text != ""
    do: [tag("forward")]
  - name: exe
    when: any(files, {# endsWith ".exe"})
    do: [delete]
  - name: name
    when: kind == "profile" and author.username == "nitro_drop" and has_any(author.name, lists.scam)
    do: [timeout(1h)]
`)
	e := rules.NewEngine(rs, memory.New(), rules.Options{})
	at := paris(t, 5, 12, 0)
	tests := []struct {
		name string
		ev   bot.Event
		want string
	}{
		{"plain text", msg("m1", "bob", "free nitro here", at),
			`scam-anywhere: delete | matched "free nitro" from lists.scam; scam-written: delete | matched "free nitro" from lists.scam`},
		{"a forward", func() bot.Event {
			ev := msg("m2", "bob", "", at)
			ev.Forward = &bot.Forward{From: "Crypto Signals", Text: "FREE NITRO https://dlscord.gift/x"}
			return ev
		}(), `scam-anywhere: delete | matched "free nitro" from lists.scam; linked: delete | when: "dlscord.gift" in domains; forwarded: tag("forward") | forward.from == "Crypto Signals", forward.text != ""`},
		{"a hidden link", func() bot.Event {
			ev := msg("m3", "bob", "the official site", at)
			ev.HiddenLinks = []string{"https://dlscord.gift/x"}
			return ev
		}(), `linked: delete | when: "dlscord.gift" in domains; hidden: tag("hidden") | len(hidden_links) = 1 > 0`},
		{"an embed, a poll and a file", func() bot.Event {
			ev := msg("m4", "bob", "", at)
			ev.Embeds = []bot.Embed{{Title: "Gift", Fields: []bot.EmbedField{{Name: "prize", Value: "Free Nitro"}}}}
			ev.Poll = &bot.Poll{Question: "who wants it?"}
			ev.Files = []string{"setup.exe"}
			return ev
		}(), `scam-anywhere: delete | matched "free nitro" from lists.scam; exe: delete | when: any(files, {# endsWith ".exe"})`},
		{"a profile", bot.Event{ID: "p1", Platform: "discord", Kind: bot.KindProfile, Space: "g1",
			Author: bot.Author{ID: "u9", Name: "Free Nitro", Username: "nitro_drop"}, At: at},
			`scam-anywhere: delete | matched "free nitro" from lists.scam; name: timeout(1h) | kind == "profile", author.username == "nitro_drop", matched "free nitro" from lists.scam`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := e.Evaluate(context.Background(), tt.ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := summary(v); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestRuleTestsTakeAnEmbedsAuthorAndFooter checks that a rule file's tests
// describe an embed as an event does, its author's name and footer
// included, and that the rules read them.
func TestRuleTestsTakeAnEmbedsAuthorAndFooter(t *testing.T) {
	rs := parse(t, `
lists:
  scam: [steam support, free nitro]
rules:
  - name: scam
    when: has_any(content, lists.scam)
    do: [delete]
  - name: bad_domain
    when: '"steamcommunity.lat" in domains'
    do: [delete]
tests:
  - name: author
    events:
      - {text: "look", embeds: [{author: "Steam Support", title: "Gift"}]}
    expect:
      - {event: 1, rules: [scam]}
  - name: footer
    events:
      - {text: "look", embeds: [{title: "Gift", footer: "free nitro before midnight"}]}
    expect:
      - {event: 1, rules: [scam]}
  - name: author's link
    events:
      - {text: "look", embeds: [{author: "Support", author_url: "https://steamcommunity.lat/s", title: "Gift"}]}
    expect:
      - {event: 1, rules: [bad_domain]}
`)
	for _, r := range rs.RunTests(context.Background()) {
		if !r.Passed() {
			t.Errorf("%s: %v", r.Name, r.Failures)
		}
	}
}
