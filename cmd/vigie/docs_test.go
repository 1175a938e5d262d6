package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/daemon/listentest"
)

// The docs show command lines and what they print; testdata/script/*.txtar
// runs the same command lines with the real vigie and compares what they print
// with the same text, and TestDocsAreScripted checks that every output the
// docs show is one of those. Neither can change without the other.

// repoRoot is where README.md, docs/ and the starter pack are, from cmd/vigie.
const repoRoot = "../.."

// docFiles are the pages whose shell sessions are checked.
func docFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{filepath.Join(repoRoot, "README.md")}, files...)
}

// TestScripts runs testdata/script/*.txtar. Each starts in $WORK/vigie, a copy
// of the repository's starter pack (rules.example.yaml, lists/ and models/), so that its
// files are $WORK/NAME; beside it is $WORK/shared, the labelled data of ../shared when it is there; vigie run
// listens on $VIGIE_LISTEN, a free port, which the scripts' curl reaches as
// localhost:8080.
func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vigie as a process per command")
	}
	shared, err := filepath.Abs(filepath.Join(repoRoot, "..", "shared"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		// VIGIE_UPDATE_SCRIPTS=1 writes what the commands printed into the
		// scripts' cmp files, to paste into the docs after reading the diff.
		UpdateScripts: os.Getenv("VIGIE_UPDATE_SCRIPTS") != "",
		Setup: func(env *testscript.Env) error {
			clone := filepath.Join(env.WorkDir, "vigie")
			for _, dir := range []string{"lists", "models"} {
				if err := os.CopyFS(filepath.Join(clone, dir), os.DirFS(filepath.Join(repoRoot, dir))); err != nil {
					return err
				}
			}
			example, err := os.ReadFile(filepath.Join(repoRoot, "rules.example.yaml"))
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(clone, "rules.example.yaml"), example, 0o644); err != nil {
				return err
			}
			if _, err := os.Stat(shared); err == nil {
				if err := os.Symlink(shared, filepath.Join(env.WorkDir, "shared")); err != nil {
					return err
				}
			}
			env.Cd = clone
			// vigie run listens on a port it picks; waitserve reads it in
			// its log and sets VIGIE_LISTEN and VIGIE_URL to it.
			env.Setenv("VIGIE_LISTEN", listentest.AnyPort)
			env.Setenv("VIGIE_URL", "http://"+listentest.AnyPort)
			env.Setenv("VIGIE_SCRIPT_LOG", filepath.Join(env.WorkDir, ".vigie-run.log"))
			// The session's runtime directory, where vigie run writes the
			// admin token it makes and vigie cases reads it.
			run := filepath.Join(env.WorkDir, ".run")
			if err := os.Mkdir(run, 0o700); err != nil {
				return err
			}
			env.Setenv("XDG_RUNTIME_DIR", run)
			// Live events are stamped now: older ones get no FAQ answer
			// and no warning (docs/rules.md, "What vigie says").
			env.Setenv("NOW", time.Now().UTC().Format(time.RFC3339))
			return nil
		},
		// [shared]: the labelled data of ../shared is there (CI lays it
		// beside the clone).
		Condition: func(cond string) (bool, error) {
			if cond != "shared" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			_, err := os.Stat(filepath.Join(shared, "data"))
			return err == nil, nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"curl":      scriptCurl,
			"waitserve": scriptWaitServe,
			"waitcases": scriptWaitCases,
			"cmpnorm":   scriptCmpNorm,
			"replace":   scriptReplace,
		},
	})
}

// scriptToken is the admin token the script's vigie run made, read where
// vigie cases reads it.
func scriptToken(ts *testscript.TestScript) string {
	addr := ts.Getenv("VIGIE_LISTEN")
	made, err := daemon.ReadAdminToken(ts.Getenv, addr[strings.LastIndexByte(addr, ':')+1:])
	ts.Check(err)
	if made.Token == "" {
		ts.Fatalf("no admin token in %s", made.File)
	}
	return made.Token
}

// scriptCurl is the little of curl the docs use: curl [-s] [-X METHOD]
// [-H 'Name: value']... [-d BODY] URL. localhost:8080 and 127.0.0.1:8080 are
// $VIGIE_LISTEN. The body of the answer goes to stdout, whatever its status, as
// curl -s does.
func scriptCurl(ts *testscript.TestScript, neg bool, args []string) {
	method, url := "", ""
	var body io.Reader
	header := http.Header{}
	for i := 0; i < len(args); i++ {
		next := func() string {
			i++
			if i == len(args) {
				ts.Fatalf("curl: %s wants a value", args[i-1])
			}
			return args[i]
		}
		switch a := args[i]; a {
		case "-s":
		case "-X":
			method = next()
		case "-H":
			name, value, _ := strings.Cut(next(), ":")
			header.Add(name, strings.TrimSpace(value))
		case "-d":
			body = strings.NewReader(next())
			if method == "" {
				method = http.MethodPost
			}
		default:
			if strings.HasPrefix(a, "-") {
				ts.Fatalf("curl: %s is not known here", a)
			}
			url = a
		}
	}
	if method == "" {
		method = http.MethodGet
	}
	for _, local := range []string{"localhost:8080", "127.0.0.1:8080"} {
		url = strings.Replace(url, local, ts.Getenv("VIGIE_LISTEN"), 1)
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	req, err := http.NewRequest(method, url, body)
	ts.Check(err)
	req.Header = header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		if !neg {
			ts.Fatalf("curl: %v", err)
		}
		return
	}
	defer resp.Body.Close()
	_, err = io.Copy(ts.Stdout(), resp.Body)
	ts.Check(err)
	if neg {
		ts.Fatalf("curl succeeded")
	}
}

// scriptWaitServe waits until the vigie run of the script says in its log
// the address it listens on, sets VIGIE_LISTEN and VIGIE_URL to it, and
// waits until it answers /healthz there.
func scriptWaitServe(ts *testscript.TestScript, neg bool, args []string) {
	logFile := ts.Getenv("VIGIE_SCRIPT_LOG")
	deadline := time.Now().Add(time.Minute)
	var addr string
	for {
		b, _ := os.ReadFile(logFile)
		var ok bool
		if addr, ok = listentest.Addr(string(b)); ok {
			break
		}
		if time.Now().After(deadline) {
			ts.Fatalf("vigie run did not say where it listens within a minute:\n%s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The next vigie run of the script writes a log of its own.
	ts.Check(os.Remove(logFile))
	ts.Setenv("VIGIE_LISTEN", addr)
	ts.Setenv("VIGIE_URL", "http://"+addr)
	url := "http://" + addr + "/healthz"
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("vigie run did not answer %s within a minute", url)
}

// scriptWaitCases waits until the vigie run of the script has N cases open:
// they are opened in the place's lane, after the verdict was answered.
func scriptWaitCases(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 || neg {
		ts.Fatalf("usage: waitcases N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	url := "http://" + ts.Getenv("VIGIE_LISTEN") + "/v1/cases"
	deadline := time.Now().Add(time.Minute)
	token := scriptToken(ts)
	for time.Now().Before(deadline) {
		req, err := http.NewRequest("GET", url, nil)
		ts.Check(err)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var open struct{ Count int }
			err = json.NewDecoder(resp.Body).Decode(&open)
			resp.Body.Close()
			if err == nil && open.Count >= want {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("fewer than %d cases open at %s after a minute", want, url)
}

// timestamp is a time as the logs and verdicts write it: the docs were pasted
// from another run than the scripts', at another time.
var timestamp = regexp.MustCompile(`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)`)

// caseEpoch is the epoch of a case id (c-EPOCH-000001), drawn at random by
// the store of each run (store.NewCaseEpoch).
var caseEpoch = regexp.MustCompile(`\b([cl])-[a-z][0-9a-z]{4}-(\d{6})\b`)

// remotePort is the port a client of vigie run called from, as a refusal
// logs it.
var remotePort = regexp.MustCompile(`(remote=127\.0\.0\.1:)\d+`)

// anyPort is listentest.AnyPort, which the scripts' vigie run is told to
// listen on, and says so in its log.
var anyPort = regexp.MustCompile(regexp.QuoteMeta(listentest.AnyPort) + `\b`)

// normalise turns the times of a log or a verdict into one, the epochs of
// case ids too, and the address vigie run listened on (and the one it was
// told, a port it picks) into the default the docs show.
func normalise(s, listen string) string {
	if listen != "" {
		s = strings.ReplaceAll(s, listen, "127.0.0.1:8080")
		// What vigie run was told to listen on, a port it picks.
		s = anyPort.ReplaceAllString(s, "127.0.0.1:8080")
		s = strings.ReplaceAll(s, "admin-token-"+listen[strings.LastIndexByte(listen, ':')+1:], "admin-token-8080")
	}
	s = caseEpoch.ReplaceAllString(s, "$1-EPOCH-$2")
	s = remotePort.ReplaceAllString(s, "${1}52144")
	return timestamp.ReplaceAllString(s, "TIME")
}

// scriptCmpNorm is cmp stdout|stderr FILE with the times and the listen
// address normalised on both sides.
func scriptCmpNorm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 || neg {
		ts.Fatalf("usage: cmpnorm stdout|stderr FILE")
	}
	// The session's runtime directory is the usual one of a first user.
	run := ts.Getenv("XDG_RUNTIME_DIR")
	got := strings.ReplaceAll(ts.ReadFile(args[0]), run, "/run/user/1000")
	want := strings.ReplaceAll(ts.ReadFile(args[1]), run, "/run/user/1000")
	listen := ts.Getenv("VIGIE_LISTEN")
	if normalise(got, listen) != normalise(want, listen) {
		ts.Fatalf("%s and %s differ, times aside:\n%s\nwant\n%s", args[0], args[1], got, want)
	}
}

// scriptReplace replaces OLD by NEW in FILE, once, and fails when OLD is not
// there: the scripts break a rule file as a reader would by hand.
func scriptReplace(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 3 || neg {
		ts.Fatalf("usage: replace FILE OLD NEW")
	}
	file := ts.MkAbs(args[0])
	data, err := os.ReadFile(file)
	ts.Check(err)
	if !bytes.Contains(data, []byte(args[1])) {
		ts.Fatalf("%s has no %q", args[0], args[1])
	}
	ts.Check(os.WriteFile(file, bytes.Replace(data, []byte(args[1]), []byte(args[2]), 1), 0o644))
}

// docStep is one command of a shell session in the docs and what it printed.
type docStep struct {
	where  string // FILE:LINE of the command
	argv   []string
	output string
	// status is what `echo $?` right after it printed, or "" when not shown.
	status string
}

// docSessions reads the fenced blocks of a Markdown file that start with a
// "$ " prompt: each "$ " line is a command (continued while a quote is open or
// the line ends with a backslash), the lines up to the next prompt its output.
func docSessions(t *testing.T, file string) []docStep {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var steps []docStep
	lines := strings.Split(string(data), "\n")
	inBlock, session := false, false
	var cmd strings.Builder
	open := false // a command line continues
	for i, line := range lines {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			inBlock, session, open = !inBlock, false, false
			if inBlock && i+1 < len(lines) && strings.HasPrefix(lines[i+1], "$ ") {
				session = true
			}
			continue
		}
		if !session {
			continue
		}
		switch {
		case open:
			cmd.WriteString("\n" + line)
		case strings.HasPrefix(line, "$ "):
			cmd.Reset()
			cmd.WriteString(strings.TrimPrefix(line, "$ "))
			steps = append(steps, docStep{where: fmt.Sprintf("%s:%d", file, i+1)})
		default:
			steps[len(steps)-1].output += line + "\n"
			continue
		}
		argv, complete := shellWords(cmd.String())
		open = !complete
		if complete {
			steps[len(steps)-1].argv = argv
		}
	}
	// `echo $?` shows the exit status of the command before it.
	var out []docStep
	for _, s := range steps {
		if slices.Equal(s.argv, []string{"echo", "$?"}) && len(out) > 0 {
			out[len(out)-1].status = strings.TrimSpace(s.output)
			continue
		}
		out = append(out, s)
	}
	return out
}

// shellWords splits a command line as sh would for the docs' simple commands:
// single and double quotes, a backslash before a newline, a comment from " #",
// and a trailing & (run in the background) dropped. complete is false while a
// quote is open or the line ends with a backslash.
func shellWords(s string) (words []string, complete bool) {
	var w strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
				continue
			}
			if quote == '"' && r == '\\' && i+1 < len(rs) && strings.ContainsRune(`"\$`, rs[i+1]) {
				i++
				r = rs[i]
			}
			w.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == '$' && i+1 < len(rs) && rs[i+1] == '(':
			// A command substitution is one piece of the word.
			end := strings.IndexRune(string(rs[i:]), ')')
			if end < 0 {
				return nil, false
			}
			end = len([]rune(string(rs[i:])[:end]))
			w.WriteString(string(rs[i : i+end+1]))
			i += end
			inWord = true
		case r == '\\' && i+1 < len(rs):
			i++
			if rs[i] != '\n' {
				w.WriteRune(rs[i])
				inWord = true
			}
		case r == '\\':
			return nil, false
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case r == '#' && !inWord:
			i = len(rs)
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, false
	}
	if inWord {
		words = append(words, w.String())
	}
	if n := len(words); n > 0 && words[n-1] == "&" {
		words = words[:n-1]
	}
	for i, w := range words {
		// The scripts' clock: events are sent as of now.
		words[i] = strings.ReplaceAll(w, "$(date -u +%FT%TZ)", "$NOW")
	}
	return words, true
}

// scriptStep is a command of a script and the outputs compared after it.
type scriptStep struct {
	argv    []string
	negated bool
}

// scriptOutputs reads a script: its commands, in order, and after which of
// them each cmp or cmpnorm compared an output with a file of the archive.
type scriptOutputs struct {
	name     string
	steps    []scriptStep
	compared map[int][]string // step index → texts compared after it
}

func readScript(t *testing.T, file string) scriptOutputs {
	t.Helper()
	a, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, f := range a.Files {
		files[f.Name] = string(f.Data)
	}
	s := scriptOutputs{name: file, compared: map[int][]string{}}
	for _, line := range strings.Split(string(a.Comment), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for strings.HasPrefix(line, "[") {
			_, line, _ = strings.Cut(line, "]")
			line = strings.TrimSpace(line)
		}
		neg := strings.HasPrefix(line, "! ")
		argv := scriptWords(strings.TrimPrefix(line, "! "))
		if len(argv) > 0 && argv[0] == "exec" {
			argv = argv[1:]
		}
		if n := len(argv); n > 0 && strings.HasPrefix(argv[n-1], "&") {
			argv = argv[:n-1]
		}
		if len(argv) == 3 && (argv[0] == "cmp" || argv[0] == "cmpnorm") && (argv[1] == "stdout" || argv[1] == "stderr") {
			for i := range s.steps {
				s.compared[i] = append(s.compared[i], files[strings.TrimPrefix(argv[2], "$WORK/")])
			}
			continue
		}
		s.steps = append(s.steps, scriptStep{argv, neg})
	}
	return s
}

// scriptWords splits a script line as testscript does: single quotes, two of
// them for one inside them.
func scriptWords(line string) []string {
	var words []string
	var w strings.Builder
	inWord, quoted := false, false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case quoted && c == '\'' && i+1 < len(line) && line[i+1] == '\'':
			w.WriteByte('\'')
			i++
		case c == '\'':
			quoted, inWord = !quoted, true
		case !quoted && (c == ' ' || c == '\t'):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words
}

// TestDocsAreScripted checks that every output a page shows is what a script
// compared after running the same command line, and that an exit status shown
// with `echo $?` is a failure there too (! before the command).
func TestDocsAreScripted(t *testing.T) {
	names, err := filepath.Glob("testdata/script/*.txtar")
	if err != nil {
		t.Fatal(err)
	}
	var scripts []scriptOutputs
	for _, n := range names {
		scripts = append(scripts, readScript(t, n))
	}
	checked := 0
	for _, file := range docFiles(t) {
		for _, step := range docSessions(t, file) {
			if step.argv == nil {
				t.Errorf("%s: a command whose quote never closes", step.where)
				continue
			}
			if step.output == "" && step.status == "" {
				continue // shown without output: nothing to check
			}
			checked++
			if !scripted(scripts, step) {
				t.Errorf("%s: no script in testdata/script runs %q and compares its output with\n%s(exit status %s)",
					step.where, step.argv, step.output, orElse(step.status, "not shown"))
			}
		}
	}
	if checked == 0 {
		t.Error("no output found in the docs: is the session format still \"$ command\" then its output?")
	}
}

func orElse(s, empty string) string {
	if s == "" {
		return empty
	}
	return s
}

// sameArg compares two arguments with their runs of spaces and newlines as
// one space: the docs break a long JSON body over lines, a script cannot.
func sameArg(a, b string) bool {
	return strings.Join(strings.Fields(a), " ") == strings.Join(strings.Fields(b), " ")
}

func scripted(scripts []scriptOutputs, step docStep) bool {
	for _, s := range scripts {
		for i, st := range s.steps {
			if !slices.EqualFunc(st.argv, step.argv, sameArg) {
				continue
			}
			if step.status != "" && st.negated != (step.status != "0") {
				continue
			}
			if step.output == "" {
				return true
			}
			for _, text := range s.compared[i] {
				if normalise(text, "") == normalise(step.output, "") {
					return true
				}
			}
		}
	}
	return false
}

// TestDocLinks checks that every relative link of README.md and docs/*.md
// reaches a file of the repository, and a heading of it when it names one.
func TestDocLinks(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)\s]+)\)`)
	for _, file := range docFiles(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(outsideCode(string(data)), -1) {
			target := m[1]
			if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path, anchor, _ := strings.Cut(target, "#")
			if path == "" {
				path = file
			} else {
				path = filepath.Join(filepath.Dir(file), path)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link %s: %v", file, target, err)
				continue
			}
			if anchor != "" && !slices.Contains(anchors(t, path), anchor) {
				t.Errorf("%s: link %s: %s has no heading #%s", file, target, path, anchor)
			}
		}
	}
}

// TestCodeDocLinks checks that every docs/NAME.md the Go code names (in a
// comment, usually, to say where a decision's figures are) is a page of docs/,
// with the heading its #anchor names.
func TestCodeDocLinks(t *testing.T) {
	link := regexp.MustCompile(`docs/([a-z0-9_-]+\.md)(#[A-Za-z0-9_-]+)?`)
	checked := 0
	err := filepath.WalkDir(repoRoot, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != repoRoot && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(data), "\n") {
			for _, m := range link.FindAllStringSubmatch(line, -1) {
				checked++
				page := filepath.Join(repoRoot, "docs", m[1])
				if _, err := os.Stat(page); err != nil {
					t.Errorf("%s:%d: %s: %v", path, i+1, m[0], err)
					continue
				}
				if anchor := strings.TrimPrefix(m[2], "#"); anchor != "" && !slices.Contains(anchors(t, page), anchor) {
					t.Errorf("%s:%d: %s: docs/%s has no heading #%s", path, i+1, m[0], m[1], anchor)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Error("no docs/NAME.md named in the Go code: is the form still docs/NAME.md#anchor?")
	}
}

// outsideCode is a Markdown text without its fenced blocks.
func outsideCode(s string) string {
	var b strings.Builder
	in := false
	for line := range strings.Lines(s) {
		if strings.HasPrefix(strings.TrimSpace(line), "```") {
			in = !in
			continue
		}
		if !in {
			b.WriteString(line)
		}
	}
	return b.String()
}

// anchors are the ids GitHub gives a Markdown file's headings: lower case,
// punctuation dropped but hyphens, spaces as hyphens; a heading met again
// takes -1, -2... after its id.
func anchors(t *testing.T, file string) []string {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	seen := map[string]int{}
	for line := range strings.Lines(outsideCode(string(data))) {
		text, ok := strings.CutPrefix(strings.TrimRight(line, "\n"), "#")
		if !ok {
			continue
		}
		text = strings.TrimSpace(strings.TrimLeft(text, "#"))
		var id strings.Builder
		for _, r := range strings.ToLower(text) {
			switch {
			case r == ' ':
				id.WriteRune('-')
			case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
				id.WriteRune(r)
			}
		}
		base, n := id.String(), seen[id.String()]
		seen[base]++
		if n > 0 {
			base = fmt.Sprintf("%s-%d", base, n)
		}
		ids = append(ids, base)
	}
	return ids
}
