package rules

import (
	"strings"
	"testing"
)

// TestSecretsAreNotExpanded: ${ENV} is for the desk's ids and the like. A rule
// file that names a token, a secret, a password, a key or a URL (which may
// carry a password) is refused, and the value never shows: not in a problem's
// message, where a desk id that is not one is quoted, nor in a reply. The
// console's editor checks drafts with these messages, and its admins need not
// hold vigie's tokens.
func TestSecretsAreNotExpanded(t *testing.T) {
	env := map[string]string{"TELEGRAM_TOKEN": "123456:AAsecret-token", "VIGIE_REDIS_URL": "redis://:hunter22@redis:6379",
		"VIGIE_DESK_CHAT": "-1001234567890"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	_, err := Parse("rules.yaml", []byte(`
desk:
  telegram_chat: ${TELEGRAM_TOKEN}
rules:
  - name: echo
    when: 'text == "x"'
    do: ['reply("${VIGIE_REDIS_URL} ${VIGIE_DESK_CHAT}")']
`), LoadOptions{LookupEnv: lookup})
	if err == nil {
		t.Fatal("a rule file naming a token loaded")
	}
	msg := err.Error()
	for _, secret := range []string{"AAsecret-token", "hunter22"} {
		if strings.Contains(msg, secret) {
			t.Errorf("the problems show a secret:\n%s", msg)
		}
	}
	for _, want := range []string{
		"rules.yaml:3:18: ${TELEGRAM_TOKEN}: a secret is not read into the rule file",
		"rules.yaml:7:18: ${VIGIE_REDIS_URL}: a secret is not read into the rule file",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the problems do not say %q:\n%s", want, msg)
		}
	}
}

// TestSecretRefusalNamesItsSuffix: the refusal lists the endings that make a
// name a secret's, so it names the one of the name it refuses.
func TestSecretRefusalNamesItsSuffix(t *testing.T) {
	lookup := func(string) (string, bool) { return "hunter22", true }
	_, err := Parse("rules.yaml", []byte("desk:\n  telegram_chat: ${DB_PASSWD}\nrules: []\n"), LoadOptions{LookupEnv: lookup})
	if err == nil {
		t.Fatal("a rule file naming a password loaded")
	}
	want := "rules.yaml:2:18: ${DB_PASSWD}: a secret is not read into the rule file (a name ending in _TOKEN, _SECRET, _PASSWORD, _PASSWD, _KEY or _URL)"
	if !strings.Contains(err.Error(), want) {
		t.Errorf("the problem does not say %q:\n%s", want, err)
	}
}
