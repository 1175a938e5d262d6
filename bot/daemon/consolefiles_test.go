package daemon_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A console admin need not own the machine: the lists and models of a draft
// are read only in the rule file's folder and below. A draft naming another
// file (absolute, or climbing out with ..) is refused with its place in the
// file, by the check, the tests and the apply, and the rule file stays as it
// was; a kept version that names one is not rolled back to either. A list
// beside the rule file still loads.
func TestConsoleDraftReadsOnlyTheRuleFilesFolder(t *testing.T) {
	in := start(t, casesRules, map[string]string{"VIGIE_WEBHOOK_SECRET": secret})
	if r := in.do(t, "PUT", "/v1/accounts/ada", []byte(`{"role":"admin","password":"correct horse"}`), nil); r.code != http.StatusCreated {
		t.Fatalf("PUT /v1/accounts/ada = %d %s", r.code, r.body)
	}
	ada := newBrowser(t, in.base)
	ada.do("POST", "/login", url.Values{"name": {"ada"}, "password": {"correct horse"}}, nil)
	_, page, _ := ada.do("GET", "/rules", nil, nil)
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the rules page has no form:\n%s", page)
	}
	token := m[1]
	base := baseField.FindStringSubmatch(page)[1]

	dir := filepath.Dir(in.file)
	secretFile := filepath.Join(t.TempDir(), "environ")
	if err := os.WriteFile(secretFile, []byte("DISCORD_TOKEN=s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lists", "words.txt"), []byte("nitro\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, secretFile)
	if err != nil {
		t.Fatal(err)
	}
	withList := func(file string) string {
		return strings.Replace(casesRules, "rules:\n", "lists:\n  words: {file: "+file+"}\nrules:\n", 1)
	}
	original, _ := os.ReadFile(in.file)
	for _, file := range []string{secretFile, rel} {
		draft := withList(file)
		line := strings.Count(draft[:strings.Index(draft, "{file: ")], "\n") + 1
		want := `list "words": file "` + file + `" is outside the rule file's folder`
		for _, path := range []string{"/rules/check", "/rules/test", "/rules/backtest"} {
			_, body, _ := ada.do("POST", path, url.Values{"draft": {draft}, "csrf": {token}}, nil)
			var answer struct {
				Problems []struct {
					Line    int
					Message string
				}
			}
			if err := json.Unmarshal([]byte(body), &answer); err != nil || len(answer.Problems) != 1 ||
				answer.Problems[0].Line != line || !strings.HasPrefix(answer.Problems[0].Message, want) {
				t.Errorf("%s of a list at %s: %s, want %q at line %d", path, file, body, want, line)
			}
		}
		code, body, _ := ada.do("POST", "/rules/apply", url.Values{"draft": {draft}, "csrf": {token}, "base": {base}}, nil)
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "is outside the rule file&#39;s folder") {
			t.Errorf("apply of a list at %s: %d, want 422 saying why", file, code)
		}
		if now, _ := os.ReadFile(in.file); string(now) != string(original) {
			t.Fatalf("the rule file after a refused apply:\n%s", now)
		}
	}

	// A version naming a file outside, as the operator may have written
	// it, is not rolled back to from the console.
	versions := in.file + ".versions"
	if err := os.MkdirAll(versions, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(versions, "20260101T000000Z_op.yaml"), []byte(withList(secretFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, _, h := ada.do("POST", "/rules/rollback", url.Values{"version": {"20260101T000000Z_op.yaml"}, "csrf": {token}, "base": {base}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); !strings.Contains(loc, "is outside the rule file's folder") {
		t.Errorf("rollback to a version naming %s: → %q, want refused", secretFile, loc)
	}
	if now, _ := os.ReadFile(in.file); string(now) != string(original) {
		t.Fatalf("the rule file after a refused rollback:\n%s", now)
	}

	// The list beside the rule file is applied.
	code, _, h := ada.do("POST", "/rules/apply", url.Values{"draft": {withList("lists/words.txt")}, "csrf": {token}, "base": {base}}, nil)
	if loc, _ := url.QueryUnescape(h.Get("Location")); code != http.StatusSeeOther || !strings.Contains(loc, "Rules applied and running") {
		t.Errorf("apply of lists/words.txt: %d → %q", code, loc)
	}
}
