package main

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateReplayShared = flag.Bool("update-replay-shared", false,
	"write testdata/replay-shared.txt from the replay of ../shared/data")

// The replay of the labelled public data through the starter pack says what it
// said: its report, and each event's verdict (the --decisions file, by its
// SHA-256). A change meant to make the replay faster must leave both as they
// were; one that changes what the rules decide writes the file again
// (go test -run TestReplaySharedUnchanged ./cmd/vigie -args -update-replay-shared)
// and shows the difference in its commit.
func TestReplaySharedUnchanged(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(sharedData, "*.jsonl"))
	if len(files) == 0 {
		t.Skipf("no %s", sharedData)
	}
	var got strings.Builder
	for _, file := range files {
		decisions := filepath.Join(t.TempDir(), "decisions.jsonl")
		r := run("replay", "--config", "../../rules.example.yaml", "--format", "json", "--decisions", decisions, file)
		if r.code != 0 {
			t.Fatalf("vigie replay %s: exit %d\n%s", file, r.code, r.stderr)
		}
		b, err := os.ReadFile(decisions)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(&got, "== %s: %d decisions, sha256 %s\n%s", filepath.Base(file),
			strings.Count(string(b), "\n"), hex.EncodeToString(sum[:]), r.stdout)
	}
	const golden = "testdata/replay-shared.txt"
	if *updateReplayShared {
		if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != string(want) {
		t.Errorf("the replay of %s changed (-update-replay-shared writes it):\n%s", sharedData, lineDiff(string(want), got.String()))
	}
}

// lineDiff is the lines of want and got that differ, by their number.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var x, y string
		if i < len(w) {
			x = w[i]
		}
		if i < len(g) {
			y = g[i]
		}
		if x != y {
			fmt.Fprintf(&b, "line %d:\n  want %s\n  got  %s\n", i+1, x, y)
		}
	}
	return b.String()
}
