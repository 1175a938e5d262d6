package rules_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// Every file in testdata/good loads without problems and passes its own tests.
func TestGoodFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "good", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no good files: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			rs, err := rules.Load(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range rs.Warnings {
				t.Errorf("warning: %s", w)
			}
			for _, r := range rs.RunTests(context.Background()) {
				if !r.Passed() {
					t.Errorf("test %q (line %d):\n  %s", r.Name, r.Line, joinLines(r.Failures))
				}
			}
		})
	}
}
