package daemon_test

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
)

// rulesFailingAtRunTime compiles, but its regexp is built at run time and
// does not compile: the rule fails on every event, at line 17, column 12.
const rulesFailingAtRunTime = rulesV1 + `  - name: broken-regexp
    category: spam
    when: 'text matches ("(" + "[")'
    do: [delete]
`

// A rule that compiles but fails on every event is what vigie check warns of
// after trying the file on its sample events; a running vigie said nothing of
// it, neither in its log at start nor in the answer to a reload, so that a CM
// who reloads over HTTP or from the desk learned of it from the first event's
// failure, at night.
func TestRunTimeFailuresToldAtStartAndReload(t *testing.T) {
	in := start(t, rulesV1, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	const want = `rule "broken-regexp" fails at run time on 5 of 5 sample events`
	// The log quotes its message.
	const logged = `rule \"broken-regexp\" fails at run time on 5 of 5 sample events`

	if err := os.WriteFile(in.file, []byte(rulesFailingAtRunTime), 0o600); err != nil {
		t.Fatal(err)
	}
	r := in.do(t, "POST", "/-/reload", nil, nil)
	var ok struct {
		Status   string
		Warnings []string
	}
	r.json(t, &ok)
	if r.code != http.StatusOK || ok.Status != "reloaded" {
		t.Fatalf("reload = %d %s, want 200 reloaded (a warning is no refusal)", r.code, r.body)
	}
	at := in.file + ":17:12: "
	if !slices.ContainsFunc(ok.Warnings, func(w string) bool { return strings.HasPrefix(w, at) && strings.Contains(w, want) }) {
		t.Errorf("reload warnings = %q, want one starting %q and saying %q", ok.Warnings, at, want)
	}
	if logs := in.logs.String(); !strings.Contains(logs, logged) {
		t.Errorf("log after the reload does not say %q:\n%s", want, logs)
	}

	// At start, from a file that already has it.
	again := start(t, rulesFailingAtRunTime, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if logs := again.logs.String(); !strings.Contains(logs, logged) {
		t.Errorf("log at start does not say %q:\n%s", want, logs)
	}
}
