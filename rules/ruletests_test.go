package rules_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

const testedFile = `
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-19:00"}
counters:
  msgs: {key: author.id, window: 10s}
rules:
  - name: flood
    when: counters.msgs > 5
    do: [delete, timeout(10m), 'warn("Calme, {{author.name}}")']
  - name: night
    hours: after
    when: text == "hello"
    do: [tag(night)]
  - name: fresh
    when: author.account_age > 0 and author.account_age < duration("1d")
    mode: shadow
    do: [kick]
tests:
  - name: passes
    events:
      - {text: "spam", author: {id: u1, name: Bob}, repeat: 6, every: 1s}
      - {text: "hello", author: {id: u2}, after: 2s}
      - {text: "hello", at: "2026-01-05T22:00:00+01:00"}
      - {text: "hello", at: "2026-01-06 08:00", id: early}
      - {text: "x", author: {id: n, account_age: 2h}}
      - {text: "dup", id: early}
    expect:
      - {event: 5, rules: []}
      - {event: 6, rules: [flood], actions: [delete, "timeout(600s)", 'warn("Calme, Bob")'], counters: {msgs: 6}}
      - {event: 7, rules: []}
      - {event: 8, rules: [night], actions: [tag("night")]}
      - {event: early, rules: [night]}
      - {event: 10, rules: [fresh], actions: []}
      - {event: last, duplicate: true}
  - name: fails
    events:
      - {text: "spam", author: {id: u1}, repeat: 6, every: 1s}
    expect:
      - {event: last, rules: [night], actions: [kick], counters: {msgs: 2}}
      - {event: 1, duplicate: true}
`

func TestRunTests(t *testing.T) {
	rs := parse(t, testedFile)
	got := rs.RunTests(context.Background())
	if len(got) != 2 {
		t.Fatalf("got %d results, want 2", len(got))
	}
	if !got[0].Passed() || got[0].Name != "passes" || got[0].Line != 19 {
		t.Errorf("first test: %+v", got[0])
	}
	want := []string{
		`line 39: event 6 (t6): expected rules [night], got [flood (counters.msgs = 6 > 5)]`,
		`line 39: event 6 (t6): expected actions [kick], got [delete, timeout(10m), warn("Calme, u1")]`,
		`line 39: event 6 (t6): expected counters.msgs = 2, got 6`,
		`line 40: event 1 (t1): expected duplicate: true, got false`,
	}
	if got[1].Passed() || !slices.Equal(got[1].Failures, want) {
		t.Errorf("failures:\n%s\nwant:\n%s", strings.Join(got[1].Failures, "\n"), strings.Join(want, "\n"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, r := range rs.RunTests(ctx) {
		if r.Passed() {
			t.Errorf("%s passed on a cancelled context", r.Name)
		}
	}
}

func TestFileSections(t *testing.T) {
	env := map[string]string{"CHAT": "-1001234", "CM": "42"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	src := `
timezone: America/New_York
desk:
  telegram_chat: ${CHAT}
  discord_channel: ${MISSING}
  cms: ["telegram:${CM}", discord:7]
lists:
  words: {file: words.txt}
defaults: &defaults
rules:
  - name: a
    category: spam
    description: a link
    when: has_any(text, lists.words)
    do: [delete, 'reply("Contact ${CHAT}")', {warn: "Hi, {{author.name}}"}]
    hours: office
    mode: shadow
  - name: b
    when: "true"
    do: ban
faq:
  threshold: 0.75
  entries:
    - id: hours
      questions: ["quels horaires ?", "opening hours?"]
      answer: {fr: "9h-19h", en: "9am-7pm"}
      keywords: [horaires, hours]
      mode: suggest
      private: true
    - id: short
      questions: "where?"
      answer: "Paris"
`
	src = strings.Replace(src, "defaults: &defaults\n", "", 1)
	files := map[string]string{"conf/words.txt": "# a comment\nspam\n\n  eggs  # trailing comment\n"}
	rs, err := rules.Parse("conf/rules.yaml", []byte(src), rules.LoadOptions{
		LookupEnv: lookup,
		ReadFile: func(name string) ([]byte, error) {
			if s, ok := files[name]; ok {
				return []byte(s), nil
			}
			t.Errorf("read unexpected file %q", name)
			return nil, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rs.File != "conf/rules.yaml" || rs.Timezone.String() != "America/New_York" {
		t.Errorf("file %q, timezone %v", rs.File, rs.Timezone)
	}
	if d := rs.Desk; d.TelegramChat != "-1001234" || d.DiscordChannel != "" || !slices.Equal(d.CMs, []string{"telegram:42", "discord:7"}) {
		t.Errorf("desk = %+v", d)
	}
	var warns []string
	for _, w := range rs.Warnings {
		warns = append(warns, w.String())
	}
	wantWarns := []string{
		`conf/rules.yaml:5:20: desk.discord_channel: environment variable MISSING is not set`,
		`conf/rules.yaml:15:12: rule "a": hours: office always applies, the file has no office_hours nor holidays`,
	}
	if !slices.Equal(warns, wantWarns) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(warns, "\n"), strings.Join(wantWarns, "\n"))
	}
	wantRules := []rules.RuleInfo{
		{Name: "a", Category: "spam", Mode: rules.ModeShadow, Hours: rules.HoursOffice, Line: 10,
			Actions: []string{"delete", `reply("Contact -1001234")`, `warn("Hi, {{author.name}}")`}},
		{Name: "b", Mode: rules.ModeEnforce, Hours: rules.HoursAlways, Line: 17, Actions: []string{"ban"}},
	}
	if len(rs.Rules) != len(wantRules) {
		t.Fatalf("rules = %+v", rs.Rules)
	}
	for i, r := range rs.Rules {
		w := wantRules[i]
		if r.Name != w.Name || r.Category != w.Category || r.Mode != w.Mode || r.Hours != w.Hours ||
			r.Line != w.Line || !slices.Equal(r.Actions, w.Actions) {
			t.Errorf("rule %d = %+v, want %+v", i, r, w)
		}
	}
	f := rs.FAQ
	if f.Threshold != 0.75 || len(f.Entries) != 2 {
		t.Fatalf("faq = %+v", f)
	}
	e := f.Entries[0]
	if e.ID != "hours" || e.Line != 23 || len(e.Questions) != 2 || e.Answer["en"] != "9am-7pm" ||
		!slices.Equal(e.Keywords, []string{"horaires", "hours"}) || e.Mode != "suggest" || !e.Private {
		t.Errorf("faq entry = %+v", e)
	}
	if e := f.Entries[1]; e.Answer[""] != "Paris" || !slices.Equal(e.Questions, []string{"where?"}) {
		t.Errorf("faq entry = %+v", e)
	}
	// the list file was read relative to the rule file, its comments dropped
	eng := rules.NewEngine(rs, memory.New(), rules.Options{})
	for text, want := range map[string]string{
		"I like eggs":  `a[shadow]: delete reply("Contact -1001234") warn("Hi, Ann") | matched "eggs" from lists.words; b: ban | when: true`,
		"a comment":    `b: ban | when: true`,
		"trailing egg": `b: ban | when: true`,
	} {
		v, err := eng.Evaluate(context.Background(), msg(text, "ann", text, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if got := summary(v); got != want {
			t.Errorf("%q: got %s, want %s", text, got, want)
		}
	}
}

// YAML anchors and merge keys work like everywhere else in YAML.
func TestAnchors(t *testing.T) {
	rs := parse(t, `
rules:
  - &base
    name: one
    when: mentions > 3
    do: &acts [delete, strike]
  - <<: *base
    name: two
    do: *acts
`)
	if len(rs.Rules) != 2 || rs.Rules[1].Name != "two" || !slices.Equal(rs.Rules[1].Actions, []string{"delete", "strike"}) {
		t.Errorf("rules = %+v", rs.Rules)
	}
}
