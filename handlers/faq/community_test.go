package faq

import (
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
)

// In a community, a question whose language cannot be told is answered in
// the community's language, and its office hours decide whether a question
// nothing matched is forwarded for the morning.
func TestCommunityLanguageAndHours(t *testing.T) {
	rs, err := rules.Parse("r.yaml", []byte(`rules: []
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-18:00"}
faq:
  entries:
    - id: price
      questions: ["quel est le prix ?", "what is the price?"]
      keywords: [prix, price]
      answer: {fr: "10 euros", en: "ten euros"}
communities:
  shop:
    places: [discord:111]
    language: en
    office_hours: {mon-sun: "00:00-23:59"}
`), rules.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := Compile(rs)
	if err != nil {
		t.Fatal(err)
	}
	sat := time.Date(2026, 11, 28, 12, 0, 0, 0, rs.Timezone)
	ask := func(space, text string) Decision {
		return m.Decide(&bot.Event{Platform: "discord", Space: space, Kind: bot.KindMessage, Text: text, At: sat, Author: bot.Author{ID: "a"}}, bot.Verdict{})
	}
	if d := ask("111", "prix ?"); d.Text != "ten euros" {
		t.Errorf("in shop, %q answered %q (%s), want ten euros", "prix ?", d.Text, d.Kind)
	}
	if d := ask("999", "prix ?"); d.Text != "10 euros" {
		t.Errorf("elsewhere, %q answered %q (%s), want 10 euros", "prix ?", d.Text, d.Kind)
	}
	// nothing matches: after hours for the file on Saturday, not for shop
	if d := ask("999", "can I bring my dog tomorrow?"); d.Kind != Forward {
		t.Errorf("elsewhere on Saturday, an unknown question is %s, want forward", d.Kind)
	}
	if d := ask("111", "can I bring my dog tomorrow?"); d.Kind == Forward {
		t.Errorf("in shop, open on Saturday, an unknown question is forwarded")
	}
}
