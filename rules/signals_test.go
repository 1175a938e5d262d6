package rules_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

const signalsFile = `
lists:
  brands: [discord.gg, discord.com, discord.gift, steamcommunity.com]
  insults: [connard, "!connard de compétition"]
counters:
  # the same text from anyone: a raid copies one message
  copies:  {key: fingerprint, window: 10m, when: words >= 3}
  # the author's messages similar to this one, one counter per sketch band
  near0: {key: 'author.id + "|" + sketch(0)', window: 1h, when: 'sketch(0) != ""'}
  near1: {key: 'author.id + "|" + sketch(1)', window: 1h, when: 'sketch(1) != ""'}
  near2: {key: 'author.id + "|" + sketch(2)', window: 1h, when: 'sketch(2) != ""'}
  near3: {key: 'author.id + "|" + sketch(3)', window: 1h, when: 'sketch(3) != ""'}
rules:
  - name: raid-copies
    category: raid
    when: counters.copies >= 3
    do: [delete]
  - name: near-copies
    category: spam
    when: 'sketch(0) != "" and len(filter([counters.near0, counters.near1, counters.near2, counters.near3], # > 1)) >= 1'
    do: [delete]
  - name: promo
    category: spam
    when: promo > 0
    do: [delete]
  - name: invites
    category: spam
    when: invites + telegram_links + shortened > 0
    do: [delete]
  - name: contact
    category: spam
    when: emails + phones + wallets > 0
    do: [tag("contact")]
  - name: shouting-chars
    category: noise
    when: max_run >= 6 or emoji_share > 0.7 and emojis >= 4
    do: [tag("noise")]
  - name: phishing
    category: spam
    when: lookalike(domains, lists.brands)
    do: [delete]
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete]
  - name: english-shout
    category: noise
    when: language == "en" and caps > 0.9
    do: [tag("shout")]
`

func TestSignals(t *testing.T) {
	rs := parse(t, signalsFile)
	at := time.Date(2026, 3, 2, 20, 0, 0, 0, time.UTC)
	steps := []struct {
		author, text string
		want         string // rules that match, with their reason
	}{
		{"a1", "free nitro for everyone click now", ""},
		{"a2", "FREE N1TR0 for everyone, click now!!", ""},
		{"a3", "free nitro for evеryone click now https://x.example/1", "raid-copies"},
		{"b1", "Hey guys check out my new channel", "promo"},
		{"b2", "join discord.gg/abcd and t.me/chan", "invites"},
		{"b3", "call me 06 12 34 56 78 or write to me@example.com", "contact"},
		{"b3", "donate to 1FHeNqx1twqM153v2PTAyieJNEALAhZvEM", "contact"},
		{"b4", "nooooooon", "shouting-chars"},
		{"b5", "😂😂😂😂😂 lol", "shouting-chars"},
		{"b6", "claim it on https://dіscord.gg/gift", `phishing | "dіscord.gg" looks like "discord.gg" in lists.brands`},
		{"b6", "the real one https://discord.gg/gift", "invites"},
		{"b8", "your gift waits at xn--dscord-pvf.gift", `phishing | "xn--dscord-pvf.gift" looks like "discord.gift" in lists.brands`},
		{"b9", "nitro for all on dіscord.gift/claim", `phishing | "dіscord.gift" looks like "discord.gift" in lists.brands`},
		{"b7", "espèce de c*nnard", `insult | matched "connard" from lists.insults`},
		{"b7", "un connard de compétition", ""},
		{"c1", "my mixtape drops tonight, go listen everybody please", ""},
		{"c1", "my mixtape drops tonight go listen everybody please!!!", "near-copies"},
		{"c1", "completely different words about the weather today", ""},
		{"d1", "WHAT IS THIS, I CAN'T BELIEVE IT", "english-shout"},
		{"d2", "MAIS C'EST PAS POSSIBLE CE TRUC", ""},
	}
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	for i, s := range steps {
		ev := bot.Event{ID: "e" + string(rune('a'+i)), Platform: "discord", Kind: bot.KindMessage, Space: "g1",
			Author: bot.Author{ID: s.author}, Text: s.text, At: at.Add(time.Duration(i) * time.Second)}
		v, err := eng.Evaluate(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range v.Matches {
			got = append(got, m.Rule)
		}
		want, reason, _ := strings.Cut(s.want, " | ")
		if strings.Join(got, ",") != want {
			t.Errorf("step %d %q: rules %q, want %q (%s)", i, s.text, got, want, summary(v))
			continue
		}
		if reason != "" && (len(v.Matches) == 0 || !strings.Contains(v.Matches[0].Reason, reason)) {
			t.Errorf("step %d %q: reason %q, want it to contain %q", i, s.text, v.Matches[0].Reason, reason)
		}
	}
}

func TestSignalNames(t *testing.T) {
	for src, want := range map[string]string{
		"when: fingreprint != \"\"":   "did you mean fingerprint?",
		"when: promos > 0":            "did you mean promo?",
		"when: lookalike(domains)":    "lookalike",
		"when: sketch(\"a\") != \"\"": "sketch",
	} {
		_, err := rules.Parse("x.yaml", []byte("rules:\n  - name: r\n    "+src+"\n    do: [delete]\n"), rules.LoadOptions{LookupEnv: noEnv})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", src, err, want)
		}
	}
}
