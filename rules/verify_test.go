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
