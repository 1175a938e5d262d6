package rules_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigie-bot/vigie/bot"
	"github.com/vigie-bot/vigie/rules"
	"github.com/vigie-bot/vigie/store/memory"
)

// A pattern built while the rule runs is compiled once and kept: an event
// judged by matches(text, PATTERN-FROM-THE-TEXT) makes no more allocations
// than one judged by a constant pattern (expr's operator and our function
// compiled it at every call), and the compiles are counted.
func TestRuntimePatternKept(t *testing.T) {
	ctx := context.Background()
	n := 0
	next := func() bot.Event { // a new event each time: a retry is not judged again
		n++
		return msg("m"+strconv.Itoa(n), "u1", "(?i)gift free gift nitro", time.Unix(1e9, 0))
	}
	allocs := func(when string, built bool) float64 {
		t.Helper()
		eng := rules.NewEngine(parse(t, "rules:\n  - name: r\n    when: '"+when+"'\n"), memory.New(), rules.Options{})
		a, err := eng.Assess(ctx, next())
		if err != nil || len(a.Errors) > 0 || len(a.Verdict.Matches) != 1 {
			t.Fatalf("%s: err %v, errors %v, matches %v", when, err, a.Errors, a.Verdict.Matches)
		}
		defer func(before rules.PatternStats) {
			after := rules.RuntimePatternStats()
			if c := after.Compiled - before.Compiled; c > 1 {
				t.Errorf("%s: %d patterns compiled for one", when, c)
			}
			if h := after.Hits - before.Hits; built && h < 50 {
				t.Errorf("%s: %d patterns found kept, want 50 or more", when, h)
			}
		}(rules.RuntimePatternStats())
		// The least of three: what other goroutines allocate meanwhile (a
		// store's sweeper, the race detector's runtime) only adds.
		least := math.Inf(1)
		for range 3 {
			least = min(least, testing.AllocsPerRun(50, func() {
				a, err := eng.Assess(ctx, next())
				if err != nil || len(a.Verdict.Matches) != 1 {
					t.Fatalf("%s: err %v, matches %v", when, err, a.Verdict.Matches)
				}
			}))
		}
		return least
	}
	base := allocs(`matches(text, "(?i)gift")`, false)
	for _, when := range []string{
		`matches(text, split(text, " ")[0])`,
		`text matches (split(text, " ")[0] + " free")`,
		`matches(text, split(text, " ")[0] + " free")`,
		`any(split(text, " ")[:1], {text matches #})`,
	} {
		if got := allocs(when, true); got > base+12 {
			t.Errorf("%s: %.0f allocations an event, want about %.0f as for a constant pattern", when, got, base)
		}
	}
}

// A pattern built from a member's text that would cost much to compile is
// refused, an error of the rule, and counted.
func TestRuntimePatternBounded(t *testing.T) {
	ctx := context.Background()
	tests := []struct{ text, want string }{
		{strings.Repeat("a{1000}", 20), "40021 instructions or more, past 10000"},
		{`[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}[\p{L}\d]{1000}`, "past 10000"},
		{"(a{1000}){1000}", "invalid repeat count"}, // regexp/syntax's own bound
		{strings.Repeat("x", 2000), "2000 bytes, past 1024"},
		{"(unclosed", "missing closing )"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			eng := rules.NewEngine(parse(t, "rules:\n  - name: r\n    when: 'text matches (text + \"\")'\n"), memory.New(), rules.Options{})
			before := rules.RuntimePatternStats()
			a, err := eng.Assess(ctx, msg("m1", "u1", tc.text, time.Unix(1e9, 0)))
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Errors) != 1 || !strings.Contains(a.Errors[0].Err.Error(), tc.want) {
				t.Errorf("errors %v, want one saying %q", a.Errors, tc.want)
			}
			if r := rules.RuntimePatternStats().Refused - before.Refused; r != 1 {
				t.Errorf("%d refused, want 1", r)
			}
		})
	}
}
