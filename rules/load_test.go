package rules_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigie-bot/vigie/rules"
)

func noEnv(string) (string, bool) { return "", false }

// Each broken file pins every message it must produce, in order, with its
// position: a CM reads these at 3 a.m. on a phone.
func TestBadFiles(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"bad_duration.yaml", []string{
			`2:34: counter "msgs": window: invalid duration "10x" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
			`3:35: counter "links": window: invalid duration "-5m": must be positive`,
			`6:41: rule "slow": when: invalid duration "3 days" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
		}},
		{"bad_hours_mode.yaml", []string{
			`4:12: rule "night": hours must be after, office or always, got "night"`,
			`5:11: rule "night": mode must be enforce or shadow, got "loud"`,
		}},
		{"bad_office_hours.yaml", []string{
			`1:11: timezone: unknown time zone "Europe/Pariss" (like Europe/Paris or UTC)`,
			`3:3: office_hours: unknown day "mun" (did you mean "mon"?)`,
			`4:8: office_hours: sat: bad range "9-13" (want like "09:00-19:00")`,
			`5:8: office_hours: sun: range "19:00-09:00" ends before it starts (split a night range at midnight)`,
			`6:26: holidays: bad date "25/12/2026" (want YYYY-MM-DD, or a country code such as FR)`,
		}},
		{"bad_regex.yaml", []string{
			"3:25: rule \"fn\": when: matches: bad regular expression: missing closing ): `(unclosed`",
			"5:25: rule \"op\": when: matches: bad regular expression: invalid character class range: `z-a`",
		}},
		{"bad_tests.yaml", []string{
			`7:21: test "t": event: unknown key "autor" (did you mean "author"?)`,
			`8:25: test "t": event: at: bad time "yesterday" (want RFC 3339 like 2026-01-05T23:30:00+01:00, or 2026-01-05 23:30 in the file's timezone)`,
			`10:17: test "t": event: no event 9 (the test has 2)`,
			`10:28: test "t": unknown rule "flod" (did you mean "flood"?)`,
			`11:33: test "t": actions: unknown action "explode" (known: delete, hide, reply, warn, timeout, kick, ban, strike, forward, alert, tag, lockdown, slowmode)`,
			`12:9: test "t": an expectation needs rules, actions, counters, duplicate or alerts`,
			`13:31: test "t": counters: unknown counter "msg" (did you mean "msgs"?)`,
		}},
		{"broken_counter.yaml", []string{
			`2:34: counter "msgs": window: invalid duration "10 seconds" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
			`3:10: counter "links": missing key "key" (what to count by, like author.id)`,
		}},
		{"counter_scope.yaml", []string{
			`2:50: counter "a": when: a counter cannot read counters (they are counted together)`,
			`3:13: counter "b": key: a counter cannot read strikes()`,
			`4:12: counter "c": key: expected string, but got bool`,
		}},
		{"duplicate_names.yaml", []string{
			`3:3: lists: list "spam" declared twice (first at line 2)`,
			`6:3: counters: counter "msgs" declared twice (first at line 5)`,
		}},
		{"duplicate_rule.yaml", []string{
			`4:11: rule "flood": name used twice (first at line 2)`,
		}},
		{"missing_list_file.yaml", []string{
			`2:19: list "insults": cannot read testdata/bad/lists/nope.txt: no such file or directory`,
			`3:10: list "other": missing key "file"`,
			`3:11: list "other": unknown key "path"`,
		}},
		{"misspelt_field.yaml", []string{
			`3:18: rule "bob": when: unknown field author.nme (did you mean author.name?)`,
			`5:11: rule "txt": when: unknown name txt (did you mean text?)`,
			`7:11: rule "state": when: unknown name __state`,
			`9:19: rule "arg": when: unknown name txt (did you mean text?)`,
			`9:43: rule "arg": when: unknown name domainz (did you mean domains?)`,
		}},
		{"pathological.yaml", []string{
			`3:21: rule "memory": when: the expression uses too much memory (memory budget exceeded)`,
			`5:31: rule "nested": when: the expression uses too much memory (memory budget exceeded)`,
		}},
		{"positions.yaml", []string{
			`7:20: rule "folded": when: unknown counter counters.nope (known: msgs)`,
			`11:15: rule "literal": when: unknown list lists.nope (the file declares no lists)`,
			`13:34: rule "quoted": when: unknown name nope`,
			`15:32: rule "single": when: unknown name nope`,
			`17:11: rule "flow": when: expected a string, got a mapping`,
		}},
		{"timeout_banana.yaml", []string{
			`4:18: rule "t": timeout: invalid duration "banana" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
			`4:35: rule "t": timeout needs a duration, like timeout(10m)`,
			`4:44: rule "t": ban: invalid duration "forever" (want a number and a unit: 30s, 10m, 2h, 7d, 1w)`,
		}},
		{"too_many_test_events.yaml", []string{
			`11:25: test "t3": event: the tests have more than 20000 events in all, repeats included: keep them to what shows each rule's work (vigie replay is for a large history)`,
		}},
		{"too_deep.yaml", []string{
			`4:62: rule "parens": when: brackets nested more than 50 deep`,
			`12:60: rule "lists": when: brackets nested more than 50 deep`,
		}},
		{"too_deep_yaml.yaml", []string{
			`6:74: the file nests more than 64 levels deep`,
		}},
		{"unknown_action.yaml", []string{
			`4:18: rule "a": unknown action "tiemout" (did you mean "timeout"?)`,
			`4:32: rule "a": unknown action "explode" (known: delete, hide, reply, warn, timeout, kick, ban, strike, forward, alert, tag, lockdown, slowmode)`,
			`4:41: rule "a": reply needs a text, like reply("...")`,
			`4:52: rule "a": delete takes no argument`,
			`4:67: rule "a": warn: unknown field {{author.nom}} (did you mean {{author.name}}?)`,
		}},
		{"unknown_counter.yaml", []string{
			`5:20: rule "flood": when: unknown counter counters.msg (did you mean counters.msgs?)`,
			`8:20: rule "other": when: unknown counter counters.nope (known: msgs)`,
		}},
		{"unknown_key.yaml", []string{
			`2:1: rule file: unknown key "rulez" (did you mean "rules"?)`,
			`4:5: rule "flood": missing key "when"`,
			`5:5: rule "flood": unknown key "whn" (did you mean "when"?)`,
		}},
		// What other bots' files call them: the message says vigie's word.
		{"other_bots_keys.yaml", []string{
			`3:5: rule "flood": missing key "when"`,
			`4:5: rule "flood": unknown key "condition" (vigie's word for it is "when")`,
			`5:5: rule "flood": unknown key "actions" (vigie's word for it is "do")`,
		}},
		{"unknown_list.yaml", []string{
			`5:31: rule "insult": when: unknown list lists.insult (did you mean lists.insults?)`,
			`8:33: rule "domains": when: unknown list lists.shorteners (known: insults)`,
		}},
		{"wrong_type.yaml", []string{
			`2:15: counter "msgs": key: expected string, but got int`,
			`5:11: rule "text": when: expected bool, but got string`,
			`7:12: rule "number": when: expected bool, but got int`,
		}},
		{"wrong_types.yaml", []string{
			`1:11: timezone: expected a string, got a list`,
			`3:18: desk.telegram_chat: expected a string, got a mapping`,
			`4:9: desk.cms: "bob" is not platform:id (like telegram:123456789)`,
			`6:3: list name "bad-name" must be a word of letters, digits and _ (it is written lists.NAME in expressions)`,
			`8:14: faq: threshold: expected a number, got a string`,
			`13:16: faq entry "x": private: expected true or false, got a string`,
			`18:15: rule "r": category: expected a string, got a list`,
		}},
		{"yaml_syntax.yaml", []string{
			`3:1: found unexpected end of stream: a quote, [ or { is opened and never closed (a text with {{…}} in a list goes in quotes as a whole: 'warn("Merci {{author.name}}")')`,
		}},
		{"expr_syntax.yaml", []string{
			`4:16: rule "equals": when: unexpected =: compare with ==, as in text == "hello"`,
			`7:24: rule "dangling": when: the expression ends too early: an and, or or operator with nothing after it, or a bracket or quote never closed`,
			`10:22: rule "bracket": when: unexpected ): closes a bracket that was never opened`,
			`13:21: rule "quote": when: a text's quote is never closed`,
		}},
		{"inline_list.yaml", []string{
			`5:25: rule "inline": when: has_any takes a list of the file as its second argument, lists.NAME: declare it under lists: (NAME: [a, b], or NAME: {file: FILE}) and write lists.NAME`,
			`8:25: rule "text": when: has_any takes a list of the file as its second argument, lists.NAME: declare it under lists: (NAME: [a, b], or NAME: {file: FILE}) and write lists.NAME`,
			`11:27: rule "domains": when: any_in takes a list of the file as its second argument, lists.NAME: declare it under lists: (NAME: [a, b], or NAME: {file: FILE}) and write lists.NAME`,
			`14:30: rule "lookalike": when: lookalike takes a list of the file as its second argument, lists.NAME: declare it under lists: (NAME: [a, b], or NAME: {file: FILE}) and write lists.NAME`,
		}},
		{"yaml_tab.yaml", []string{
			`5:1: a tab in the indentation: YAML indents with spaces only`,
		}},
		{"yaml_tab_after_plain.yaml", []string{
			`5:1: a tab in the indentation: YAML indents with spaces only`,
		}},
		// The parser names the line where the list began (rules:); the
		// mistake is the line that lines up with nothing above it.
		{"yaml_indent.yaml", []string{
			`6:4: did not find expected '-' indicator: this line is not indented as the lines above it: the keys of one rule (or of one mapping) line up, and so do the items of a list`,
		}},
		{"yaml_key_at_item.yaml", []string{
			`4:3: did not find expected '-' indicator: this line is not indented as the lines above it: the keys of one rule (or of one mapping) line up, and so do the items of a list`,
		}},
		{"yaml_over_indent_in_list.yaml", []string{
			`10:10: did not find expected key: this line is indented more than the key above it; the keys of one rule (or of one mapping) line up`,
		}},
		{"yaml_over_indent.yaml", []string{
			`5:6: mapping values are not allowed in this context: this line is indented more than the key above it; the keys of one rule (or of one mapping) line up`,
		}},
		{"bad_owners.yaml", []string{
			`2:22: owner "shop": "https://mybrand-store.com/" is not a domain (write it alone, like example.com)`,
			`3:10: owner "blog": "blog.mybrand.fr" is under mybrand.fr: write mybrand.fr (its subdomains are its owner's already)`,
			`3:27: owner "blog": mybrand.fr is declared at line 2 already (a domain has one owner)`,
			`4:11: owner "short": mybrand.fr is declared at line 2 already (a domain has one owner)`,
			`4:23: owner "short": "bit.ly" forwards to any site: its links never show where they lead`,
			`5:10: owner "host": "github.io" is a suffix under which anyone gets a name, not one owner's domain`,
			`6:3: owner "one": give two domains at least (one owner's sites that link to each other)`,
			`7:3: owner "mixed": discord.com and steamcommunity.com are two owners' (discord's and valve's): write one owner's domains in a group`,
			`8:3: owners: owner "shop" declared twice (first at line 2)`,
			`9:9: owner "list": expected a list, got a string`,
		}},
		{"action_colon.yaml", []string{
			`5:27: rule "a": unknown action "warn(\"Attention": the action was cut at a ": " in its text; put the whole action in quotes, like 'warn("…: …")'`,
		}},
	}
	seen := map[string]bool{}
	for _, tc := range tests {
		seen[tc.file] = true
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join("testdata", "bad", tc.file)
			rs, err := rules.Parse(path, mustRead(t, path), rules.LoadOptions{LookupEnv: noEnv})
			if err == nil {
				t.Fatalf("loaded %s with %d rules, want errors", path, len(rs.Rules))
			}
			var le *rules.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("error is %T, want *rules.LoadError: %v", err, err)
			}
			var got []string
			for _, p := range le.Problems {
				if p.File != path {
					t.Errorf("problem names file %q, want %q", p.File, path)
				}
				got = append(got, strings.TrimPrefix(p.String(), path+":"))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
	// every file in testdata/bad is pinned here
	files, _ := filepath.Glob(filepath.Join("testdata", "bad", "*.yaml"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no expected errors in TestBadFiles", f)
		}
	}
}

// A pathological expression is refused at load by its size.
func TestTooManyNodes(t *testing.T) {
	cond := "mentions > 0" + strings.Repeat(" and mentions > 0", 200)
	src := fmt.Sprintf("rules:\n  - name: big\n    when: %s\n", cond)
	_, err := rules.Parse("big.yaml", []byte(src), rules.LoadOptions{LookupEnv: noEnv})
	// the position is where the parser gave up counting
	want := `: rule "big": when: compilation failed: expression exceeds maximum allowed nodes`
	if err == nil || !strings.HasPrefix(err.Error(), "big.yaml:3:") || !strings.HasSuffix(err.Error(), want) {
		t.Fatalf("got %v, want big.yaml:3:COL%s", err, want)
	}
}

// A file nested 500,000 deep crashed the process on reload (a stack overflow
// is fatal, not a panic): it is refused before expr's parser or the YAML
// decoder recurses into it.
func TestDeepNesting(t *testing.T) {
	const n = 500_000
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"parentheses", "rules:\n  - name: deep\n    when: |\n      " + strings.Repeat("(", n) + "true" + strings.Repeat(")", n) + "\n",
			`deep.yaml:3:11: rule "deep": when: the expression is 1000005 characters long, more than 20000`},
		{"parentheses within the length", "rules:\n  - name: deep\n    when: " + strings.Repeat("(", 9000) + "true" + strings.Repeat(")", 9000) + "\n",
			`deep.yaml:3:61: rule "deep": when: brackets nested more than 50 deep`},
		{"counter key", "counters:\n  c: {key: '" + strings.Repeat("[", 60) + "', window: 1m}\nrules: [{name: r, when: 'true'}]\n",
			`deep.yaml:2:63: counter "c": key: brackets nested more than 50 deep`},
		{"yaml flow", "rules: " + strings.Repeat("[", n) + "\n", `deep.yaml:1:1: exceeded max depth of 10000`},
		{"yaml blocks", "rules:\n" + deepBlocks(200), `deep.yaml:64:65: the file nests more than 64 levels deep`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse("deep.yaml", []byte(tc.src), rules.LoadOptions{LookupEnv: noEnv})
			var le *rules.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LoadError", err)
			}
			if got := le.Problems[0].String(); !strings.HasPrefix(got, tc.want) || len(le.Problems) != 1 {
				t.Errorf("got %q (of %d problems), want %q", got, len(le.Problems), tc.want)
			}
		})
	}
}

// deepBlocks is a block mapping nested n levels, one level a line.
func deepBlocks(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%sk%d:\n", strings.Repeat(" ", i+2), i)
	}
	return b.String()
}

func TestLoadMissingFile(t *testing.T) {
	_, err := rules.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("got %v, want a not-exist error", err)
	}
}

// Files made to hurt: alias bombs and loops, expressions that eat memory.
// An expression refused for its budget is placed where it ran out.
func TestHostileFiles(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // the first and last messages
	}{
		{"alias loop", "rules: [&r {name: a, when: 'true', <<: *r}]\n",
			[]string{`1:40: alias *r refers to itself`}},
		{"alias bomb", "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" +
			"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n" +
			"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nrules: *f\n",
			[]string{`6:12: the file expands to more than 200000 nodes through its aliases`}},
		// No alias at all: the count once met a nil alias and crashed vigie
		// check, and vigie run on a SIGHUP.
		{"a huge inline list", "lists:\n  huge: [" + strings.Repeat("w, ", 200_000) + "w]\n",
			[]string{`2:599992: the file has more than 200000 YAML nodes: put a long list in a list file (lists: NAME: {file: …})`}},
		{"many problems", "rules: [" + strings.Repeat("1, ", 150) + "]\n",
			[]string{`1:9: rules[0]: expected a mapping, got a number`, `1:306: and 50 more problems`}},
		{"memory", "rules:\n  - name: m\n    when: 'len(repeat(\"x\", 100000000)) > 0'\n",
			[]string{`3:16: rule "m": when: the expression uses too much memory (memory budget exceeded)`}},
		{"loops", "rules:\n  - name: l\n    when: 'let r = 1..99; any(r, {any(r, {any(r, {false})})})'\n",
			[]string{`3:51: rule "l": when: the expression's loops take more than 100000 turns (loop budget exceeded)`}},
		// what a call in a loop costs counts on the empty event of the load
		{"calls in a loop", "rules:\n  - name: z\n    when: 'any(1..999, {timezone(\"UTC\") == nil})'\n",
			[]string{`3:34: rule "z": when: timezone in a loop counts 512 turns a call: the expression's loops take more than 100000 turns (loop budget exceeded)`}},
		{"uniq of lists", "rules:\n  - name: u\n    when: 'len(uniq(map(1..999, [#]))) > 0'\n",
			[]string{`3:16: rule "u": when: uniq: the expression's loops take more than 100000 turns (loop budget exceeded)`}},
		// a loop of 200 turns, refused for what its calls count: the error
		// is where it ran out, and says what counted
		{"patterns built in a loop", "rules:\n  - name: p\n    when: 'any(map(1..200, \"n\" + string(#)), {text matches \"(?i)\\\\b\" + # + \"\\\\b\"})'\n",
			[]string{`3:74: rule "p": when: a pattern built in a loop counts 512 turns a call and 16 a byte, as a compile (a list with has_any, or one pattern built outside the loop, costs less): the expression's loops take more than 100000 turns (loop budget exceeded)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := rules.Parse("h.yaml", []byte(tc.src), rules.LoadOptions{LookupEnv: noEnv})
			var le *rules.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("got %v, want a *LoadError", err)
			}
			first := strings.TrimPrefix(le.Problems[0].String(), "h.yaml:")
			last := strings.TrimPrefix(le.Problems[len(le.Problems)-1].String(), "h.yaml:")
			if first != tc.want[0] || last != tc.want[len(tc.want)-1] {
				t.Errorf("got first %q, last %q (of %d), want %q", first, last, len(le.Problems), tc.want)
			}
		})
	}
}
