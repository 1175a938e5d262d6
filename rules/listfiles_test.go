package rules_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie"
	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// A list or model file that is not a regular file, or is too large, is refused
// with the line of the rule file that names it, not read: /dev/zero filled the
// memory of vigie check, a FIFO held it (and a reload, all reloads) forever.
func TestListAndModelFilesRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero nor FIFOs")
	}
	dir := t.TempDir()
	sparse := func(name string, size int64) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := f.Truncate(size); err != nil { // no blocks written
			t.Fatal(err)
		}
	}
	sparse("big.txt", 16<<20+1)
	sparse("big.bin", 64<<20+1)
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.txt"), []byte("connard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `lists:
  ok: {file: ok.txt}
  zero: {file: /dev/zero}
  fifo: {file: fifo}
  big: {file: big.txt}
  folder: {file: folder}
models:
  zero: {file: /dev/zero}
  fifo: {file: fifo}
  big: {file: big.bin}
rules: []
`
	file := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := rules.Load(file)
	if err == nil {
		t.Fatal("loaded")
	}
	got := strings.ReplaceAll(err.Error(), dir, "DIR")
	want := `DIR/rules.yaml:3:16: list "zero": cannot read /dev/zero: not a regular file (a character device)
DIR/rules.yaml:4:16: list "fifo": cannot read DIR/fifo: not a regular file (a FIFO)
DIR/rules.yaml:5:15: list "big": cannot read DIR/big.txt: 16777217 bytes, larger than the 16 MiB allowed
DIR/rules.yaml:6:18: list "folder": cannot read DIR/folder: is a folder, not a file
DIR/rules.yaml:8:16: model "zero": cannot read /dev/zero: not a regular file (a character device)
DIR/rules.yaml:9:16: model "fifo": cannot read DIR/fifo: not a regular file (a FIFO)
DIR/rules.yaml:10:15: model "big": cannot read DIR/big.bin: 67108865 bytes, larger than the 64 MiB allowed`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// The rule file itself is refused, not read, when it is not a regular file or
// is too large: `vigie check /dev/zero` filled the memory, a FIFO held a load
// (and a reload) until something wrote to it.
func TestRuleFileNotRegularRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero nor FIFOs")
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(16<<20 + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for file, want := range map[string]string{
		"/dev/zero": "read rule file: /dev/zero: not a regular file (a character device)",
		fifo:        "read rule file: DIR/fifo.yaml: not a regular file (a FIFO)",
		big:         "read rule file: DIR/big.yaml: 16777217 bytes, larger than the 16 MiB allowed",
		dir:         "read rule file: DIR: is a folder, not a file",
	} {
		_, err := rules.Load(file)
		if err == nil {
			t.Errorf("%s loaded", file)
			continue
		}
		if got := strings.ReplaceAll(err.Error(), dir, "DIR"); got != want {
			t.Errorf("Load(%s) = %q, want %q", file, got, want)
		}
	}
}

// With LoadOptions.Confined (a draft from the console), a list or model file
// is read only in the rule file's folder and below: an absolute name, one
// that climbs out with .., and a symbolic link leading out are refused at
// the line that names them; a file below loads, and so do the starter
// pack's lists and models built into the binary. Without it (the command
// line, the operator's own file), an absolute name is read as before.
func TestConfinedListAndModelFiles(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "environ")
	if err := os.WriteFile(outside, []byte("DISCORD_TOKEN=s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lists", "ok.txt"), []byte("connard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "lists", "link.txt")); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rules.yaml")
	src := func(list string) []byte {
		return []byte("lists:\n  words: {file: " + list + "}\nrules: []\n")
	}
	confined := rules.LoadOptions{Confined: true}
	for _, tt := range []struct{ list, want string }{
		{outside, file + `:2:17: list "words": file "` + outside + `" is outside the rule file's folder: name a file in it or below it, as lists/NAME.txt`},
		{"../x/../../environ", file + `:2:17: list "words": file "../x/../../environ" is outside the rule file's folder: name a file in it or below it, as lists/NAME.txt`},
		{"lists/link.txt", file + `:2:17: list "words": cannot read ` + filepath.Join(dir, "lists", "link.txt") + `: path escapes from parent`},
	} {
		_, err := rules.Parse(file, src(tt.list), confined)
		if err == nil || err.Error() != tt.want {
			t.Errorf("confined, list %s: %v\nwant %s", tt.list, err, tt.want)
		}
	}
	if _, err := rules.Parse(file, []byte("models:\n  spam: {file: "+outside+"}\nrules: []\n"), confined); err == nil ||
		!strings.Contains(err.Error(), `:2:16: model "spam": file "`+outside+`" is outside the rule file's folder`) {
		t.Errorf("confined, model %s: %v", outside, err)
	}
	for _, list := range []string{"lists/ok.txt", "lists/../lists/ok.txt"} {
		if _, err := rules.Parse(file, src(list), confined); err != nil {
			t.Errorf("confined, list %s: %v", list, err)
		}
	}
	if _, err := rules.Parse(file, src(outside), rules.LoadOptions{}); err != nil {
		t.Errorf("not confined, list %s: %v", outside, err)
	}
	if _, _, err := vigie.LoadRulesWith("", confined); err != nil {
		t.Errorf("the starter pack built in, confined: %v", err)
	}
}

// A list or model file named many times is read and compiled once, shared
// by its names: a draft of 1 MiB naming one file tens of thousands of times
// asked for tens of GB when each name read it. Files named once each are not
// bounded in all: the starter pack's lists with a community's own (some
// hundreds of files, or a large blocklist beside the starter pack's) load
// as each did alone.
func TestListAndModelFilesReadOnce(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"lists", "models"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "lists", "ok.txt"), []byte("connard\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	model, err := os.ReadFile(filepath.Join("..", "models", "spam.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "models", "spam.bin"), model, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rules.yaml")
	var reads sync.Map // path -> *atomic.Int64
	opts := rules.LoadOptions{Confined: true, ReadFile: func(name string) ([]byte, error) {
		n, _ := reads.LoadOrStore(name, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		return os.ReadFile(name)
	}}
	readOnce := func(what string) {
		t.Helper()
		reads.Range(func(k, v any) bool {
			if n := v.(*atomic.Int64).Load(); n != 1 {
				t.Errorf("%s: %s read %d times", what, k, n)
			}
			return true
		})
		reads.Clear()
	}

	// 30,000 names of one list, 2,000 of one model, in other spellings too.
	var b strings.Builder
	b.WriteString("lists:\n")
	for i := range 30000 {
		fmt.Fprintf(&b, "  n%d: {file: %s}\n", i, []string{"lists/ok.txt", "./lists/ok.txt", "lists//ok.txt"}[i%3])
	}
	b.WriteString("models:\n")
	for i := range 2000 {
		fmt.Fprintf(&b, "  m%d: {file: models/spam.bin}\n", i)
	}
	b.WriteString(`rules:
  - {name: first, when: 'has_any(content, lists.n0)', do: [delete]}
  - {name: last, when: 'has_any(content, lists.n29999) and score("m1999") >= 0', do: [delete]}
tests:
  - name: every name reads the list
    events: [{text: "quel connard"}, {text: "bonjour"}]
    expect: [{event: 1, rules: [first, last]}, {event: 2, rules: []}]
`)
	rs, err := rules.Parse(file, []byte(b.String()), opts)
	if err != nil {
		t.Fatalf("one list and one model named many times: %v", err)
	}
	readOnce("one list and one model named many times")
	for _, r := range rs.RunTests(context.Background()) {
		if !r.Passed() {
			t.Errorf("test %q: %v", r.Name, r.Failures)
		}
	}

	// 300 list files, each named once.
	b.Reset()
	b.WriteString("lists:\n")
	for i := range 300 {
		name := fmt.Sprintf("lists/l%d.txt", i)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(fmt.Sprintf("mot%d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "  l%d: {file: %s}\n", i, name)
	}
	b.WriteString("rules: []\n")
	if _, err := rules.Parse(file, []byte(b.String()), opts); err != nil {
		t.Errorf("300 list files: %v", err)
	}
	readOnce("300 list files")

	// A file that cannot be read is refused at each name, read once.
	_, err = rules.Parse(file, []byte("lists:\n  a: {file: lists/none.txt}\n  b: {file: lists/none.txt}\nrules: []\n"), opts)
	if err == nil || strings.Count(err.Error(), "cannot read") != 2 || !strings.Contains(err.Error(), ":3:") {
		t.Errorf("a missing file named twice: %v", err)
	}
	readOnce("a missing file named twice")
}

// TestFilesCompileTheSameRules: the starter pack's list and model files, as
// Ruleset.Files gives them, compile its rules again when the files on disk
// are gone, and the rules decide as they did: what vigie run keeps of the
// rules that loaded last, for a start on a file or list that no longer loads.
func TestFilesCompileTheSameRules(t *testing.T) {
	rs, err := rules.Load(filepath.Join("..", vigie.ExampleFile))
	if err != nil {
		t.Fatal(err)
	}
	files := rs.Files()
	for _, name := range []string{"lists/scam-phrases.txt", "lists/insults-fr.txt", "models/spam.bin"} {
		want, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if string(files[name]) != string(want) {
			t.Errorf("Files()[%q] holds %d bytes, want the file's %d", name, len(files[name]), len(want))
		}
	}
	moved := filepath.Join(t.TempDir(), vigie.ExampleFile)
	again, err := rules.Parse(moved, rs.Source(), rules.LoadOptions{ReadFile: func(name string) ([]byte, error) {
		rel, err := filepath.Rel(filepath.Dir(moved), filepath.FromSlash(name))
		if err != nil {
			return nil, err
		}
		data, ok := files[filepath.ToSlash(rel)]
		if !ok {
			return nil, fmt.Errorf("%s not among the files read", name)
		}
		return data, nil
	}})
	if err != nil {
		t.Fatalf("the rules with the files they read, the files on disk gone: %v", err)
	}
	for text, want := range map[string][]string{"free nitro here, claim it": {"scam"}, "t'es qu'un connard": {"insult"}, "bonjour à tous": nil} {
		ev := bot.Event{ID: "e", Platform: "discord", Kind: "message", Space: "s", Text: text, At: time.Unix(0, 0)}
		for by, rs := range map[string]*rules.Ruleset{"the files on disk": rs, "the files read": again} {
			v, err := rules.NewEngine(rs, memory.New(), rules.Options{}).Evaluate(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(matched(v), want) {
				t.Errorf("%q: matched %v by the rules with %s, want %v", text, matched(v), by, want)
			}
		}
	}
}

func matched(v bot.Verdict) []string {
	var out []string
	for _, m := range v.Matches {
		out = append(out, m.Rule)
	}
	return out
}

// TestListEntryErrorNamesItsLine: an entry of a list file with no word
// to match is told with the list file's line, where a CM opens it, not its
// place among the entries, which the comments and blank lines above it
// shift. Before: `list entry 2 "***"`, on line 4.
func TestListEntryErrorNamesItsLine(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "lists", "scams.txt"), []byte("free nitro\n\n# added tonight\n***\ngiveaway\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(file, []byte(`lists:
  scams: {file: lists/scams.txt}
rules:
  - name: scam
    when: has_any(text, lists.scams)
    do: [delete]
`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := rules.Load(file)
	const want = `rules.yaml:2:3: list "scams": lists/scams.txt:4: "***" has no word to match`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Load = %v, want %s", err, want)
	}
}

// TestListFileTellsAllItsBadEntries: a list file with several entries that
// have no word to match tells each, with its line, so that a CM mends them
// in one go, up to listEntryProblems of them, then how many there are in
// all. Before, only the first was told: mended and reloaded, the file was
// refused again for the next.
func TestListFileTellsAllItsBadEntries(t *testing.T) {
	ruleFile := []byte(`lists:
  scams: {file: lists/scams.txt}
rules:
  - name: scam
    when: has_any(text, lists.scams)
    do: [delete]
`)
	load := func(t *testing.T, list string) []string {
		t.Helper()
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "lists"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "lists", "scams.txt"), []byte(list), 0o600); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "rules.yaml")
		if err := os.WriteFile(file, ruleFile, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := rules.Load(file)
		le, ok := errors.AsType[*rules.LoadError](err)
		if !ok {
			t.Fatalf("Load = %v, want a *rules.LoadError", err)
		}
		var out []string
		for _, p := range le.Problems {
			out = append(out, strings.TrimPrefix(p.String(), dir+string(filepath.Separator)))
		}
		return out
	}

	t.Run("three", func(t *testing.T) {
		got := load(t, "free nitro\n***\n# tonight\n---\ngiveaway\n\n!!!\n")
		want := []string{
			`rules.yaml:2:3: list "scams": lists/scams.txt:2: "***" has no word to match (a line is a word, a phrase or a domain; # starts a comment)`,
			`rules.yaml:2:3: list "scams": lists/scams.txt:4: "---" has no word to match`,
			`rules.yaml:2:3: list "scams": lists/scams.txt:7: "!!!" has no word to match`,
		}
		if !slices.Equal(got, want) {
			t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("bounded", func(t *testing.T) {
		got := load(t, "nitro\n"+strings.Repeat("***\n", 25))
		if len(got) != 21 {
			t.Fatalf("%d problems, want 20 entries and a count:\n%s", len(got), strings.Join(got, "\n"))
		}
		if !strings.Contains(got[19], `lists/scams.txt:21: "***"`) {
			t.Errorf("the 20th problem = %s, want line 21's entry", got[19])
		}
		const last = `rules.yaml:2:3: list "scams": lists/scams.txt: 25 entries have no word to match, the first 20 told above`
		if got[20] != last {
			t.Errorf("the last problem = %s, want %s", got[20], last)
		}
	})
}
