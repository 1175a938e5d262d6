package daemon_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/internal/testsync"
	"github.com/vigie-bot/vigie/bot/internal/tgfake"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// TestRestartOnABrokenRuleFile: a CM edits the rule file in the evening and
// leaves a mistake in it, not reloaded (or reloaded and refused: the old
// rules keep running). In the night vigie starts again (a crash, a reboot).
// It runs the rules that loaded last, kept in its state directory, judges
// and forwards as before, and says what is wrong with the file, with its
// FILE:LINE:COL: in the log, on /healthz, in
// vigie_config_last_reload_successful (0), and on the desk, once. The file
// mended and reloaded, all is as before. Before, vigie run stopped at start
// ("does not load, not starting"), and a service manager started it again
// to stop again, all night: no place was moderated, and the desk heard
// nothing.
func TestRestartOnABrokenRuleFile(t *testing.T) {
	api := tgfake.New(t)
	file := filepath.Join(t.TempDir(), "rules.yaml")
	if err := os.WriteFile(file, []byte(deskRules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"STATE_DIRECTORY": t.TempDir(),
	}
	onFile := func(c *daemon.Config) { c.ConfigPath = file }

	first := start(t, deskRules, env, onFile)
	if v := first.post(t, message("m-1", "u-1", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Fatalf("rules matched before the edit = %v, want scam", rulesOf(v))
	}
	testsync.Eventually(t, "the first case on the desk", func() bool { return len(deskCards(api, "free nitro")) == 1 })
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	broken := strings.Replace(deskRules, `forward("scam")`, `forwad("scam")`, 1)
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	const where = "rules.yaml:9:10: "
	second := start(t, deskRules, env, onFile)
	if v := second.post(t, message("m-2", "u-2", "nitro for all")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the kept rules = %v, want scam", rulesOf(v))
	}
	testsync.Eventually(t, "the case forwarded to the desk", func() bool { return len(deskCards(api, "nitro for all")) == 1 })

	told := func() []string { return deskCards(api, "does not load") }
	testsync.Eventually(t, "the desk told the rule file does not load", func() bool { return len(told()) == 1 })
	if got := told()[0]; !strings.Contains(got, where) || !strings.Contains(got, "rules that loaded last") {
		t.Errorf("desk told:\n%s\nwant the file's FILE:LINE:COL (%s) and that the rules that loaded last run", got, where)
	}
	var h struct{ Degraded []string }
	second.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if !slices.ContainsFunc(h.Degraded, func(s string) bool { return strings.Contains(s, where) }) {
		t.Errorf("/healthz degraded = %q, want the file's problem at %s", h.Degraded, where)
	}
	if v := metric(t, second, "vigie_config_last_reload_successful"); v != 0 {
		t.Errorf("vigie_config_last_reload_successful = %v on the kept rules, want 0", v)
	}
	if n := strings.Count(second.logs.String(), "the rule file does not load"); n != 1 || !strings.Contains(second.logs.String(), "level=ERROR") {
		t.Errorf("the broken file logged %d times, want once as an error:\n%s", n, second.logs.String())
	}

	// Mended and reloaded: the file's rules run, and nothing is said of it.
	mended := strings.Replace(deskRules, `"nitro"`, `"giveaway"`, 1)
	if err := os.WriteFile(file, []byte(mended), 0o600); err != nil {
		t.Fatal(err)
	}
	second.reload <- struct{}{}
	testsync.Eventually(t, "the mended file reloaded", func() bool { return strings.Contains(second.logs.String(), `msg="rules reloaded"`) })
	if v := second.post(t, message("m-3", "u-3", "giveaway")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the mended file = %v, want scam", rulesOf(v))
	}
	h.Degraded = nil
	second.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if slices.ContainsFunc(h.Degraded, func(s string) bool { return strings.Contains(s, "rules.yaml") }) {
		t.Errorf("/healthz degraded = %q once the file is mended", h.Degraded)
	}
	if v := metric(t, second, "vigie_config_last_reload_successful"); v != 1 {
		t.Errorf("vigie_config_last_reload_successful = %v once the file is mended, want 1", v)
	}
	if n := len(told()); n != 1 {
		t.Errorf("the desk told %d times that the file does not load, want once", n)
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}

	// The mended file is now the one kept: broken again, a start runs it.
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	third := start(t, deskRules, env, onFile)
	if v := third.post(t, message("m-4", "u-4", "giveaway again")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the rules kept at the reload = %v, want scam (the mended file's)", rulesOf(v))
	}
}

// TestBrokenRuleFileWithNothingKept: a rule file that does not load at the
// first start, when no rules were kept, still stops vigie run, saying why.
func TestBrokenRuleFileWithNothingKept(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	broken := strings.Replace(deskRules, `forward("scam")`, `forwad("scam")`, 1)
	if err := os.WriteFile(file, []byte(broken), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"STATE_DIRECTORY": t.TempDir(), "VIGIE_ADMIN_TOKEN_DIR": t.TempDir()}
	err := daemon.Run(t.Context(), daemon.Config{ConfigPath: file, Listen: "127.0.0.1:0",
		Getenv: func(k string) string { return env[k] }}, nil)
	if err == nil || !strings.Contains(err.Error(), "does not load, not starting") || !strings.Contains(err.Error(), "rules.yaml:9:10: ") {
		t.Errorf("Run on a broken file with no rules kept = %v, want it not to start, naming FILE:LINE:COL", err)
	}
}

// TestBrokenRuleFileToldOnceAcrossInstances: two vigie on one Redis, each
// with its own state directory, start again in the night on a rule file
// edited since with a mistake. Each runs the rules that loaded last, and
// the desk hears that the file does not load once, from the instance that
// claims it in Redis; the other logs that another told it. The file mended
// and reloaded on both, the desk hears that once too. Before, each
// instance told the desk: the CMs read it once by instance.
func TestBrokenRuleFileToldOnceAcrossInstances(t *testing.T) {
	api := tgfake.New(t)
	f := newKeptFleet(t, api, "kept-rules-fleet")
	f.start(t)
	f.stop(t)

	f.write(t, strings.Replace(deskRules, `forward("scam")`, `forwad("scam")`, 1))
	f.start(t)
	told := func() int { return len(deskCards(api, "does not load, vigie started with the rules that loaded last")) }
	testsync.Eventually(t, "both instances on the kept rules telling the desk", func() bool {
		return told()+f.logged("the rule file does not load: another instance told the desk") >= 2
	})
	if n := told(); n != 1 {
		t.Errorf("the desk was told %d times that the rule file does not load, by 2 instances: want 1", n)
	}

	f.write(t, deskRules)
	for _, in := range f.ins {
		in.reload <- struct{}{}
	}
	mended := func() int { return len(deskCards(api, "is mended and reloaded")) }
	testsync.Eventually(t, "both instances telling the file mended", func() bool {
		return mended()+f.logged("the rule file is mended: another instance told the desk") >= 2
	})
	if n := mended(); n != 1 {
		t.Errorf("the desk was told %d times that the rule file is mended, by 2 instances: want 1", n)
	}
	if n := told(); n != 1 {
		t.Errorf("the desk was told %d times that the rule file does not load once mended: want 1", n)
	}
}

// listRules is deskRules with its words in a list file beside it.
const listRules = `timezone: UTC
desk:
  telegram_chat: "-100500"
  cms: ["telegram:42"]
lists:
  scams: {file: lists/scams.txt}
rules:
  - name: scam
    category: spam
    when: has_any(text, lists.scams)
    do: [forward("scam")]
`

// writeRuleFiles writes the rule file and its list in dir, and returns the
// rule file's path.
func writeRuleFiles(t *testing.T, dir, ruleFile, scams string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lists", "scams.txt"), []byte(scams), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(file, []byte(ruleFile), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// onListedRules writes listRules and a list catching "nitro" in a
// directory (dir), and returns a fake Telegram with its desk, the
// environment of a vigie using it, with a state directory of its own, and
// the option that runs vigie on the rule file.
func onListedRules(t *testing.T) (api *tgfake.Server, dir string, env map[string]string, onFile func(*daemon.Config)) {
	t.Helper()
	api = tgfake.New(t)
	dir = t.TempDir()
	file := writeRuleFiles(t, dir, listRules, "nitro\n")
	env = map[string]string{
		"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL,
		"TELEGRAM_MODE": "webhook", "TELEGRAM_WEBHOOK_SECRET": "s3cret_token",
		"STATE_DIRECTORY": t.TempDir(),
	}
	return api, dir, env, func(c *daemon.Config) { c.ConfigPath = file }
}

// TestRestartOnABrokenListFile: a CM edits a list the rule file names and
// leaves a mistake in it (an entry with no word), then vigie starts again.
// It runs the rules and the lists that loaded last, kept together in its
// state directory: the message the old list catches is still caught, and
// the mistake is told as a rule file's is, with the rule file's
// FILE:LINE:COL, on /healthz, in the reload metric, in the log and once on
// the desk. The list mended and reloaded, its words are the ones used.
// Before, only the rule file's text was kept, its lists read beside it:
// vigie run stopped at start ("does not load, not starting"), all night.
func TestRestartOnABrokenListFile(t *testing.T) {
	api, dir, env, onFile := onListedRules(t)

	first := start(t, listRules, env, onFile)
	if v := first.post(t, message("m-1", "u-1", "free nitro")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Fatalf("rules matched before the edit = %v, want scam", rulesOf(v))
	}
	if err := first.stop(); err != nil {
		t.Fatal(err)
	}

	writeRuleFiles(t, dir, listRules, "giveaway\n***\n")
	const where = "rules.yaml:6:"
	second := start(t, listRules, env, onFile)
	if v := second.post(t, message("m-2", "u-2", "nitro for all")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the kept list = %v, want scam", rulesOf(v))
	}
	if v := second.post(t, message("m-3", "u-3", "giveaway")); len(rulesOf(v)) != 0 {
		t.Errorf("rules matched on a word of the broken list = %v, want none", rulesOf(v))
	}
	told := func() []string { return deskCards(api, "does not load") }
	testsync.Eventually(t, "the desk told the list does not load", func() bool { return len(told()) == 1 })
	if got := told()[0]; !strings.Contains(got, where) || !strings.Contains(got, `"***"`) || !strings.Contains(got, "loaded last") {
		t.Errorf("desk told:\n%s\nwant the list's entry at %s and that what loaded last runs", got, where)
	}
	var h struct{ Degraded []string }
	second.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if !slices.ContainsFunc(h.Degraded, func(s string) bool { return strings.Contains(s, where) }) {
		t.Errorf("/healthz degraded = %q, want the list's problem at %s", h.Degraded, where)
	}
	if v := metric(t, second, "vigie_config_last_reload_successful"); v != 0 {
		t.Errorf("vigie_config_last_reload_successful = %v on the kept rules, want 0", v)
	}
	if n := strings.Count(second.logs.String(), "the rule file does not load"); n != 1 {
		t.Errorf("the broken list logged %d times, want once:\n%s", n, second.logs.String())
	}

	// Mended and reloaded: the list's words now are the ones used.
	writeRuleFiles(t, dir, listRules, "giveaway\n")
	second.reload <- struct{}{}
	testsync.Eventually(t, "the mended list reloaded", func() bool { return strings.Contains(second.logs.String(), `msg="rules reloaded"`) })
	if v := second.post(t, message("m-4", "u-4", "giveaway")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the mended list = %v, want scam", rulesOf(v))
	}
	if v := metric(t, second, "vigie_config_last_reload_successful"); v != 1 {
		t.Errorf("vigie_config_last_reload_successful = %v once the list is mended, want 1", v)
	}
	if err := second.stop(); err != nil {
		t.Fatal(err)
	}
}

// TestKeptRulesRunWithTheirLists: the rule file edited with a mistake and
// its list edited too (without one), vigie started again runs the rule
// file that loaded last with the list it loaded with, never the old rules
// with the new list they never ran with. Before, the kept text read the
// list as it is now: the word the set that loaded last caught was let
// through.
//
// The set says when it was kept by the daemon's clock, as /healthz tells
// it: before, the copy's time on the disk, whatever the clock said.
func TestKeptRulesRunWithTheirLists(t *testing.T) {
	dir := t.TempDir()
	file := writeRuleFiles(t, dir, listRules, "nitro\n")
	env := map[string]string{"STATE_DIRECTORY": t.TempDir()}
	onFile := func(c *daemon.Config) { c.ConfigPath = file }
	keptAt := time.Now().UTC().Add(-36 * time.Hour).Truncate(time.Second)
	if err := start(t, listRules, env, onFile, func(c *daemon.Config) { c.Now = func() time.Time { return keptAt } }).stop(); err != nil {
		t.Fatal(err)
	}

	writeRuleFiles(t, dir, strings.Replace(listRules, `forward("scam")`, `forwad("scam")`, 1), "giveaway\n")
	in := start(t, listRules, env, onFile)
	if v := in.post(t, message("m-1", "u-1", "nitro for all")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on a word of the list kept = %v, want scam", rulesOf(v))
	}
	if v := in.post(t, message("m-2", "u-2", "giveaway")); len(rulesOf(v)) != 0 {
		t.Errorf("rules matched on a word of the list edited since = %v, want none", rulesOf(v))
	}
	var h struct{ Degraded []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	want := "kept " + keptAt.Format(time.RFC3339)
	if !slices.ContainsFunc(h.Degraded, func(s string) bool { return strings.Contains(s, want) }) {
		t.Errorf("/healthz degraded = %q, want the rules %s", h.Degraded, want)
	}
}

// TestRuleFileMendedByARestart: two vigie on one Redis start again on a
// rule file edited with a mistake, and run the rules kept; the desk is told
// once. The file mended, they start again (rather than reload): the desk is
// told once that the file is mended, and the claim of the mistake told is
// given up, so that the same mistake made again within the hour is told
// again. Before, a restart on the mended file told nothing, and the same
// mistake made again was not told: the claim held it as told for an hour.
func TestRuleFileMendedByARestart(t *testing.T) {
	api := tgfake.New(t)
	f := newKeptFleet(t, api, "kept-rules-restart")
	told := func() int { return len(deskCards(api, "does not load, vigie started with the rules that loaded last")) }
	mended := func() int { return len(deskCards(api, "is mended")) }
	broken := strings.Replace(deskRules, `forward("scam")`, `forwad("scam")`, 1)

	f.start(t)
	f.stop(t)
	f.write(t, broken)
	f.start(t)
	testsync.Eventually(t, "both instances on the kept rules telling the desk", func() bool {
		return told()+f.logged("the rule file does not load: another instance told the desk") >= 2
	})
	f.stop(t)

	f.write(t, deskRules)
	f.start(t)
	testsync.Eventually(t, "both instances started on the mended file telling it", func() bool {
		return mended()+f.logged("the rule file is mended: another instance told the desk") >= 2
	})
	if n := mended(); n != 1 {
		t.Errorf("the desk was told %d times that the rule file is mended, by 2 instances started on it: want 1", n)
	}
	if n := told(); n != 1 {
		t.Errorf("the desk was told %d times that the rule file does not load, before the same mistake is made again: want 1", n)
	}
	f.stop(t)

	// The same mistake again, within the hour: told again, once.
	f.write(t, broken)
	f.start(t)
	testsync.Eventually(t, "both instances on the kept rules again telling the desk", func() bool {
		return told()+f.logged("the rule file does not load: another instance told the desk") >= 3
	})
	if n := told(); n != 2 {
		t.Errorf("the desk was told %d times that the rule file does not load, the mistake made twice: want 2", n)
	}
	f.stop(t)

	// Mended again by a restart, told again; a start after that one tells
	// nothing (it says so in its log as it starts).
	f.write(t, deskRules)
	f.start(t)
	testsync.Eventually(t, "both instances started on the file mended again telling it", func() bool {
		return mended()+f.logged("the rule file is mended: another instance told the desk") >= 3
	})
	if n := mended(); n != 2 {
		t.Errorf("the desk was told %d times that the rule file is mended, mended twice: want 2", n)
	}
	if n := f.logged("the rule file loads again"); n != 2 {
		t.Errorf("%d instances logged the rule file loads again, started on it mended: want 2", n)
	}
	f.stop(t)
	f.start(t)
	if n := f.logged("the rule file loads again"); n != 0 {
		t.Errorf("%d instances logged the rule file loads again, started after a start on the mended file: want none", n)
	}
	f.stop(t)
}

// keptFleet is two vigie on one Redis, each with its own state directory,
// on one rule file, deskRules at first, their desk on api.
type keptFleet struct {
	file string
	envs []map[string]string
	ins  []*instance
}

func newKeptFleet(t *testing.T, api *tgfake.Server, prefix string) *keptFleet {
	f := &keptFleet{file: filepath.Join(t.TempDir(), "rules.yaml"), envs: make([]map[string]string, 2)}
	f.write(t, deskRules)
	redisURL, prefix := redistest.URL(t), redistest.Prefix(prefix)
	for i := range f.envs {
		f.envs[i] = map[string]string{"TELEGRAM_TOKEN": tgfake.Token, "TELEGRAM_API_URL": api.HTTP.URL, "VIGIE_WEBHOOK_SECRET": secret,
			"VIGIE_REDIS_URL": redisURL, "VIGIE_REDIS_PREFIX": prefix, "STATE_DIRECTORY": t.TempDir()}
	}
	return f
}

func (f *keptFleet) write(t *testing.T, text string) {
	t.Helper()
	if err := os.WriteFile(f.file, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// start starts both instances, in place of those started before.
func (f *keptFleet) start(t *testing.T) {
	t.Helper()
	f.ins = f.ins[:0]
	for _, env := range f.envs {
		f.ins = append(f.ins, start(t, deskRules, env, func(c *daemon.Config) { c.ConfigPath = f.file }))
	}
}

func (f *keptFleet) stop(t *testing.T) {
	t.Helper()
	for _, in := range f.ins {
		if err := in.stop(); err != nil {
			t.Fatal(err)
		}
	}
}

// logged counts s in the logs of the instances started last.
func (f *keptFleet) logged(s string) int {
	n := 0
	for _, in := range f.ins {
		n += strings.Count(in.logs.String(), s)
	}
	return n
}

// TestRestartOnRulesKeptAsTextAlone: a vigie upgraded from one that kept
// the rule file's text alone (rules/NAME.HASH, its lists read beside the
// file) starts on a broken file with that copy, and runs it; the mended
// file reloaded, the set takes its place (rules/NAME.HASH.tar) and the old
// copy goes.
func TestRestartOnRulesKeptAsTextAlone(t *testing.T) {
	state := t.TempDir()
	dir := t.TempDir()
	file := writeRuleFiles(t, dir, strings.Replace(listRules, `forward("scam")`, `forwad("scam")`, 1), "nitro\n")
	sum := sha256.Sum256([]byte(file))
	old := filepath.Join(state, "rules", "rules.yaml."+hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(filepath.Dir(old), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(old, []byte(listRules), 0o600); err != nil {
		t.Fatal(err)
	}
	in := start(t, listRules, map[string]string{"STATE_DIRECTORY": state}, func(c *daemon.Config) { c.ConfigPath = file })
	if v := in.post(t, message("m-1", "u-1", "nitro for all")); !slices.Equal(rulesOf(v), []string{"scam"}) {
		t.Errorf("rules matched on the text kept alone = %v, want scam", rulesOf(v))
	}
	writeRuleFiles(t, dir, listRules, "nitro\n")
	in.reload <- struct{}{}
	testsync.Eventually(t, "the mended file reloaded", func() bool { return strings.Contains(in.logs.String(), `msg="rules reloaded"`) })
	if _, err := os.Stat(old + ".tar"); err != nil {
		t.Errorf("the set is not kept once the file is mended: %v", err)
	}
	if _, err := os.Stat(old); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the text kept alone is still there once the set is kept: %v", err)
	}
}
