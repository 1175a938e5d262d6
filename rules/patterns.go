package rules

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"sync"
	"sync/atomic"
)

// Patterns built while a rule runs (matches(text, "(?i)" + author.name)) are
// compiled once and kept, up to runtimePatternCap of them: compiling one at
// every call of every event cost more than the match. Such a pattern may be
// made of a member's text, so it is bounded before it is compiled: Go's
// regexp matches in linear time, but (a{1000}){1000} is a million
// instructions to compile and hold, from 14 bytes.
const (
	// runtimePatternCap is how many patterns built at run time are kept
	// compiled; past it, the oldest kept gives its place.
	runtimePatternCap = 256
	// runtimePatternMax is the longest pattern built at run time, in bytes.
	runtimePatternMax = 1024
	// runtimeProgMax bounds the instructions such a pattern compiles to,
	// as counted from its parse (repeats multiplied out).
	runtimeProgMax = 10_000
)

// runtimeMatchUnit is the bytes of text times the pattern's instructions a
// match of a pattern built at run time reads for one turn of the loop
// budget, in a loop or not. Go's regexp holds a thread for each instruction
// that may be under way at each byte: a member's name of 35 bytes
// (x{1,999}x{1,999}x{1,999}x{1,999}y, 4,000 instructions) matched against
// 8,000 x of their own message took 0.86 s, outside any loop, at each of
// their messages.
const runtimeMatchUnit = 32

// chargeMatch counts the match of pat, built while the rule runs, against s
// by the budget: len(s) times its instructions, runtimeMatchUnit a turn.
func (st *evalState) chargeMatch(s string, pat *pattern) error {
	if pat.size == 0 {
		return nil
	}
	n := int64(len(s)) * pat.size / runtimeMatchUnit
	if n > int64(loopBudget-st.turns) {
		st.turns = loopBudget + 1
		return fmt.Errorf("matches: a pattern built while the rule runs, of about %d instructions, on %d bytes of text: %w", pat.size, len(s), errLoopBudget)
	}
	st.turns += int(n)
	return nil
}

// PatternStats counts the patterns built while rules run, since the
// process started: found kept, compiled, and refused (too long, too big, or
// not a regular expression).
type PatternStats struct {
	Hits, Compiled, Refused uint64
}

var (
	patternHits, patternCompiled, patternRefused atomic.Uint64
	runtimePatterns                              = patternCache{m: make(map[string]*pattern, runtimePatternCap)}
)

// RuntimePatternStats returns the counts of the patterns built while rules
// run.
func RuntimePatternStats() PatternStats {
	return PatternStats{Hits: patternHits.Load(), Compiled: patternCompiled.Load(), Refused: patternRefused.Load()}
}

// patternCache keeps the compiled patterns built at run time, the oldest
// given up first.
type patternCache struct {
	mu    sync.Mutex
	m     map[string]*pattern
	order [runtimePatternCap]string
	next  int
}

// runtimePattern returns r compiled, from the cache when it is there.
func runtimePattern(r string) (*pattern, error) {
	c := &runtimePatterns
	c.mu.Lock()
	p, ok := c.m[r]
	c.mu.Unlock()
	if ok {
		patternHits.Add(1)
		return p, nil
	}
	if len(r) > runtimePatternMax {
		patternRefused.Add(1)
		return nil, fmt.Errorf("matches: a pattern built while the rule runs is %d bytes, past %d", len(r), runtimePatternMax)
	}
	tree, err := syntax.Parse(r, syntax.Perl)
	if err != nil {
		patternRefused.Add(1)
		return nil, fmt.Errorf("matches: %w", err)
	}
	if n := progSize(tree); n > runtimeProgMax {
		patternRefused.Add(1)
		return nil, fmt.Errorf("matches: a pattern built while the rule runs would compile to %d instructions or more, past %d", min(n, 1<<40), runtimeProgMax)
	}
	re, err := regexp.Compile(r)
	if err != nil {
		patternRefused.Add(1)
		return nil, fmt.Errorf("matches: %w", err)
	}
	patternCompiled.Add(1)
	p = newPattern(re)
	p.size = progSize(tree)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[r]; !ok {
		if len(c.m) >= runtimePatternCap {
			delete(c.m, c.order[c.next])
		}
		c.order[c.next] = r
		c.next = (c.next + 1) % runtimePatternCap
		c.m[r] = p
	}
	return p, nil
}

// progSize is about the instructions re compiles to, repeats multiplied
// out, saturated far past any bound.
func progSize(re *syntax.Regexp) int64 {
	const most = 1 << 40
	switch re.Op {
	case syntax.OpLiteral:
		return int64(len(re.Rune)) + 1
	case syntax.OpRepeat:
		n := re.Max
		if n < 0 {
			n = re.Min
		}
		return min(int64(max(n, 1))*progSize(re.Sub[0])+1, most)
	}
	var n int64 = 1
	for _, s := range re.Sub {
		n = min(n+progSize(s), most)
	}
	return n
}
