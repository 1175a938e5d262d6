package rules

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/store/memory"
)

const communitiesFile = `
timezone: Europe/Paris
office_hours: {mon-fri: "09:00-18:00"}
vars:
  flood_max: 5
counters:
  flood: {key: author.id, window: 1m}
rules:
  - name: flood
    when: counters.flood > community.vars.flood_max
    do: [delete]
  - name: links
    when: len(links) > 0
    do: [delete]
  - name: shouting
    enabled: false
    when: caps > 0.8 and len(text) > 5
    do: [delete]
  - name: named
    when: community.name == "brand_b" and text == "hello"
    do: [forward]
communities:
  brand_a:
    places: [discord:111, telegram:-100222]
    desk: {telegram_chat: "-100900"}
    rules: {disable: [links], enable: [shouting]}
    vars: {flood_max: 1}
  brand_b:
    places: [facebook:333]
    office_hours: {mon-sun: "00:00-23:59"}
    language: fr
`

func TestCommunitiesRouteTheRules(t *testing.T) {
	rs, err := Parse("rules.yaml", []byte(communitiesFile), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.CommunityOf("telegram", "-100222"); got == nil || got.Name != "brand_a" {
		t.Fatalf("CommunityOf(telegram, -100222) = %v", got)
	}
	if rs.CommunityOf("telegram", "-100999") != nil || rs.CommunityOf("discord", "333") != nil {
		t.Error("a place outside the communities, or on another platform, has a community")
	}
	a := rs.Community("brand_a")
	if !slices.Equal(a.Off, []string{"links"}) || a.Vars["flood_max"] != 1 || a.DeskFor(rs.Desk).TelegramChat != "-100900" {
		t.Errorf("brand_a = off %v, vars %v, desk %+v", a.Off, a.Vars, a.DeskFor(rs.Desk))
	}
	b := rs.Community("brand_b")
	if !slices.Equal(b.Off, []string{"shouting"}) || b.Language != "fr" {
		t.Errorf("brand_b = off %v, language %q", b.Off, b.Language)
	}
	// Saturday noon in Paris: after hours for the file, office hours for brand_b
	sat := time.Date(2026, 11, 28, 12, 0, 0, 0, rs.Timezone)
	if !rs.AfterHours(sat) || !a.AfterHours(sat) || b.AfterHours(sat) {
		t.Errorf("after hours on Saturday: file %v, brand_a %v, brand_b %v", rs.AfterHours(sat), a.AfterHours(sat), b.AfterHours(sat))
	}

	e := NewEngine(rs, memory.New(), Options{})
	n := 0
	judge := func(platform, space, text string) []string {
		t.Helper()
		n++
		v, err := e.Evaluate(context.Background(), bot.Event{ID: strings.Repeat("e", n), Platform: platform, Space: space,
			Kind: bot.KindMessage, Text: text, Author: bot.Author{ID: platform + space}, At: sat})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range v.Matches {
			out = append(out, m.Rule)
		}
		return out
	}
	for _, c := range []struct {
		platform, space, text string
		want                  []string
	}{
		{"telegram", "-100222", "see https://example.com", nil},               // links is off in brand_a
		{"telegram", "-100999", "see https://example.com", []string{"links"}}, // outside: on
		{"discord", "111", "STOP SHOUTING", []string{"shouting"}},             // enabled in brand_a only
		{"facebook", "333", "STOP SHOUTING", nil},
		{"telegram", "-100999", "STOP SHOUTING", nil},
		{"discord", "111", "one more", []string{"flood"}}, // brand_a's flood_max is 1: the second message
		{"facebook", "333", "hello", []string{"named"}},
		{"telegram", "-100999", "hello", nil},
	} {
		if got := judge(c.platform, c.space, c.text); !slices.Equal(got, c.want) {
			t.Errorf("%s:%s %q matched %v, want %v", c.platform, c.space, c.text, got, c.want)
		}
	}
}

func TestCommunitiesAreChecked(t *testing.T) {
	_, err := Parse("rules.yaml", []byte(`vars:
  flood_max: 5
rules:
  - name: flood
    when: community.vars.flod_max > 1
communities:
  a:
    places: [discord:111, telegram:-100222]
    rules: {disable: [flod]}
    vars: {flood_max: "many", other: 1}
  b:
    places: [telegram:-100222, "discord:abc", "myspace:1", "telegram"]
    language: "français"
  c:
    desk: {telegram_chat: "@desk"}
`), LoadOptions{})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse = %v, want a *LoadError", err)
	}
	for _, want := range []string{
		`rules.yaml:5:26: rule "flood": when: unknown var community.vars.flod_max (did you mean community.vars.flood_max?)`,
		`rules.yaml:9:23: community "a": rules.disable: unknown rule "flod" (did you mean "flood"?)`,
		`rules.yaml:10:12: community "a": vars: flood_max is many, of another kind than the file's 5`,
		`rules.yaml:10:31: community "a": vars: other is not in the file's vars:`,
		`rules.yaml:12:14: community "b": place telegram:-100222 is already in community "a" (line 8)`,
		`rules.yaml:12:32: community "b": places: "abc" is not a Discord guild id`,
		`rules.yaml:12:47: community "b": places: unknown platform "myspace"`,
		`rules.yaml:12:60: community "b": places: "telegram" is not platform:id`,
		`rules.yaml:13:15: community "b": language: "français" is not a language code`,
		`rules.yaml:14:3: community "c": no places`,
		`rules.yaml:15:27: community "c": desk.telegram_chat: "@desk" is not a Telegram chat id`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// A CM named only in communities' cms may decide those communities' cases;
// the file's CMs, and accounts in no list, are not held to one.
func TestMayDecide(t *testing.T) {
	rs, err := Parse("rules.yaml", []byte(`
desk: {cms: ["telegram:1", "telegram:3"]}
rules: [{name: r, when: 'true', do: [forward]}]
communities:
  a: {places: ["telegram:-1001"], desk: {cms: ["telegram:2", "telegram:3"]}}
  b: {places: ["telegram:-1002"], desk: {cms: ["telegram:2", "telegram:4"]}}
  c: {places: ["telegram:-1003"]}
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cm, community string
		ok            bool
		own           string
	}{
		{"telegram:1", "a", true, ""},
		{"telegram:1", "", true, ""},
		{"telegram:3", "b", true, ""}, // the file's CM, also a's
		{"telegram:2", "a", true, ""},
		{"telegram:2", "b", true, ""},
		{"telegram:2", "c", false, "a"},
		{"telegram:4", "a", false, "b"},
		{"telegram:4", "", false, "b"},
		{"http:ann", "a", true, ""},
	} {
		if ok, own := rs.MayDecide(tc.cm, tc.community); ok != tc.ok || own != tc.own {
			t.Errorf("MayDecide(%s, %q) = %v, %q; want %v, %q", tc.cm, tc.community, ok, own, tc.ok, tc.own)
		}
	}
	for cm, want := range map[string][]string{
		"telegram:1": nil, "telegram:3": nil, "http:ann": nil,
		"telegram:2": {"a", "b"}, "telegram:4": {"b"},
	} {
		if got := rs.ScopeOf(cm); !slices.Equal(got, want) {
			t.Errorf("ScopeOf(%s) = %q, want %q", cm, got, want)
		}
	}
	var none *Ruleset
	if ok, _ := none.MayDecide("telegram:4", "a"); !ok {
		t.Error("no rule file holds no CM to a community")
	}
	if got := none.ScopeOf("telegram:4"); got != nil {
		t.Errorf("no rule file: ScopeOf = %q", got)
	}
}
