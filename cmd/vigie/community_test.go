package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// vigie check counts the communities of a file that has some, and only then.
func TestDescribeCommunities(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rules.yaml")
	src := "rules: []\ncommunities:\n  a: {places: [discord:1]}\n  b: {places: [telegram:-2]}\n"
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if got := describe(rs, file); !strings.HasSuffix(got, ", 2 communities") {
		t.Errorf("describe = %q, want it to end with 2 communities", got)
	}
	rs.Communities = rs.Communities[:1]
	if got := describe(rs, file); !strings.HasSuffix(got, ", 1 community") {
		t.Errorf("describe = %q, want it to end with 1 community", got)
	}
	rs.Communities = nil
	if got := describe(rs, file); strings.Contains(got, "communit") {
		t.Errorf("describe = %q, without communities", got)
	}
}
