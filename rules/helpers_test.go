package rules_test

import (
	"os"
	"strings"
	"testing"
)

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func joinLines(s []string) string { return strings.Join(s, "\n  ") }
