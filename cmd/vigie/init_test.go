package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// vigie init writes a starter pack that loads and passes its own tests from
// where it was written, and never overwrites a CM's files unless told to.
func TestInitWritesAWorkingPack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "community")
	r := run("init", dir)
	if r.code != exitOK || !strings.Contains(r.stdout, "wrote "+filepath.Join(dir, "rules.yaml")) {
		t.Fatalf("init: %d %q %q", r.code, r.stdout, r.stderr)
	}
	lists, err := filepath.Glob(filepath.Join(dir, "lists", "*.txt"))
	if err != nil || len(lists) < 10 {
		t.Fatalf("lists written: %v %v", lists, err)
	}
	file := filepath.Join(dir, "rules.yaml")
	// the schema the rule file's first line names is written beside it
	if got, err := os.ReadFile(filepath.Join(dir, rules.SchemaFile)); err != nil || !bytes.Equal(got, rules.Schema()) {
		t.Errorf("%s written: %v, equal to rules.Schema(): %v", rules.SchemaFile, err, bytes.Equal(got, rules.Schema()))
	}
	if src, err := os.ReadFile(file); err != nil || !strings.HasPrefix(string(src), "# yaml-language-server: $schema="+rules.SchemaFile+"\n") {
		t.Errorf("rules.yaml does not name its schema on its first line (%v)", err)
	}
	if r := run("check", "--config", file); r.code != exitOK || !strings.Contains(r.stdout, file+": ok") {
		t.Errorf("check of the written pack: %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := run("test", "--config", file); r.code != exitOK || !strings.Contains(r.stdout, " 0 failed") {
		t.Errorf("test of the written pack: %d %q %q", r.code, r.stdout, r.stderr)
	}

	// A CM edits a list; init again refuses and keeps it.
	mine := filepath.Join(dir, "lists", "brands.txt")
	if err := os.WriteFile(mine, []byte("acme\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run("init", dir)
	if r.code != exitFail || !strings.Contains(r.stderr, mine+" exists") || !strings.Contains(r.stderr, "nothing written") {
		t.Errorf("init over a pack: %d %q", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(mine); string(got) != "acme\n" {
		t.Errorf("the edited list was overwritten: %q", got)
	}
	if r := run("init", "--force", dir); r.code != exitOK {
		t.Errorf("init --force: %d %q", r.code, r.stderr)
	}
	if got, _ := os.ReadFile(mine); string(got) == "acme\n" {
		t.Error("init --force left the edited list")
	}
	if r := run("init", dir, "other"); r.code != exitUsage {
		t.Errorf("two directories: exit %d, want %d", r.code, exitUsage)
	}
}
