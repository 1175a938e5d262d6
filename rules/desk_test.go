package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestDeskPlaces(t *testing.T) {
	env := map[string]string{"GUILDS": "111111111111111111, 222222222222222222"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	src := `
desk:
  discord_channel: "333333333333333333"
  discord_guilds: ["${GUILDS}", "444444444444444444", "${NOPE}"]
  telegram_chats: [-1001234567890, "-42"]
  cms: ["discord:555555555555555555"]
rules: []
`
	rs, err := Parse("rules.yaml", []byte(src), LoadOptions{LookupEnv: lookup})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"111111111111111111", "222222222222222222", "444444444444444444"}; !slices.Equal(rs.Desk.DiscordGuilds, want) {
		t.Errorf("discord guilds = %q, want %q", rs.Desk.DiscordGuilds, want)
	}
	if want := []string{"-1001234567890", "-42"}; !slices.Equal(rs.Desk.TelegramChats, want) {
		t.Errorf("telegram chats = %q, want %q", rs.Desk.TelegramChats, want)
	}
	var warns []string
	for _, w := range rs.Warnings {
		warns = append(warns, w.String())
	}
	if len(warns) != 1 || !strings.Contains(warns[0], "desk.discord_guilds: environment variable NOPE is not set") {
		t.Errorf("warnings = %q", warns)
	}

	_, err = Parse("rules.yaml", []byte(`
desk:
  discord_guilds: [my-server]
  telegram_chats: ["@mygroup"]
rules: []
`), LoadOptions{LookupEnv: lookup})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse = %v, want a *LoadError", err)
	}
	for _, want := range []string{
		`rules.yaml:3:20: desk.discord_guilds: "my-server" is not a Discord guild id, like 123456789012345678`,
		`rules.yaml:4:20: desk.telegram_chats: "@mygroup" is not a Telegram chat id, like -1001234567890`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// What vigie run refuses of a desk when its platform is on, vigie check
// refuses too: a desk or a CM that is not an id. A CM of a platform that has
// no desk decides nothing: a warning.
func TestDeskIDsAreChecked(t *testing.T) {
	_, err := Parse("rules.yaml", []byte(`
desk:
  telegram_chat: "my-desk"
  discord_channel: general
  cms: ["telegram:abc", "discord:bob", "telegram:42"]
rules: []
communities:
  velo:
    places: ["telegram:-1001"]
    desk: {cms: ["telegram:@ann"]}
`), LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse = %v, want a *LoadError", err)
	}
	for _, want := range []string{
		`rules.yaml:3:18: desk.telegram_chat: "my-desk" is not a Telegram chat id, like -1001234567890`,
		`rules.yaml:4:20: desk.discord_channel: "general" is not a Discord channel id, like 123456789012345678`,
		`rules.yaml:5:9: desk.cms: "telegram:abc": a Telegram user id is a number, like telegram:123456789`,
		`rules.yaml:5:25: desk.cms: "discord:bob": a Discord user id is a number, like discord:123456789012345678`,
		`rules.yaml:10:18: community "velo": desk.cms: "telegram:@ann": a Telegram user id is a number, like telegram:123456789`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}

	rs, err := Parse("rules.yaml", []byte(`
desk:
  cms: ["discrod:555555555555555555", "telegram:42"]
rules: []
`), LoadOptions{LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	var warns []string
	for _, w := range rs.Warnings {
		warns = append(warns, w.String())
	}
	if want := `rules.yaml:3:9: desk.cms: "discrod:555555555555555555" decides nothing: CMs are telegram:ID or discord:ID (did you mean discord:555555555555555555?)`; !slices.Contains(warns, want) {
		t.Errorf("warnings = %q\nwant %q", warns, want)
	}
}
