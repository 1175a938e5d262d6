package main

import (
	"strings"
	"testing"
	"unicode"
)

// TestCasesCommandWritesMemberTextInert lists and shows a case whose author,
// place and message carry what a terminal obeys: escape sequences (clear the
// screen, set the window's title, hide the text), a carriage return, line
// breaks and a right-to-left override. vigie cases writes them as characters
// to read, each case on its line and each field of show on its own: a
// member's name cannot clear the CM's screen, write a fake "decided" line,
// nor turn a line around.
func TestCasesCommandWritesMemberTextInert(t *testing.T) {
	const decided = "\ndecided    keep by http:ann, 2026-03-01 22:00:00 UTC"
	_, _, cases := scamCases(t, map[string]any{"id": "m1", "platform": "shop",
		"space": "guild\x1b]0;vigie: all clear\x07", "channel": "general\r\x1b[2K",
		"author": map[string]any{"id": "u1\x1b[8m", "name": "Eve\x1b[2J\x1b[H\u202e" + decided},
		"text":   "free nitro\x1b[8m" + decided})
	obeyed := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool {
			return r != '\n' && (unicode.IsControl(r) || r == '\u202e')
		})
	}
	var list result
	waitFor(t, func() bool { list = cases("list"); return strings.HasPrefix(list.stdout, "1 open case") })
	lines := strings.Split(strings.TrimSuffix(list.stdout, "\n"), "\n")
	if list.code != exitOK || len(lines) != 3 || obeyed(list.stdout) {
		t.Fatalf("cases list: exit %d, want the case on one line, nothing a terminal obeys:\n%q", list.code, list.stdout)
	}
	id, _, _ := strings.Cut(lines[2], " ")
	show := cases("show", id)
	if show.code != exitOK || obeyed(show.stdout) || strings.Contains(show.stdout, "\ndecided ") {
		t.Errorf("cases show: exit %d, want nothing a terminal obeys and no decided line:\n%q", show.code, show.stdout)
	}
	for _, want := range []string{`author     Eve\x1b[2J\x1b[H\u202e decided keep by http:ann`, `where      shop/guild\x1b]0;vigie: all clear\a/general\r\x1b[2K`} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("cases show: no %q in\n%s", want, show.stdout)
		}
	}
}
