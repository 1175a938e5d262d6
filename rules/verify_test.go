package rules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestVerify(t *testing.T) {
	rs, err := Parse("rules.yaml", []byte(`
verify:
  timeout: 2m
  on_fail: keep
  message: "Hello {name}, {timeout} to press"
  discord_channel: "333333333333333333"
rules:
  - name: quiet-newcomer
    when: kind == "join" and not author.verified
    do: [strike]
tests:
  - name: a member who has not pressed
    events: [{kind: join, author: {verified: false}}]
    expect: [{rules: [quiet-newcomer]}]
  - name: a member never asked counts as verified
    events: [{kind: join}]
    expect: [{rules: []}]
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := rs.Verify
	if !v.On || v.Timeout != 2*time.Minute || v.OnFail != VerifyKeep || v.Button != DefaultVerifyButton ||
		v.DiscordChannel != "333333333333333333" || v.DiscordRole != "" {
		t.Errorf("verify = %+v", v)
	}
	if got := v.Prompt("Ana"); got != "Hello Ana, 2m to press" {
		t.Errorf("prompt = %q", got)
	}
	results := rs.RunTests(context.Background())
	if len(results) != 2 {
		t.Errorf("ran %d tests, want 2", len(results))
	}
	for _, r := range results {
		if !r.Passed() {
			t.Errorf("test at line %d: %v", r.Line, r.Failures)
		}
	}

	rs, err = Parse("rules.yaml", []byte("verify: {}\nrules: []\n"), LoadOptions{})
	if err != nil || !rs.Verify.On || rs.Verify.Timeout != DefaultVerifyTimeout || rs.Verify.OnFail != VerifyKick {
		t.Errorf("verify: {} = %+v, %v", rs.Verify, err)
	}
	rs, err = Parse("rules.yaml", []byte("rules: []\n"), LoadOptions{})
	if err != nil || rs.Verify.On {
		t.Errorf("no verify: = %+v, %v", rs.Verify, err)
	}

	_, err = Parse("rules.yaml", []byte(`
verify:
  timeout: 5s
  on_fail: ban
  discord_role: admins
  captcha: math
rules: []
`), LoadOptions{})
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("Parse = %v, want a *LoadError", err)
	}
	for _, want := range []string{
		`rules.yaml:3:12: verify.timeout: 5s is out of bounds (30s to 24h)`,
		`rules.yaml:4:12: verify.on_fail: unknown outcome "ban" (want kick or keep)`,
		`rules.yaml:5:17: verify.discord_role: "admins" is not a Discord id`,
		`rules.yaml:6:3: verify: unknown key "captcha"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

// Two Discord servers and a Telegram group in one file: each server asks in
// its own channel with its own role; the group's community turns it off.
func TestVerifyPerCommunity(t *testing.T) {
	rs, err := Parse("rules.yaml", []byte(`
verify:
  timeout: 2m
  on_fail: keep
  discord_channel: "333333333333333333"
rules: []
communities:
  velo:
    places: [discord:111111111111111111]
    verify: {discord_channel: "444444444444444444", discord_role: "555555555555555555", button: "Je suis humain"}
  arcade:
    places: [discord:222222222222222222, telegram:-1001]
    verify: off
  bakery:
    places: [discord:666666666666666666]
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	velo := rs.VerifyFor("discord", "111111111111111111")
	if !velo.On || velo.Timeout != 2*time.Minute || velo.OnFail != VerifyKeep || velo.Button != "Je suis humain" ||
		velo.Message != DefaultVerifyMessage || velo.DiscordChannel != "444444444444444444" || velo.DiscordRole != "555555555555555555" {
		t.Errorf("velo's verify = %+v", velo)
	}
	if v := rs.VerifyFor("discord", "222222222222222222"); v.On {
		t.Errorf("arcade's verify = %+v, want off", v)
	}
	if v := rs.VerifyFor("discord", "666666666666666666"); v != rs.Verify {
		t.Errorf("bakery's verify = %+v, want the file's", v)
	}
	if v := rs.VerifyFor("telegram", "-1002"); v != rs.Verify {
		t.Errorf("a place in no community = %+v, want the file's", v)
	}
	places := rs.VerifyPlaces("discord")
	if len(places) != 2 || !places["111111111111111111"].On || places["222222222222222222"].On {
		t.Errorf("discord's places = %+v", places)
	}
	if tg := rs.VerifyPlaces("telegram"); len(tg) != 1 || tg["-1001"].On {
		t.Errorf("telegram's places = %+v", tg)
	}
	if !rs.VerifyAnywhere() {
		t.Error("VerifyAnywhere = false")
	}

	// Without a file's verify:, a community's alone turns it on, with the
	// defaults for what it does not say.
	rs, err = Parse("rules.yaml", []byte(`
rules: []
communities:
  velo:
    places: [telegram:-1001]
    verify: {}
`), LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if v := rs.VerifyFor("telegram", "-1001"); !v.On || v.Timeout != DefaultVerifyTimeout || v.OnFail != VerifyKick || rs.Verify.On || !rs.VerifyAnywhere() {
		t.Errorf("velo's verify = %+v, the file's %+v", v, rs.Verify)
	}

	_, err = Parse("rules.yaml", []byte(`
rules: []
communities:
  velo:
    places: [telegram:-1001]
    verify: {timeout: 1s, discord_role: staff}
  arcade:
    places: [telegram:-1002]
    verify: maybe
`), LoadOptions{})
	for _, want := range []string{
		`rules.yaml:6:23: community "velo": verify.timeout: 1s is out of bounds (30s to 24h)`,
		`rules.yaml:6:41: community "velo": verify.discord_role: "staff" is not a Discord id`,
		`rules.yaml:9:13: community "arcade": verify: want a section like the file's verify: ({} for its defaults), or off`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}
