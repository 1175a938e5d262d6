package rules

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestModLog(t *testing.T) {
	env := map[string]string{"LOG_CHAT": "-1001234567890"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	rs, err := Parse("rules.yaml", []byte(`
modlog:
  telegram_chat: ${LOG_CHAT}
  discord_channel: "333333333333333333"
  discord_channels:
    "111111111111111111": "444444444444444444"
  wave: 5m
rules: []
`), LoadOptions{LookupEnv: lookup})
	if err != nil {
		t.Fatal(err)
	}
	want := ModLog{TelegramChat: "-1001234567890", DiscordChannel: "333333333333333333",
		DiscordChannels: map[string]string{"111111111111111111": "444444444444444444"}, Wave: 5 * time.Minute}
	got := rs.ModLog
	if got.TelegramChat != want.TelegramChat || got.DiscordChannel != want.DiscordChannel || !maps.Equal(got.DiscordChannels, want.DiscordChannels) || got.Wave != want.Wave || !got.On() {
		t.Errorf("modlog = %+v, want %+v", got, want)
	}
	rs, err = Parse("rules.yaml", []byte("rules: []\n"), LoadOptions{})
	if err != nil || rs.ModLog.On() || rs.ModLog.Wave != DefaultModLogWave {
		t.Errorf("no modlog: = %+v, %v", rs.ModLog, err)
	}

	_, err = Parse("rules.yaml", []byte(`
modlog:
  telegram_chat: "@logs"
  discord_channels: {my-server: "1"}
  wave: 1s
  colour: red
rules: []
`), LoadOptions{LookupEnv: lookup})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse = %v, want a *LoadError", err)
	}
	for _, want := range []string{
		`rules.yaml:3:18: modlog.telegram_chat: "@logs" is not a Telegram chat id, like -1001234567890`,
		`rules.yaml:4:22: modlog.discord_channels: "my-server" is not a Discord channel id`,
		`rules.yaml:5:9: modlog.wave: 1s is out of bounds (10s to 1h)`,
		`rules.yaml:6:3: modlog: unknown key "colour"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
