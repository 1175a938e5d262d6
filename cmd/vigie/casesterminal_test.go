package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	clock := clockFrom(time.Date(2026, 3, 1, 22, 0, 0, 0, time.UTC))
	const secret, token = "hook", "adm"
	file := filepath.Join(t.TempDir(), "rules.yaml")
	rules := `timezone: UTC
rules:
  - name: scam
    category: spam
    when: 'lower(text) contains "nitro"'
    do: [forward("free nitro")]
`
	if err := os.WriteFile(file, []byte(rules), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VIGIE_WEBHOOK_SECRET": secret, "VIGIE_ADMIN_TOKEN": token}
	base := serve(t, clock, env, "--config", file)
	const decided = "\ndecided    keep by http:ann, 2026-03-01 22:00:00 UTC"
	body, _ := json.Marshal(map[string]any{"id": "m1", "platform": "shop", "kind": "message",
		"space": "guild\x1b]0;vigie: all clear\x07", "channel": "general\r\x1b[2K",
		"author": map[string]any{"id": "u1\x1b[8m", "name": "Eve\x1b[2J\x1b[H\u202e" + decided},
		"text":   "free nitro\x1b[8m" + decided, "at": clock().Format(time.RFC3339)})
	req, _ := http.NewRequest("POST", base+"/v1/events", bytes.NewReader(body))
	req.Header.Set("X-Vigie-Signature", signature(secret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /v1/events: %v %v", resp, err)
	}
	resp.Body.Close()
	cliEnv := map[string]string{"VIGIE_URL": base, "VIGIE_ADMIN_TOKEN": token, "USER": "ann"}
	cases := func(args ...string) result {
		return runOn(context.Background(), clock, "", cliEnv, append([]string{"cases"}, args...)...)
	}
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
