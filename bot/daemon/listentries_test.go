package daemon_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/bot/internal/testsync"
)

// TestBrokenListFileToldWhole: a list edited with three entries that have
// no word to match, vigie started again on it tells the three, each with
// the list file's line, in the log, on /healthz and on the desk, so that a
// CM mends them at once. Before, the first alone was told: mended and
// reloaded, the list was refused for the next.
func TestBrokenListFileToldWhole(t *testing.T) {
	api, dir, env, onFile := onListedRules(t)
	if err := start(t, listRules, env, onFile).stop(); err != nil {
		t.Fatal(err)
	}

	writeRuleFiles(t, dir, listRules, "giveaway\n***\n# pasted tonight\n---\nfree gift\n...\n")
	want := []string{`lists/scams.txt:2: "***"`, `lists/scams.txt:4: "---"`, `lists/scams.txt:6: "..."`}
	in := start(t, listRules, env, onFile)
	all := func(s string) bool {
		return !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(s, w) })
	}
	if logs := strings.ReplaceAll(in.logs.String(), `\"`, `"`); !all(logs) {
		t.Errorf("log, want %q:\n%s", want, logs)
	}
	var h struct{ Degraded []string }
	in.do(t, "GET", "/healthz", nil, nil).json(t, &h)
	if !slices.ContainsFunc(h.Degraded, all) {
		t.Errorf("/healthz degraded = %q, want %q", h.Degraded, want)
	}
	told := func() []string { return deskCards(api, "does not load") }
	testsync.Eventually(t, "the desk told the list does not load", func() bool { return len(told()) == 1 })
	if got := told()[0]; !all(got) {
		t.Errorf("desk told:\n%s\nwant %q", got, want)
	}
}
