package rules_test

import (
	"context"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// The starter pack loads without warnings other than its unset desk chat, and
// its own tests pass.
func TestExampleFile(t *testing.T) {
	rs, err := rules.Parse("../rules.example.yaml", mustRead(t, "../rules.example.yaml"), rules.LoadOptions{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range rs.Warnings {
		t.Log("warning:", w)
	}
	for _, r := range rs.RunTests(context.Background()) {
		if !r.Passed() {
			t.Errorf("test %q (line %d):\n  %s", r.Name, r.Line, joinLines(r.Failures))
		}
	}
}
