package rules_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// A rule file's tests can say which alerts held for an event.
func TestRuleTestsExpectAlerts(t *testing.T) {
	const file = `
lists:
  insults: [connard]
rules:
  - name: insult
    category: abuse
    when: has_any(text, lists.insults)
    do: [delete]
alerts:
  - name: wave
    when: 'hits("abuse", "10m") >= 3'
    do: ['alert("wave on {{space}}")']
tests:
  - name: the third insult raises the wave
    events:
      - {text: "connard", author: {id: a}, repeat: 3, every: 1m}
    expect:
      - {event: 2, alerts: []}
      - {event: 3, alerts: [wave]}
  - name: a wrong expectation fails
    events:
      - {text: "connard"}
    expect:
      - {alerts: [wave]}
`
	rs := parse(t, file)
	res := rs.RunTests(context.Background())
	if len(res) != 2 {
		t.Fatalf("%d results, want 2", len(res))
	}
	if !res[0].Passed() {
		t.Errorf("first test failed: %v", res[0].Failures)
	}
	want := "line 24: event 1 (t1): expected alerts [wave], got []"
	if res[1].Passed() || res[1].Failures[0] != want {
		t.Errorf("second test: got %q, want %q", res[1].Failures, want)
	}

	_, err := rules.Parse("test.yaml", []byte(strings.Replace(file, "alerts: [wave]}", "alerts: [waev]}", 1)), rules.LoadOptions{LookupEnv: noEnv})
	if err == nil || !strings.Contains(err.Error(), `test.yaml:19:29: test "the third insult raises the wave": unknown alert "waev"`) {
		t.Errorf("unknown alert: got %v", err)
	}
}
