package rules_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// Expressions whose cost grows with the message fail once they have built a
// megabyte of text, instead of taking seconds and a gigabyte on one event;
// the same functions on small text still work.
func TestTextBudget(t *testing.T) {
	big := strings.Repeat("a", 210_000)
	tests := []struct {
		when  string
		text  string
		match bool
	}{
		{`len(repeat(text, 5000)) > 0`, big, false},
		{`len(replace(text, "a", text)) > 0`, big, false},
		{`len(join(map(1..1000, text))) > 0`, big, false},
		{`len(reduce(1..1000, #acc + text, "")) > 0`, big, false},
		{`len(reduce(1..100, #acc + #acc, text)) > 0`, big, false},
		{`len(reduce(1..1000, #acc + upper(text), "")) > 0`, big, false},
		{`len(map(1..10000, upper(text))) > 0`, big, false},
		{`let a = text + text; let b = a + a; let c = b + b; len(c + c) > 0`, big, false},
		{`repeat(text, 2) == "hihi"`, "hi", true},
		{`replace(text, "h", "j") == "ji"`, "hi", true},
		{`join(["a", text], "-") == "a-hi"`, "hi", true},
		{`text + "!" + author.id + space == "hi!u1g1"`, "hi", true},
		{`reduce(1..3, #acc + text, "") == "hihihi"`, "hi", true},
		{`reduce(1..3, #acc + #, 0) == 6`, "hi", true},
		{`upper(text) == "HI"`, "hi", true},
	}
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			a := assessOne(t, "", tc.when, msg("m1", "u1", tc.text, time.Unix(1e9, 0)))
			if got := len(a.Verdict.Matches) == 1; got != tc.match {
				t.Errorf("matched %v, want %v", got, tc.match)
			}
			if !tc.match && (len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Err.Error(), "memory budget exceeded")) {
				t.Errorf("errors %v, want the rule's budget error", a.Errors)
			}
		})
	}
}

// toJSON indents each level of a list or a map two spaces more: fromJSON of
// 4,000 nested brackets, a comment of 8 KB, wrote 32 MB (0.3 s to 1.3 s) before the
// text budget counted its length. What it would write is weighed first:
// past the budget, the rule's error, without writing it. Small values are
// written as before.
func TestToJSONWeighedBeforeWritten(t *testing.T) {
	nested := strings.Repeat("[", 4000) + strings.Repeat("]", 4000)
	objects := strings.Repeat(`{"a":`, 1599) + "1" + strings.Repeat("}", 1599)
	tests := []struct {
		when, text string
		match      bool
	}{
		{`len(toJSON(fromJSON(text))) > 0`, nested, false},
		{`len(toJSON(fromJSON(text))) > 0`, objects, false},
		{`toJSON(fromJSON(text)[0]) != ""`, nested, false},
		{`toJSON(fromJSON(text)) == "[\n  [\n    1\n  ],\n  {\n    \"a\": \"b\"\n  }\n]"`, `[[1],{"a":"b"}]`, true},
		{`toJSON(fromJSON(text)) == "[]"`, `[]`, true},
		{`toJSON(split(text, " ")) == "[\n  \"a\",\n  \"b\"\n]"`, `a b`, true},
	}
	for _, tc := range tests {
		t.Run(tc.when+" "+tc.text[:min(len(tc.text), 12)], func(t *testing.T) {
			rs := parse(t, "rules:\n  - name: r\n    when: '"+tc.when+"'\n")
			eng := rules.NewEngine(rs, memory.New(), rules.Options{})
			ev := msg("m1", "u1", tc.text, time.Unix(1e9, 0))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			a, err := eng.Assess(context.Background(), ev)
			runtime.ReadMemStats(&after)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(a.Verdict.Matches) == 1; got != tc.match {
				t.Errorf("matched %v, want %v (errors %v)", got, tc.match, a.Errors)
			}
			if !tc.match && (len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Err.Error(), "memory budget exceeded")) {
				t.Errorf("errors %v, want the rule's budget error", a.Errors)
			}
			if mb := (after.TotalAlloc - before.TotalAlloc) >> 20; mb > 8 {
				t.Errorf("%d MB allocated for one event, want a few at most", mb)
			}
		})
	}
}

// Loops over what the member wrote stop after loopBudget turns: a rule that
// compares every link with every other took hours on a message of thousands
// of links, and held every event behind it. The same loops on a few links
// still work.
func TestLoopBudget(t *testing.T) {
	links := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "https://s%d.example.com/ ", i)
		}
		return b.String()
	}
	tests := []struct {
		when  string
		text  string
		match bool
	}{
		{`any(links, {any(links, {false})})`, links(1000), false},
		{`any(links, {any(links, {any(links, {false})})})`, links(100), false},
		{`any(links, {let l = #; count(links, {# == l}) > 1})`, links(400), false},
		{`len(map(split(text, ""), {upper(#)})) < 0`, strings.Repeat("x", 200_000), false},
		{`any(split(text, ""), {len(split(text, "")) < 0})`, strings.Repeat("x", 8000), false},
		{`len(split(text, " ")) == 3`, "a b c", true},
		{`any(links, {let l = #; count(links, {# == l}) > 1})`, links(5) + "https://s1.example.com/", true},
		{`any(links, {any(links, {any(links, {# == "https://s3.example.com/"})})})`, links(20), true},
		{`len(filter(split(text, ""), {# == "x"})) == 3`, "xaxbx", true},
		{`reduce(links, #acc + 1, 0) == 10`, links(10), true},
	}
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			a := assessOne(t, "", tc.when, msg("m1", "u1", tc.text, time.Unix(1e9, 0)))
			checkLoopBudget(t, a, tc.match)
		})
	}
}

// A scan of the whole text (or of a list) in a loop counts against the loop
// budget by the length it reads: text contains x at each of the 8,000 turns
// of a loop over an 8 KB message's letters read 64 MB, a second of one rule
// on one event, and stayed within the turns. A scan outside any loop, and
// scans in a loop over a few words, still run. So does len of a text, whose
// letters are counted: len(text) at each of 30,000 turns, on 30,000 Chinese
// letters, read 2.7 GB, 7.6 s.
func TestScanBudget(t *testing.T) {
	long := strings.Repeat("x", 8000)
	words := strings.TrimSpace(strings.Repeat("ab ", 8000))
	tests := []struct {
		when  string
		text  string
		match bool
	}{
		{`any(split(text, ""), {text contains "zz"})`, long, false},
		{`any(split(text, ""), {indexOf(text, "zz") > 0})`, long, false},
		{`any(split(text, ""), {lastIndexOf(text, "zz") > 0})`, long, false},
		{`any(split(text, ""), {len(split(text, "zz")) > 1})`, long, false},
		{`any(split(text, ""), {matches(text, "zz")})`, long, false},
		{`any(split(text, ""), {text matches "z{2}"})`, long, false},
		{`let w = split(text, " "); any(w, {# == "q" or !(# in w)})`, words, false},
		{`not (text contains "zz") and indexOf(text, "zz") < 0`, strings.Repeat("x", 1<<20), true},
		{`none(split("a b c d e f g h", " "), {text contains "zz" + #})`, long, true},
		{`any(split(text, ""), {# contains "x"})`, long, true},
		{`any(split(text, " "), {text contains "b"})`, "a b c", true},
		// len of a text counts its letters, all of them, at each turn
		{`any(0..7999, {len(text) < 0})`, strings.Repeat("漢", 8000), false},
		{`count(split(text, " "), {len(#) == 2}) > 100 and len(text) > 0`, words, true},
	}
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			a := assessOne(t, "", tc.when, msg("m1", "u1", tc.text, time.Unix(1e9, 0)))
			checkLoopBudget(t, a, tc.match)
		})
	}
}

// budgetCase is an expression run on one event: match says it matches
// without error; otherwise it must fail on the loop budget.
type budgetCase struct {
	when    string
	text    string
	forward string
	match   bool
}

func runBudgetCases(t *testing.T, tests []budgetCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			rs := parse(t, "lists:\n  w: [connard, idiot, abruti]\n  brands: [discord.gg, steamcommunity.com, paypal.com]\n"+
				"rules:\n  - name: r\n    when: '"+tc.when+"'\n")
			eng := rules.NewEngine(rs, memory.New(), rules.Options{})
			ev := msg("m1", "u1", tc.text, time.Unix(1e9, 0))
			if tc.forward != "" {
				ev.Forward = &bot.Forward{From: "channel", Text: tc.forward}
			}
			a, err := eng.Assess(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			checkLoopBudget(t, a, tc.match)
		})
	}
}

// assessOne assesses ev by one rule r, when, after the rule file's head
// (lists, vars).
func assessOne(t *testing.T, head, when string, ev bot.Event) rules.Assessment {
	t.Helper()
	rs := parse(t, head+"rules:\n  - name: r\n    when: '"+when+"'\n")
	a, err := rules.NewEngine(rs, memory.New(), rules.Options{}).Assess(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkLoopBudget checks a rule's assessment: matched when match, without
// error; else unmatched, with the one error of the rule's loop budget.
func checkLoopBudget(t *testing.T, a rules.Assessment, match bool) {
	t.Helper()
	if got := len(a.Verdict.Matches) == 1; got != match {
		t.Errorf("matched %v, want %v (errors %v)", got, match, a.Errors)
	}
	if match && len(a.Errors) > 0 {
		t.Errorf("errors %v, want none", a.Errors)
	}
	if !match && (len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Err.Error(), "loop budget exceeded")) {
		t.Errorf("errors %v, want the rule's loop budget error", a.Errors)
	}
}

// words are n distinct short words.
func words(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "w%d ", i)
	}
	return b.String()
}

// has_any analyses the text it is given, unless it is the event's content
// (analysed once an event): in a loop, has_any(text, ...) on a forward (the
// content is then more than the text) analysed the whole text at each of
// the loop's turns, 40 s on a message of 8,000 words. Each analysis in a
// loop counts against the loop budget by the bytes it reads.
func TestAnalysisBudget(t *testing.T) {
	runBudgetCases(t, []budgetCase{
		{when: `any(split(text, " "), {has_any(text, lists.w)})`, text: words(2000), forward: "x"},
		{when: `any(split(text, " "), {has_any(forward.text, lists.w)})`, text: words(2000), forward: words(2000)},
		{when: `any(split(text, " "), {has_any(#, lists.w)})`, text: words(2000) + "connard", forward: "x", match: true},
		{when: `any(split(text, " "), {has_any(content, lists.w)})`, text: words(2000) + "idiot", match: true},
		{when: `any(split(text, " "), {has_any(text, lists.w)})`, text: "a b idiot", forward: "x", match: true},
	})
}

// any_in, all_in, none_in and in read each item through the list's
// normalisation: in a loop over a message's links, any_in(links, ...) read
// every link at every turn, 16 s on a message of 4,000 links. Each call in
// a loop counts against the loop budget by the items and bytes it reads.
func TestListBudget(t *testing.T) {
	links := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "https://s%d.example.com/ ", i)
		}
		return b.String()
	}
	runBudgetCases(t, []budgetCase{
		{when: `any(links, {any_in(links, lists.w)})`, text: links(600)},
		{when: `all(links, {none_in(links, lists.w)})`, text: links(600)},
		{when: `any(split(text, " "), {forward.text in lists.w})`, text: words(2000), forward: words(2000)},
		{when: `any(links, {any_in(domains, lists.brands)})`, text: links(5) + " https://discord.gg/x", match: true},
		{when: `all(links, {none_in(links, lists.w)})`, text: links(20), match: true},
		{when: `any(split(text, " "), {# in lists.w})`, text: words(2000) + " abruti", match: true},
	})
}

// lookalike reads each item for the hosts it imitates (skeletons of every
// suffix): in a loop over a message's links, lookalike(links, ...) read
// every link at every turn, 70 s on a message of 4,000 links. Each call in
// a loop counts against the loop budget by the items and bytes it reads.
func TestLookalikeBudget(t *testing.T) {
	links := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "https://s%d.example.com/ ", i)
		}
		return b.String()
	}
	runBudgetCases(t, []budgetCase{
		{when: `any(links, {lookalike(links, lists.brands)})`, text: links(300)},
		{when: `any(split(text, " "), {lookalike(links, lists.brands)})`, text: links(300)},
		{when: `any(links, {lookalike(split(#, " "), lists.brands)})`, text: links(300) + " https://d1scord.gg/x", match: true},
		{when: `any(links, {lookalike(links, lists.brands)})`, text: links(5) + " https://d1scord.gg/x", match: true},
	})
}

// uniq compared each item with every distinct one kept before it: on a
// message of 50,000 distinct words, len(uniq(split(text, " "))) made a
// billion comparisons, minutes of one rule, outside any loop. Text and
// numbers are now told apart by a set; items of other kinds are compared as
// before, each comparison a turn of the loop budget.
func TestUniqBudget(t *testing.T) {
	links := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "https://s%d.example.com/ ", i)
		}
		return b.String()
	}
	runBudgetCases(t, []budgetCase{
		{when: `len(uniq(map(links, [#]))) > 0`, text: links(600)},
		{when: `len(uniq(map(links, [#]))) == 3`, text: links(3) + links(3), match: true},
		{when: `len(uniq(split(text, " "))) == 2001`, text: words(2000) + words(2000), match: true},
		{when: `uniq([1, 2.0, 1.0, 2, "a", "a", true]) == [1, 2.0, "a", true]`, text: "x", match: true},
		{when: `uniq(concat(1..4, 1..4)) == [1, 2, 3, 4]`, text: "x", match: true},
		// numbers made by / are float64: told apart by a set as well (uniq
		// of 2,000 of them was refused at load, 2,000,000 comparisons)
		{when: `len(uniq(map(1..2000, # / 2))) == 2000 and len(uniq(map(1..2000, # % 7 / 2))) == 7`, text: "x", match: true},
		{when: `len(uniq([0.5, -0.0, 0.0, 0.5, 1.5])) == 3`, text: "x", match: true},
	})
}

// A pattern built while the rule runs is compiled (then kept, 256 at most):
// in a loop over a message's words, text matches # compiled a pattern at
// each turn, tens of microseconds each. Each call in a loop with such a
// pattern counts against the loop budget as a compile, by the pattern's
// length, whether it was kept or not, so that the budget does not depend on
// the events before.
func TestPatternBudget(t *testing.T) {
	runBudgetCases(t, []budgetCase{
		{when: `any(split(text, " "), {"x" matches #})`, text: words(400)},
		{when: `any(split(text, " "), {matches("x", "^" + # + "$")})`, text: words(400)},
		{when: `any(split(text, " "), {"w7" matches #})`, text: words(10), match: true},
		{when: `any(split(text, " "), {# matches "^w7$"})`, text: words(2000), match: true},
	})
}

// A pattern built while the rule runs from a member's name is matched by
// Go's regexp holding a thread for each of its instructions that may be
// under way at each byte: the name x{1,999}x{1,999}x{1,999}x{1,999}y (35
// bytes, some 8,000 instructions) matched against 8,000 x of the same
// member's message took 0.86 s, outside any loop, at each message. The match
// counts against the budget by the text's bytes times the pattern's
// instructions; a name as members have, on a long text in any script, is
// still matched.
func TestRuntimePatternMatchBudget(t *testing.T) {
	long := strings.Repeat("x", 8000)
	han := strings.Repeat("漢", 8000) // 24,000 bytes
	longName := strings.Repeat("漢字", 32)
	tests := []struct {
		when, name, text string
		match            bool
	}{
		{`text matches author.name`, "x{1,999}x{1,999}x{1,999}x{1,999}y", long, false},
		{`matches(text, "(?i)" + author.name)`, ".{0,999}.{0,999}.{0,999}.{0,999}.{0,999}y", long, false},
		{`matches(text, "(?i)" + author.name)`, "Jean-Pierre Dupont", long + " merci jean-pierre dupont", true},
		{`text matches author.name`, longName, han + longName, true},
		{`any(1..3, {text matches author.name})`, "Zoé", long + "Zoé", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := parse(t, "rules:\n  - name: r\n    when: '"+tc.when+"'\n")
			eng := rules.NewEngine(rs, memory.New(), rules.Options{})
			ev := msg("m1", "u1", tc.text, time.Unix(1e9, 0))
			ev.Author.Name = tc.name
			a, err := eng.Assess(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			checkLoopBudget(t, a, tc.match)
		})
	}
}

// In a loop, a value whose type is known only when the rule runs (a var of
// the community, what fromJSON made) is counted without being taken for
// text: len(#) > community.vars.max_word was refused at load ('mismatched
// types int and string'), keys of a fromJSON map too, and j == j in a loop
// failed at each event ('interface conversion'). A list made by fromJSON
// is counted when scanned in a loop, as a list of the event is.
func TestValuesKnownAtRunTimeInALoop(t *testing.T) {
	long := "[" + strings.Repeat("1,", 4000) + "1]"
	tests := []struct {
		when, text string
		match      bool
	}{
		{`count(split(text, " "), {len(#) > community.vars.max_word}) > 1`, "a " + strings.Repeat("b", 40) + " " + strings.Repeat("c", 31), true},
		{`any(domains, {# != community.vars.home})`, "https://example.com/ https://spam.example/", true},
		{`let j = fromJSON(text); any(1..3, {j == j})`, `[1, 2]`, true},
		{`let j = fromJSON(text); any(1..3, {len(keys(j)) > 1 and j.a == #})`, `{"a": 1, "b": [1, 2]}`, true},
		{`let j = fromJSON(text); any(1..3, {len(concat(j.b, j.b)) == 4 and 2 in j.b and "a" in j})`, `{"a": 1, "b": [1, 2]}`, true},
		{`let j = fromJSON(text); any(1..40000, {1.5 in j})`, long, false},
	}
	for _, tc := range tests {
		t.Run(tc.when, func(t *testing.T) {
			a := assessOne(t, "vars:\n  max_word: 30\n  home: example.com\n", tc.when, msg("m1", "u1", tc.text, time.Unix(1e9, 0)))
			checkLoopBudget(t, a, tc.match)
		})
	}
}

// fromJSON, float, int and date parse the text they are given,
// timezone loads a time zone: in a loop over a message's words,
// fromJSON(forward.text) parsed the forward at each turn, 7 s on 8,000
// words, and timezone(...) took some 16 µs a call. Each call in a loop
// counts against the loop budget by the text it parses, a time zone by the
// call.
func TestParseBudget(t *testing.T) {
	list := `["` + strings.Repeat(`abcdefgh","`, 1100) + `"]`
	number := "0." + strings.Repeat("0", 12000) + "1"
	runBudgetCases(t, []budgetCase{
		{when: `any(split(text, " "), {len(fromJSON(forward.text)) < 0})`, text: words(200), forward: list},
		{when: `any(split(text, " "), {float(forward.text) < 0})`, text: words(200), forward: number},
		{when: `any(split(text, " "), {timezone("Europe/Paris") == nil})`, text: words(2000)},
		{when: `all(split(text, ","), {float(#) > 0 and int(#) > 0 and duration(# + "s") >= duration("1s")})`, text: "1,2,3", match: true},
		{when: `len(fromJSON(forward.text)) == 1101`, text: "x", forward: list, match: true},
		{when: `all(split(text, " "), {len(fromJSON(#)) == 1})`, text: "[1] [2]", match: true},
	})
}

// The builtins that walk, copy or sort a list (uniq, sort, concat, flatten,
// reverse, take, keys, toPairs, toJSON, max, ...) and the comparisons of
// text or lists (==, startsWith, hasPrefix, ...) do work by their
// operands' length: in a loop over a message's links, uniq(links) made the
// list unique at each turn, 20 s on 4,000 links; forward.text != text
// compared two long texts at each turn of a loop as long as the budget. Each of them in a loop
// counts against the loop budget by the items and bytes it reads.
func TestListBuiltinBudget(t *testing.T) {
	links := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "https://s%d.example.com/ ", i)
		}
		return b.String()
	}
	long := strings.Repeat("ab", 40_000)
	runBudgetCases(t, []budgetCase{
		{when: `any(links, {len(uniq(links)) < 0})`, text: links(800)},
		{when: `any(links, {len(take(links, 1000)) < 0})`, text: links(800)},
		{when: `any(split(text, " "), {forward.text != text})`, text: long + " " + words(400), forward: long + " " + words(400)},
		{when: `any(split(text, " "), {not (text startsWith forward.text)})`, text: long + " " + words(400), forward: long + " " + words(400)},
		{when: `any(split(text, " "), {not hasPrefix(text, forward.text)})`, text: long + " " + words(400), forward: long + " " + words(400)},
		{when: `let g = groupBy(links, #); any(links, {len(keys(g)) + len(values(g)) + len(toPairs(g)) < 0})`, text: links(800)},
		{when: `let g = groupBy(links, len(#)); any(links, {len(keys(g)) == 1 and len(g[23]) == 5})`, text: links(5), match: true},
		{when: `any(links, {len(uniq(links)) == 5 and last(sort(links)) == "https://s4.example.com/"})`, text: links(5) + links(5), match: true},
		{when: `any(split(text, " "), {# == "w3" and text startsWith "w0" and hasSuffix(#, "3")})`, text: words(2000), match: true},
		{when: `all(split(text, " "), {len(concat([#], links)) == 6 and max(map(links, len(#))) == 23})`, text: links(5), match: true},
	})
}

// has_any on a text other than the content answers for each list and each
// text, the analysis of the last such text being kept for the next call.
func TestHasAnyOtherTexts(t *testing.T) {
	runBudgetCases(t, []budgetCase{
		{when: `has_any(text, lists.w) and not has_any(text, lists.brands) and has_any(forward.text, lists.w)`, text: "t idiot", forward: "f abruti", match: true},
		{when: `not has_any(text, lists.w) and has_any(forward.text, lists.w) and not has_any(text, lists.w)`, text: "t", forward: "f abruti", match: true},
		{when: `not (has_any(forward.text, lists.w) or has_any(text, lists.w) or has_any(forward.text, lists.w))`, text: "t", forward: "f", match: true},
	})
}
