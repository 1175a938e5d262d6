package daemon_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
)

// keptSetOf is the one set of rules kept in state, failing the test when
// there is none or several.
func keptSetOf(t *testing.T, state string) string {
	t.Helper()
	sets, err := filepath.Glob(filepath.Join(state, "rules", "rules.yaml.*.tar"))
	if err != nil {
		t.Fatal(err)
	}
	sets = slices.DeleteFunc(sets, func(s string) bool { return strings.HasSuffix(s, ".previous.tar") })
	if len(sets) != 1 {
		t.Fatalf("sets kept in %s = %q, want one", state, sets)
	}
	return sets[0]
}

// TestRestartOnADamagedKeptSet: the rules that loaded last are kept, and a
// power cut (or a disk that fails) leaves that copy cut short. The rule
// file, edited since, does not load either. vigie starts on the set kept
// before, the rules that ran before the last load, says so in the log and
// on the desk, and moderates. Before, it did not start ("does not load, not
// starting"), and no place was moderated until someone came.
func TestRestartOnADamagedKeptSet(t *testing.T) {
	api := tgfake.New(t)
	file := filepath.Join(t.TempDir(), "rules.yaml")
	state := t.TempDir()
	env := map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"STATE_DIRECTORY": state,
	}
	onFile := func(c *daemon.Config) { c.ConfigPath = file }
	write := func(text string) {
		t.Helper()
		if err := os.WriteFile(file, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	write(deskRules)
	if err := start(t, deskRules, env, onFile).stop(); err != nil {
		t.Fatal(err)
	}
	write(strings.Replace(deskRules, `"nitro"`, `"giveaway"`, 1))
	if err := start(t, deskRules, env, onFile).stop(); err != nil {
		t.Fatal(err)
	}

	set := keptSetOf(t, state)
	raw, err := os.ReadFile(set)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(set, raw[:len(raw)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	write(strings.Replace(deskRules, `forward("scam")`, `forwad("scam")`, 1))

	in := start(t, deskRules, env, onFile)
	if v := in.post(t, message("m-1", "u-1", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the set kept before = %v, want scam", rulesOf(v))
	}
	if !strings.Contains(in.logs.String(), "cannot be read") || !strings.Contains(in.logs.String(), "kept before") {
		t.Errorf("the damaged copy not logged, nor the rules kept before that run:\n%s", in.logs)
	}
	told := func() []string { return deskCards(api, "does not load") }
	testsync.Eventually(t, "the desk told the rule file does not load", func() bool { return len(told()) == 1 })
	if got := told()[0]; !strings.Contains(got, "kept before") || !strings.Contains(got, "cannot be read") {
		t.Errorf("desk told:\n%s\nwant that the copy of the rules that loaded last cannot be read and the rules kept before run", got)
	}
}

// TestDamagedKeptSetWithNoneBefore: the set kept is cut short, none was
// kept before it, and the rule file does not load. vigie does not start,
// and says which copy is damaged and what to do. Before, the error said
// only that the rule file does not load, the damaged copy in the log.
func TestDamagedKeptSetWithNoneBefore(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	state := t.TempDir()
	env := map[string]string{"STATE_DIRECTORY": state}
	if err := os.WriteFile(file, []byte(deskRules), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := start(t, deskRules, env, func(c *daemon.Config) { c.ConfigPath = file }).stop(); err != nil {
		t.Fatal(err)
	}
	set := keptSetOf(t, state)
	if err := os.Truncate(set, 100); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(strings.Replace(deskRules, `forward("scam")`, `forwad("scam")`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	env["VIGIE_ADMIN_TOKEN_DIR"] = t.TempDir()
	err := daemon.Run(t.Context(), daemon.Config{ConfigPath: file, Listen: "127.0.0.1:0",
		Getenv: func(k string) string { return env[k] }}, nil)
	if err == nil {
		t.Fatal("Run started on a broken file and a damaged copy")
	}
	for _, want := range []string{"rules.yaml:9:10: ", set, "cannot be read", "vigie check " + file} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Run = %v\nwant it to say %q", err, want)
		}
	}
}
