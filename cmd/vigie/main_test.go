package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot/daemon"
	"github.com/vigie-bot/vigie/bot/daemon/listentest"
	"github.com/vigie-bot/vigie/store"
	"github.com/vigie-bot/vigie/store/redis"
	"github.com/vigie-bot/vigie/store/redis/redistest"
)

// syncBuffer is a bytes.Buffer the daemon's goroutines may log into.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type result struct {
	code           int
	stdout, stderr string
}

// runIn runs the command line in-process, as main would, with stdin and an
// environment of the test's choosing, on the wall clock.
func runIn(ctx context.Context, stdin string, env map[string]string, args ...string) result {
	return runOn(ctx, time.Now, stdin, env, args...)
}

// runOn is runIn on the clock now (cli.now).
func runOn(ctx context.Context, now func() time.Time, stdin string, env map[string]string, args ...string) result {
	return runLogged(ctx, now, stdin, env, &syncBuffer{}, args...)
}

// runLogged is runOn writing its stderr to stderr, which the test may read
// while it runs.
func runLogged(ctx context.Context, now func() time.Time, stdin string, env map[string]string, stderr *syncBuffer, args ...string) result {
	var stdout syncBuffer
	c := &cli{
		stdin:  strings.NewReader(stdin),
		stdout: &stdout,
		stderr: stderr,
		getenv: func(k string) string { return env[k] },
		now:    now,
		reload: make(chan struct{}),
	}
	code := c.run(ctx, args)
	return result{code, stdout.String(), stderr.String()}
}

func run(args ...string) result { return runIn(context.Background(), "", nil, args...) }

func lines(s ...string) string { return strings.Join(s, "\n") + "\n" }

func (r result) check(t *testing.T, code int, stdout, stderr string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d (stderr %q)", r.code, code, r.stderr)
	}
	if r.stdout != stdout {
		t.Errorf("stdout\n%s\nwant\n%s", r.stdout, stdout)
	}
	if r.stderr != stderr {
		t.Errorf("stderr\n%s\nwant\n%s", r.stderr, stderr)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"good file, with its warning", []string{"check", "--config", "testdata/good.yaml"}, 0, lines(
			"testdata/good.yaml:4:18: warning: desk.telegram_chat: environment variable VIGIE_TEST_UNSET_CHAT is not set",
			"testdata/good.yaml: ok (3 rules, 1 counter, 2 lists, 2 tests)",
		), ""},
		{"single dash flag", []string{"check", "-config", "testdata/failing.yaml"}, 0, lines(
			"testdata/failing.yaml: ok (1 rule, 0 counters, 1 list, 2 tests)",
		), ""},
		{"a file with only the faq", []string{"check", "--config", "testdata/faq_only.yaml"}, 0, lines(
			`testdata/faq_only.yaml:2:1: warning: no "rules" key: this file only answers questions; write "rules: []" to say so (a vigie whose rules run refuses to reload a file without it)`,
			"testdata/faq_only.yaml: ok (0 rules, 0 counters, 0 lists, 0 tests, 2 faq entries)",
		), ""},
		{"broken file: every problem, one a line, on stdout", []string{"check", "--config=testdata/broken.yaml"}, 1, lines(
			`testdata/broken.yaml:7:11: rule "insult": when: unknown name txt (did you mean text?)`,
			`testdata/broken.yaml:10:20: rule "flood": when: unknown counter counters.msgs (the file declares no counters)`,
			`testdata/broken.yaml:11:18: rule "flood": timeout: invalid duration "banana" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
		), ""},
		{"rules that fail at run time are warnings", []string{"check", "--config", "testdata/erroring.yaml"}, 0, lines(
			`testdata/erroring.yaml:2:22: warning: counter "first_link" fails at run time on 3 of 5 sample events; on a join: index out of range: 0 (array length is 0) (1:6)`,
			`testdata/erroring.yaml:5:11: warning: rule "number" fails at run time on 5 of 5 sample events; on a message with links and mentions: invalid operation: int(Salut @bob, regarde https://bit.ly/promo et www.example.com 🔥 VITE!!) (1:1)`,
			"testdata/erroring.yaml: ok (2 rules, 1 counter, 0 lists, 1 test)",
		), ""},
		{"missing file", []string{"check", "--config", "testdata/nope.yaml"}, 1, "", lines(
			"vigie check: read rule file: testdata/nope.yaml: no such file or directory",
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(tt.args...).check(t, tt.code, tt.stdout, tt.stderr)
		})
	}
}

// A rule file nested 500,000 parentheses deep used to overflow the stack, a
// fatal error nothing recovers: check refuses it with its position instead.
func TestCheckDeepFile(t *testing.T) {
	const n = 500_000
	dir := t.TempDir()
	files := map[string]string{
		"parens.yaml": "rules:\n  - name: deep\n    when: " + strings.Repeat("(", 60) + "true" + strings.Repeat(")", 60) + "\n",
		"long.yaml":   "rules:\n  - name: deep\n    when: " + strings.Repeat("(", n) + "true" + strings.Repeat(")", n) + "\n",
		"yaml.yaml":   "rules: " + strings.Repeat("[", n) + "\n",
	}
	want := map[string]string{
		"parens.yaml": `:3:61: rule "deep": when: brackets nested more than 50 deep`,
		"long.yaml":   `:3:11: rule "deep": when: the expression is 1000004 characters long, more than 20000`,
		"yaml.yaml":   `:1:1: exceeded max depth of 10000`,
	}
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
				t.Fatal(err)
			}
			run("check", "--config", path).check(t, 1, lines(path+want[name]), "")
		})
	}
}

// With no --config, vigie looks for rules.yaml then rules.example.yaml in the
// working directory, and falls back to the starter pack built in.
func TestCheckDefaultConfig(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	good, err := os.ReadFile(filepath.Join(wd, "testdata/failing.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Chdir(dir)
	r := run("check")
	last := strings.TrimSuffix(r.stdout[strings.LastIndex(strings.TrimSuffix(r.stdout, "\n"), "\n")+1:], "\n")
	if r.code != 0 || !strings.HasPrefix(last, "(embedded) rules.example.yaml: ok (") || !strings.HasSuffix(last, " rules)") {
		t.Errorf("empty folder: exit %d, stdout %q; want the embedded starter pack, described by its rules", r.code, r.stdout)
	}
	if err := os.WriteFile("rules.yaml", good, 0o600); err != nil {
		t.Fatal(err)
	}
	run("check").check(t, 0, lines("rules.yaml: ok (1 rule, 0 counters, 1 list, 2 tests)"), "")
}

func TestTest(t *testing.T) {
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"all pass", []string{"test", "--config", "testdata/good.yaml"}, 0, lines(
			"2 passed, 0 failed",
		), ""},
		{"verbose lists the passing tests", []string{"test", "-v", "--config", "testdata/good.yaml"}, 0, lines(
			"PASS testdata/good.yaml:25: nitro is spam",
			"PASS testdata/good.yaml:30: three messages in two seconds are a flood",
			"2 passed, 0 failed",
		), ""},
		{"a failure", []string{"test", "--config", "testdata/failing.yaml"}, 1, lines(
			"FAIL testdata/failing.yaml:15: a compliment is an insult",
			"    line 19: event 1 (t1): expected rules [insult], got []",
			"1 passed, 1 failed",
		), ""},
		{"run-time failures are warnings, per rule", []string{"test", "--config", "testdata/erroring.yaml"}, 0, lines(
			`testdata/erroring.yaml:2:22: warning: counter "first_link" failed 2 times at run time in the tests; first in "a number": index out of range: 0 (array length is 0) (1:6)`,
			`testdata/erroring.yaml:5:11: warning: rule "number" failed 1 time at run time in the tests; first in "a number": invalid operation: int(twelve) (1:1)`,
			"1 passed, 0 failed",
		), ""},
		{"a broken file", []string{"test", "--config", "testdata/broken.yaml"}, 1, lines(
			`testdata/broken.yaml:7:11: rule "insult": when: unknown name txt (did you mean text?)`,
			`testdata/broken.yaml:10:20: rule "flood": when: unknown counter counters.msgs (the file declares no counters)`,
			`testdata/broken.yaml:11:18: rule "flood": timeout: invalid duration "banana" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
		), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(tt.args...).check(t, tt.code, tt.stdout, tt.stderr)
		})
	}
}

// testdata/events.jsonl with testdata/good.yaml, worked out by hand. Only
// enforced rules flag; insult is in shadow mode, so m2 is not flagged and
// insult is scored apart:
//
//	m1 spam  spam-words  spam tp, abuse tn, overall tp
//	m2 ok    insult      tn everywhere; insult: fp (ok is not abuse), unflagged (+fp)
//	m3 abuse -           spam tn, abuse fn, overall fn
//	m4 no "at": skipped, line 4
//	m5 ok    -           tn everywhere
const wantReplayJSON = `{
  "events": 4,
  "flagged": 1,
  "shadow_only": 1,
  "skipped": 1,
  "duplicates": 0,
  "labelled": 4,
  "by_rule": {
    "flood": 0,
    "insult": 1,
    "spam-words": 1
  },
  "by_category": {
    "abuse": {
      "tp": 0,
      "fp": 0,
      "fn": 1,
      "tn": 3,
      "precision": 0,
      "recall": 0,
      "f1": 0,
      "false_positive_rate": 0
    },
    "flood": {
      "tp": 0,
      "fp": 0,
      "fn": 0,
      "tn": 4,
      "precision": 0,
      "recall": 0,
      "f1": 0,
      "false_positive_rate": 0
    },
    "spam": {
      "tp": 1,
      "fp": 0,
      "fn": 0,
      "tn": 3,
      "precision": 1,
      "recall": 1,
      "f1": 1,
      "false_positive_rate": 0
    }
  },
  "overall": {
    "tp": 1,
    "fp": 0,
    "fn": 1,
    "tn": 2,
    "precision": 1,
    "recall": 0.5,
    "f1": 0.667,
    "false_positive_rate": 0
  },
  "shadow": {
    "insult": {
      "category": "abuse",
      "hits": 1,
      "tp": 0,
      "fp": 1,
      "precision": 0,
      "unflagged": 1,
      "unflagged_tp": 0,
      "unflagged_fp": 1
    }
  }
}
`

func TestReplay(t *testing.T) {
	events, err := os.ReadFile("testdata/events.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	skipped := func(file string) string { return lines(file + `:4: missing field "at"`) }
	t.Run("json", func(t *testing.T) {
		run("replay", "--config", "testdata/good.yaml", "--format", "json", "testdata/events.jsonl").
			check(t, 0, wantReplayJSON, skipped("testdata/events.jsonl"))
	})
	t.Run("flags after the files, one decoding worker", func(t *testing.T) {
		run("replay", "testdata/events.jsonl", "--config", "testdata/good.yaml", "-format=json", "--workers", "1").
			check(t, 0, wantReplayJSON, skipped("testdata/events.jsonl"))
	})
	t.Run("stdin", func(t *testing.T) {
		runIn(context.Background(), string(events), nil, "replay", "--config", "testdata/good.yaml", "--format", "json", "-").
			check(t, 0, wantReplayJSON, skipped("-"))
	})
	t.Run("text", func(t *testing.T) {
		run("replay", "--config", "testdata/good.yaml", "testdata/events.jsonl").check(t, 0, lines(
			"events       4",
			"flagged      1   25.0%",
			"shadow only  1   25.0%",
			"skipped      1",
			"labelled     4  100.0%",
			"",
			"rule        hits",
			"spam-words     1",
			"insult         1  shadow",
			"flood          0",
			"",
			"category   tp  fp  fn  tn  precision  recall     f1  fp rate",
			"abuse       0   0   1   3      0.000   0.000  0.000    0.000",
			"flood       0   0   0   4      0.000   0.000  0.000    0.000",
			"spam        1   0   0   3      1.000   1.000  1.000    0.000",
			"(overall)   1   0   1   2      1.000   0.500  0.667    0.000",
			"",
			"shadow rule  category  hits  tp  fp  precision  unflagged  overall +tp  +fp",
			"insult          abuse     1   0   1      0.000          1            0    1",
		), skipped("testdata/events.jsonl"))
	})
	t.Run("decisions", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "decisions.jsonl")
		r := run("replay", "--config", "testdata/good.yaml", "--decisions", out, "testdata/events.jsonl")
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var got []string
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var d struct {
				ID      string `json:"id"`
				Label   string `json:"label"`
				Verdict struct {
					EventID string `json:"event_id"`
					Matches []struct {
						Rule   string `json:"rule"`
						Shadow bool   `json:"shadow"`
					} `json:"matches"`
				} `json:"verdict"`
			}
			if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
				t.Fatalf("%q: %v", sc.Text(), err)
			}
			s := d.ID + " " + d.Label + " " + d.Verdict.EventID
			for _, m := range d.Verdict.Matches {
				s += fmt.Sprintf(" %s(shadow=%v)", m.Rule, m.Shadow)
			}
			got = append(got, s)
		}
		want := []string{"m1 spam m1 spam-words(shadow=false)", "m2 ok m2 insult(shadow=true)",
			"m3 abuse m3", "m5 ok m5"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("decisions\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
	t.Run("run-time failures per rule", func(t *testing.T) {
		r := run("replay", "--config", "testdata/erroring.yaml", "--format", "json", "testdata/events.jsonl")
		var sum struct {
			RuleErrors map[string]struct {
				Count      int    `json:"count"`
				First      string `json:"first"`
				FirstEvent string `json:"first_event"`
			} `json:"rule_errors"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || r.code != 0 {
			t.Fatalf("exit %d, %v: %s", r.code, err, r.stdout)
		}
		got := fmt.Sprint(sum.RuleErrors)
		want := "map[counters.first_link:{4 index out of range: 0 (array length is 0) (1:6) m1} number:{4 invalid operation: int(free nitro) (1:1) m1}]"
		if got != want {
			t.Errorf("rule errors\n%s\nwant\n%s", got, want)
		}
		r = run("replay", "--config", "testdata/erroring.yaml", "testdata/events.jsonl")
		if !strings.Contains(r.stdout, "\nrule errors          events") ||
			!strings.Contains(r.stdout, "\nnumber                    4         m1: invalid operation: int(free nitro) (1:1)\n") {
			t.Errorf("text summary lacks the rule errors:\n%s", r.stdout)
		}
	})
	t.Run("a missing file fails before replaying", func(t *testing.T) {
		run("replay", "--config", "testdata/good.yaml", "testdata/events.jsonl", "testdata/nope.jsonl").
			check(t, 1, "", lines("vigie replay: stat testdata/nope.jsonl: no such file or directory"))
	})
	t.Run("a broken rule file", func(t *testing.T) {
		r := run("replay", "--config", "testdata/broken.yaml", "testdata/events.jsonl")
		if r.code != 1 || !strings.HasPrefix(r.stdout, "testdata/broken.yaml:7:11: ") {
			t.Errorf("exit %d, stdout %q; want 1 and the problems", r.code, r.stdout)
		}
	})
	t.Run("no progress line when stderr is not a terminal", func(t *testing.T) {
		// stderr above held exactly the skipped lines; nothing else was written.
		r := run("replay", "--config", "testdata/good.yaml", "--format", "json", "testdata/events.jsonl")
		if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "events/s") {
			t.Errorf("stderr %q has a progress line", r.stderr)
		}
	})
}

func TestUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		// the first line expected on stderr
		stderr string
	}{
		{"no command", nil, "vigie watches community spaces and moderates them by the rules in a YAML file."},
		{"unknown command", []string{"moderate"}, `vigie: unknown command "moderate"`},
		{"unknown flag", []string{"check", "--banana"}, "flag provided but not defined: -banana"},
		{"flag without its value", []string{"replay", "--format"}, "flag needs an argument: -format"},
		{"bad flag value", []string{"replay", "--workers", "many", "x.jsonl"}, `invalid value "many" for flag -workers: parse error`},
		{"check takes no argument", []string{"check", "rules.yaml"}, `vigie check: unexpected argument "rules.yaml" (the file is given with --config)`},
		{"test takes no argument", []string{"test", "x"}, `vigie test: unexpected argument "x" (the file is given with --config)`},
		{"run takes no argument", []string{"run", "x"}, `vigie run: unexpected argument "x"`},
		{"run log level", []string{"run", "--log.level", "loud"}, `vigie run: --log.level: "loud": want debug, info, warn or error`},
		{"run log format", []string{"run", "--log.format", "xml"}, `vigie run: --log.format: "xml": want text or json`},
		{"run on a port alone", []string{"run", "--listen", "8080"}, `vigie run: --listen (or VIGIE_LISTEN): "8080": want HOST:PORT, like 127.0.0.1:8080 (this machine only) or :8080 (every address)`},
		{"version takes no argument", []string{"version", "x"}, `vigie version: unexpected argument "x"`},
		{"replay needs files", []string{"replay", "--format", "json"}, "vigie replay: no events to replay: give one or more JSON Lines files, or - for stdin"},
		{"replay format", []string{"replay", "--format", "xml", "x.jsonl"}, `vigie replay: unknown format "xml" (want text or json)`},
		{"replay stdin twice", []string{"replay", "-", "-"}, "vigie replay: stdin (-) can be read only once"},
		{"replay decisions to stdout", []string{"replay", "--decisions", "-", "x.jsonl"}, "vigie replay: --decisions needs a file: stdout holds the summary"},
		{"replay negative workers", []string{"replay", "--workers", "-1", "x.jsonl"}, "vigie replay: --workers must be 0 or more"},
		{"help for an unknown command", []string{"help", "moderate"}, `vigie: unknown command "moderate"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(tt.args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2", r.code)
			}
			if first, _, _ := strings.Cut(r.stderr, "\n"); first != tt.stderr {
				t.Errorf("stderr starts with %q, want %q\n%s", first, tt.stderr, r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if !strings.Contains(r.stderr, "usage: vigie") {
				t.Errorf("stderr has no usage line:\n%s", r.stderr)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	tests := []struct {
		args  []string
		first string
		has   string
	}{
		{[]string{"help"}, "vigie watches community spaces and moderates them by the rules in a YAML file.", "  replay   replay recorded events"},
		{[]string{"-h"}, "vigie watches community spaces and moderates them by the rules in a YAML file.", "usage: vigie <command>"},
		{[]string{"--help"}, "vigie watches community spaces and moderates them by the rules in a YAML file.", "usage: vigie <command>"},
		{[]string{"help", "replay"}, "usage: vigie replay [--config FILE] [--format text|json] [--decisions OUT.jsonl] [--workers N] [--model NAME=FILE|off] [--compare] EVENTS.jsonl...", "-decisions FILE"},
		{[]string{"replay", "-h"}, "usage: vigie replay [--config FILE] [--format text|json] [--decisions OUT.jsonl] [--workers N] [--model NAME=FILE|off] [--compare] EVENTS.jsonl...", "-format text|json"},
		{[]string{"check", "--help"}, "usage: vigie check [--config FILE]", "-config FILE"},
		{[]string{"run", "-h"}, "usage: vigie run [--config FILE] [--listen ADDR] [--redis URL]", "(env VIGIE_REDIS_URL, or VIGIE_REDIS_URL_FILE)"},
		{[]string{"test", "-h"}, "usage: vigie test [--config FILE] [-v]", "list the tests that pass too"},
		{[]string{"version", "-h"}, "usage: vigie version ", "Print the version"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(tt.args...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
			}
			if first, _, _ := strings.Cut(r.stdout, "\n"); first != tt.first {
				t.Errorf("first line %q, want %q", first, tt.first)
			}
			if !strings.Contains(r.stdout, tt.has) {
				t.Errorf("stdout lacks %q:\n%s", tt.has, r.stdout)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "--version", "-version"} {
		r := run(arg)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("%s: exit %d, stderr %q", arg, r.code, r.stderr)
		}
		out := strings.Split(r.stdout, "\n")
		if out[0] != "vigie dev" || !strings.HasPrefix(out[1], "go1.") {
			t.Errorf("%s: output starts %q, want vigie dev then the Go version", arg, out[:2])
		}
	}
}

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// runListening runs vigie run in-process on the clock now with env (its
// VIGIE_LISTEN set to listentest.AnyPort) and args, and returns what it did
// once it ends and the address it listens on, read in its log or, its log
// level above INFO, in the admin token's address file it wrote.
func runListening(t *testing.T, ctx context.Context, now func() time.Time, env map[string]string, args ...string) (<-chan result, string) {
	t.Helper()
	env["VIGIE_LISTEN"] = listentest.AnyPort
	var logs syncBuffer
	done, ended := make(chan result, 1), make(chan struct{})
	go func() {
		done <- runLogged(ctx, now, "", env, &logs, append([]string{"run"}, args...)...)
		close(ended)
	}()
	said := func() string {
		if addrs := daemon.MadeTokenAddrs(func(k string) string { return env[k] }); len(addrs) == 1 {
			return logs.String() + "http events on (the admin token's file) addr=" + addrs[0] + "\n"
		}
		return logs.String()
	}
	return done, listentest.BoundAddr(t, "vigie run", said, ended, time.Minute)
}

// tokenDir sets VIGIE_ADMIN_TOKEN_DIR in env, unless env gives the admin
// token or says where it goes: a directory of the test's own, where vigie
// run writes the token it makes and vigie cases reads it, as they would in
// the user's own directory.
func tokenDir(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{"VIGIE_ADMIN_TOKEN", "VIGIE_ADMIN_TOKEN_FILE", "VIGIE_ADMIN_TOKEN_DIR", "XDG_RUNTIME_DIR", "HOME"} {
		if env[k] != "" {
			return
		}
	}
	env["VIGIE_ADMIN_TOKEN_DIR"] = filepath.Join(t.TempDir(), "vigie")
}

// runUntilServing runs vigie run with env and args (VIGIE_LISTEN is set to
// listentest.AnyPort), waits until it answers /healthz with 200, cancels it
// as SIGINT would, and returns what it did.
func runUntilServing(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	tokenDir(t, env)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done, addr := runListening(t, ctx, time.Now, env, args...)
	for {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case r := <-done:
			t.Fatalf("vigie run ended before serving: exit %d\n%s", r.code, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	return <-done
}

// vigie run serves until its context is cancelled (SIGINT, SIGTERM), then exits 0;
// VIGIE_LISTEN sets the address when --listen is not given.
func TestRunServesUntilCancelled(t *testing.T) {
	if r := runUntilServing(t, map[string]string{}, "--config", "testdata/good.yaml"); r.code != 0 {
		t.Errorf("exit %d after cancel, want 0\n%s", r.code, r.stderr)
	}
}

// --log.format json writes one JSON object a line, --log.level (or their
// VIGIE_LOG_* variables) leaves out what is below it.
func TestRunLogFlags(t *testing.T) {
	levels := func(env map[string]string, args ...string) map[string]int {
		r := runUntilServing(t, env, append([]string{"--config", "testdata/good.yaml"}, args...)...)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		seen := map[string]int{}
		for line := range strings.Lines(r.stderr) {
			var entry struct{ Level, Msg string }
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				t.Errorf("not a JSON line: %q", line)
				continue
			}
			seen[entry.Level]++
		}
		return seen
	}
	if got := levels(map[string]string{}, "--log.format", "json"); got["INFO"] == 0 {
		t.Errorf("--log.format json: levels %v, want INFO lines", got)
	}
	if got := levels(map[string]string{"VIGIE_LOG_LEVEL": "warn", "VIGIE_LOG_FORMAT": "json"}); got["INFO"] != 0 || got["DEBUG"] != 0 {
		t.Errorf("VIGIE_LOG_LEVEL=warn: levels %v, want none below WARN", got)
	}
}

// vigie run sets the collector's GOGC to runGCPercent, unless the
// environment sets GOGC, which the runtime has read.
func TestRunGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	if r := runUntilServing(t, map[string]string{}, "--config", "testdata/good.yaml"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got := debug.SetGCPercent(50); got != runGCPercent {
		t.Errorf("GOGC unset: the collector's percent is %d, want %d", got, runGCPercent)
	}
	if r := runUntilServing(t, map[string]string{"GOGC": "50"}, "--config", "testdata/good.yaml"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("GOGC=50: the collector's percent is %d, want 50 as the runtime read it", got)
	}
}

// A file with only the faq: runs the assistant alone.
func TestRunFAQOnly(t *testing.T) {
	if r := runUntilServing(t, map[string]string{}, "--config", "testdata/faq_only.yaml"); r.code != 0 {
		t.Errorf("exit %d after cancel, want 0\n%s", r.code, r.stderr)
	}
}

// An address another program listens on stops vigie run with what to do.
func TestRunAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	addr := l.Addr().String()
	env := map[string]string{"VIGIE_LISTEN": addr}
	tokenDir(t, env)
	r := runIn(context.Background(), "", env, "run", "--config", "testdata/good.yaml")
	want := "vigie run: " + addr + " is taken by another program (another vigie run?): stop it, or give this vigie another address with --listen HOST:PORT (or VIGIE_LISTEN)\n"
	if r.code != 1 || !strings.HasSuffix(r.stderr, want) {
		t.Errorf("exit %d, stderr %q; want 1, ending with %q", r.code, r.stderr, want)
	}
}

// A port below 1024 refused to a user without the right, and an address of
// no interface, are told what to do, as net.Listen reports them.
func TestListenHint(t *testing.T) {
	refused := func(errno syscall.Errno) error {
		return fmt.Errorf("listen: %w", &net.OpError{Op: "listen", Net: "tcp", Err: os.NewSyscallError("bind", errno)})
	}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{refused(syscall.EACCES), "ports below 1024 need root or the CAP_NET_BIND_SERVICE capability: listen on a port from 1024 up (--listen 127.0.0.1:8080) and put a proxy in front for 80 or 443"},
		{refused(syscall.EADDRNOTAVAIL), "no network interface of this machine has the address 10.9.9.9:80: give one it has with --listen HOST:PORT (127.0.0.1:8080 for this machine only, :8080 for every address)"},
		{errors.New("store: redis url"), ""},
	} {
		if got := listenHint(tt.err, "10.9.9.9:80"); got != tt.want {
			t.Errorf("listenHint(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestRunBrokenFile(t *testing.T) {
	r := runIn(context.Background(), "", map[string]string{"VIGIE_LISTEN": freeAddr(t)},
		"run", "--config", "testdata/broken.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "testdata/broken.yaml:11:18: ") {
		t.Errorf("exit %d, stderr %q; want 1 and the file's problems", r.code, r.stderr)
	}
}

// vigie faq --eval measures the FAQ on a file of messages and lists the misses;
// an expectation naming no entry is refused, not counted as a miss.
func TestFAQEval(t *testing.T) {
	r := run("faq", "--config", "testdata/faq_only.yaml", "--eval", "testdata/faq_eval.tsv")
	for _, want := range []string{
		"questions: 2\n  right:       1   50.0%\n  wrong:       0    0.0%\n  abstained:   1   50.0%",
		"others (chit-chat, praise, insults, off-topic): 1\n  answered:    0    0.0%\n",
		"all messages: 3, answered wrong 0 (0.0%)\n",
		`line 4: want delivery, got silent`,
	} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("exit %d, stdout\n%s\nwant %q\nstderr %s", r.code, r.stdout, want, r.stderr)
		}
	}
	r = run("faq", "--config", "testdata/faq_only.yaml", "--eval", "testdata/faq_eval_unknown.tsv")
	if want := "vigie faq: testdata/faq_eval_unknown.tsv: line 2: no faq entry \"prices\" (an entry id, or none)\n"; r.code != 1 || r.stderr != want {
		t.Errorf("exit %d, stderr %q, want 1 and %q", r.code, r.stderr, want)
	}
	if r := run("faq", "--config", "testdata/faq_only.yaml", "--eval", "testdata/faq_eval.tsv", "vos horaires ?"); r.code != 2 {
		t.Errorf("--eval and a question: exit %d, want 2", r.code)
	}
}

// vigie faq asks a question as a member would now, on vigie's clock: an
// unanswered question is forwarded after the office hours of the starter pack
// (Paris), on a public holiday, and left alone in them.
func TestFAQAskedOnTheClock(t *testing.T) {
	for _, tc := range []struct {
		name string
		at   time.Time
		want string
	}{
		{"a Friday at 15:00 in Paris", time.Date(2026, 11, 20, 14, 0, 0, 0, time.UTC), "silent"},
		{"a Friday at 22:00 in Paris", time.Date(2026, 11, 20, 21, 0, 0, 0, time.UTC), "forward"},
		{"a Saturday at 11:00 in Paris", time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), "silent"},
		{"Christmas at 11:00 in Paris", time.Date(2026, 12, 25, 10, 0, 0, 0, time.UTC), "forward"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runOn(context.Background(), clockFrom(tc.at), "", nil, "faq", "--config", "../../rules.example.yaml", "--format", "json",
				"est-ce que vous savez réparer un vélo ?")
			if want := `{"decision":"` + tc.want + `",`; r.code != exitOK || !strings.HasPrefix(r.stdout, want) {
				t.Errorf("exit %d, stdout %q, want %s...\nstderr %s", r.code, r.stdout, want, r.stderr)
			}
		})
	}
}

// vigie faq --learned lists, entry by entry, the intents each inherits and
// why, and the wordings the CMs taught from the desk, read from the store of
// vigie run; without a Redis store, the entries and their intents alone.
func TestFAQLearned(t *testing.T) {
	url := redistest.Start(t).URL()
	st, err := redis.Open(url)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, w := range []store.FAQWording{
		{Entry: "hours", Text: "c'est ouvert lundi ?", By: "telegram:42", At: at},
		{Entry: "gone", Text: "et les soldes ?", By: "discord:7", At: at.Add(time.Minute)},
	} {
		if err := st.LearnFAQ(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	// On a clock of the wordings' day, an hour after the first was taught.
	r := runOn(context.Background(), clockFrom(at.Add(time.Hour)), "", nil, "faq", "--learned", "--config", "testdata/faq_only.yaml", "--redis", url)
	want := lines(
		"2 wordings taught from the desk",
		"hours (2 examples, 1 taught; intents: hours)",
		`  intent hours: asked by "quels sont vos horaires ?" (0.62), "what are your opening hours?" (0.62)`,
		`  "c'est ouvert lundi ?" by telegram:42 at 2026-01-05T10:00:00Z`,
		"delivery (2 examples, 0 taught; intents: delivery)",
		`  intent delivery: asked by "combien de temps pour la livraison ?" (0.94), "how long does shipping take?" (0.90)`,
		`not in the file: gone: "et les soldes ?" by discord:7`,
	)
	if r.code != 0 || r.stdout != want {
		t.Errorf("exit %d, stdout\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
	}
	r = runIn(context.Background(), "", map[string]string{}, "faq", "--learned", "--config", "testdata/faq_only.yaml")
	want = lines(
		"no store read: the wordings taught from the desk are in the Redis store of vigie run (--redis URL or VIGIE_REDIS_URL); a memory store keeps them only while vigie runs",
		"hours (2 examples; intents: hours)",
		`  intent hours: asked by "quels sont vos horaires ?" (0.62), "what are your opening hours?" (0.62)`,
		"delivery (2 examples; intents: delivery)",
		`  intent delivery: asked by "combien de temps pour la livraison ?" (0.94), "how long does shipping take?" (0.90)`,
	)
	if r.code != 0 || r.stdout != want {
		t.Errorf("without a store: exit %d, stdout\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
	}
	// An intent named by intent:, one asked by an example, one of the
	// family of an intent asked: each says why.
	r = runIn(context.Background(), "", map[string]string{}, "faq", "--learned", "--config", "testdata/faq_intents.yaml")
	want = lines(
		"no store read: the wordings taught from the desk are in the Redis store of vigie run (--redis URL or VIGIE_REDIS_URL); a memory store keeps them only while vigie runs",
		"returns (2 examples; intents: returns, refund, exchange, damaged)",
		`  intent returns: asked by "comment retourner un article ?" (0.89)`,
		"  intent refund: in the family of returns, which it asks; no entry asks refund itself",
		"  intent exchange: in the family of returns, which it asks; no entry asks exchange itself",
		"  intent damaged: in the family of returns, which it asks; no entry asks damaged itself",
		"boutique (1 examples; intents: stores)",
		"  intent stores: named by its intent: key",
		// a gift wrapped in a "paquet" asks, as the lexicon reads it,
		// where a parcel is: the CM sees it on day one
		"gifts (1 examples; intents: tracking, not_received)",
		"  intent tracking: in the family of not_received, which it asks; no entry asks tracking itself",
		`  intent not_received: asked by "vous faites des paquets cadeaux ?" (0.52)`,
	)
	if r.code != 0 || r.stdout != want {
		t.Errorf("intents: exit %d, stdout\n%s\nwant\n%s\nstderr %s", r.code, r.stdout, want, r.stderr)
	}
}
