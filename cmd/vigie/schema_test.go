package main

import (
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

// vigie schema prints the schema that init writes, and takes no argument.
func TestSchemaCommand(t *testing.T) {
	if r := run("schema"); r.code != exitOK || r.stdout != string(rules.Schema()) {
		t.Errorf("schema: %d, %d bytes, stderr %q", r.code, len(r.stdout), r.stderr)
	}
	if r := run("schema", "extra"); r.code != exitUsage {
		t.Errorf("schema extra: exit %d, want %d", r.code, exitUsage)
	}
}
